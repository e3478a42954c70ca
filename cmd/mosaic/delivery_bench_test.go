package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// latencyReceiver notes when each forwarded event and each audience entry
// arrives, by the event's messageId or the profile's user ID.
type latencyReceiver struct {
	mu      sync.Mutex
	arrived map[string]time.Time
}

func (h *latencyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, _ := io.ReadAll(r.Body)
	var m struct {
		Type string `json:"type"`
		Data struct {
			MessageID string `json:"messageId"`
			Profile   struct {
				UserID string `json:"user_id"`
			} `json:"profile"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &m)
	key := m.Data.MessageID
	if m.Type == "audience.entered" {
		key = "enter:" + m.Data.Profile.UserID
	}
	h.mu.Lock()
	if _, ok := h.arrived[key]; !ok {
		h.arrived[key] = now
	}
	h.mu.Unlock()
}

// BenchmarkAckToWebhook measures, through the real server (SQLite), the
// time from the Tracking API's 200 to the webhook arriving at a local
// receiver, for a forwarded event and for the audience entry an identify
// causes, at a moderate load of 100 tracks and 100 identifies per second.
func BenchmarkAckToWebhook(b *testing.B) {
	rcv := &latencyReceiver{arrived: map[string]time.Time{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	var cli CLI
	parser, err := kong.New(&cli, kong.Configuration(configLoader), kong.DefaultEnvars("MOSAIC"), kong.Exit(func(int) {}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := parser.Parse([]string{"serve", "--data", b.TempDir(), "--addr", "127.0.0.1:0", "--admin-token", testToken,
		"--log-level", "warn", "--webhook-allow-cidr", "127.0.0.0/8", "--consent-default", "grant"}); err != nil {
		b.Fatal(err)
	}
	m := NewMain(cli.Serve, io.Discard)
	if err := m.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = m.Close(context.Background()) }()
	post := func(path, body string, h http.Header) []byte {
		req, _ := http.NewRequest("POST", m.URL()+path, strings.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			b.Fatalf("POST %s = %d %s", path, resp.StatusCode, out)
		}
		return out
	}
	var src testSource
	_ = json.Unmarshal(post("/api/v1/sources", `{"name":"bench"}`, adminHeader()), &src)
	post("/api/v1/audiences", `{"key":"gold","condition":"trait tier = \"gold\""}`, adminHeader())
	post("/api/v1/destinations", fmt.Sprintf(`{"name":"lat","type":"webhook","settings":{"url":%q},
		"purposes":["analytics"],"audiences":["gold"],"events":{"names":["Ping"]}}`, srv.URL), adminHeader())
	time.Sleep(time.Second) // the audience goes live

	wk := http.Header{"Content-Type": {"application/json"}}
	wk.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(src.WriteKey+":")))
	acked := map[string]time.Time{}
	n := max(b.N, 300)
	tick := time.NewTicker(10 * time.Millisecond) // 100 of each per second
	defer tick.Stop()
	b.ResetTimer()
	for i := range n {
		<-tick.C
		id := fmt.Sprintf("ping-%d", i)
		post("/v1/track", fmt.Sprintf(`{"userId":"t%d","event":"Ping","messageId":%q}`, i, id), wk)
		acked[id] = time.Now()
		post("/v1/identify", fmt.Sprintf(`{"userId":"g%d","traits":{"tier":"gold"}}`, i), wk)
		acked[fmt.Sprintf("enter:g%d", i)] = time.Now()
	}
	deadline := time.Now().Add(time.Minute)
	for {
		rcv.mu.Lock()
		got := len(rcv.arrived)
		rcv.mu.Unlock()
		if got >= len(acked) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	var fwd, aud []time.Duration
	rcv.mu.Lock()
	for k, at := range acked {
		arr, ok := rcv.arrived[k]
		if !ok {
			b.Fatalf("%s never arrived", k)
		}
		if strings.HasPrefix(k, "enter:") {
			aud = append(aud, arr.Sub(at))
		} else {
			fwd = append(fwd, arr.Sub(at))
		}
	}
	rcv.mu.Unlock()
	for _, x := range []struct {
		name string
		d    []time.Duration
	}{{"event", fwd}, {"entry", aud}} {
		slices.Sort(x.d)
		b.ReportMetric(float64(x.d[len(x.d)/2].Microseconds())/1000, x.name+"-p50-ms")
		b.ReportMetric(float64(x.d[len(x.d)*99/100].Microseconds())/1000, x.name+"-p99-ms")
	}
}
