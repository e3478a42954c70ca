package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// cpuSeconds is the process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// BenchmarkPrivacyAtScale measures the privacy targets on the
// embedded store: a person with 10,000 events in a log of
// MOSAIC_BENCH_EVENTS events (default 1,000,000; the target is
// 10,000,000) of one person per 10 events, loaded straight into the log
// and processed first. It reports the access export (request to
// completed), and for the erasure the time until the API answers 404 for
// the person ("gone") and until the request is completed (log redacted,
// derived state rebuilt, files compacted), with the CPU seconds of each.
//
//	MOSAIC_BENCH_EVENTS=10000000 go test ./cmd/mosaic -run '^$' -bench PrivacyAtScale -benchtime 1x -timeout 2h
func BenchmarkPrivacyAtScale(b *testing.B) {
	total := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MOSAIC_BENCH_EVENTS")); err == nil && v >= 100_000 {
		total = v
	}
	const personEvents = 10_000
	people := total / 10
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		m := NewMain(serveConfig(&testing.T{}, "--data", b.TempDir(), "--addr", "127.0.0.1:0", "--admin-token", testToken,
			"--log-level", "error", "--anonymous-expiry", "off"), io.Discard)
		if err := m.Open(ctx); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		loadPrivacyLog(b, m, total, people, personEvents)
		if err := m.Settle(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("%d events of %d people loaded and processed in %s", total, people, time.Since(start).Round(time.Second))
		b.StartTimer()

		t0, c0 := time.Now(), cpuSeconds()
		runRequest(b, m, "access")
		b.ReportMetric(time.Since(t0).Seconds(), "s/access")
		b.ReportMetric(cpuSeconds()-c0, "cpu-s/access")

		t0, c0 = time.Now(), cpuSeconds()
		req, err := m.Requests.Create(ctx, privacyInput("user_id", "the-person"), "bench")
		if err != nil {
			b.Fatal(err)
		}
		var gone time.Duration
		for {
			if gone == 0 {
				if _, err := m.Profile("user_id:the-person"); mosaic.ErrorCode(err) == mosaic.ENOTFOUND {
					gone = time.Since(t0)
				}
			}
			r, err := m.Store.PrivacyRequest(ctx, req.ID)
			if err != nil {
				b.Fatal(err)
			}
			if r.Status == "failed" {
				b.Fatalf("erasure failed: %s", r.Error)
			}
			if r.Status == "completed" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.ReportMetric(gone.Seconds(), "s/gone")
		b.ReportMetric(time.Since(t0).Seconds(), "s/completed")
		b.ReportMetric(cpuSeconds()-c0, "cpu-s/erasure")
		b.StopTimer()
		_ = m.Close(ctx)
		b.StartTimer()
	}
}

// loadPrivacyLog appends total events of people users, personEvents of
// them the-person's (spread evenly), straight into the log.
func loadPrivacyLog(b *testing.B, m *Main, total, people, personEvents int) {
	b.Helper()
	now := time.Now().UTC()
	ts := now.Format(time.RFC3339Nano)
	every := total / personEvents
	recs := make([][]byte, 0, 1000)
	for n := range total {
		user := "user-" + strconv.Itoa(n%people)
		if n%every == 0 {
			user = "the-person"
		}
		msg := `{"type":"track","messageId":"m` + strconv.Itoa(n) + `","userId":"` + user + `","event":"Viewed","properties":{"n":` + strconv.Itoa(n) +
			`},"receivedAt":"` + ts + `","timestamp":"` + ts + `"}`
		if n == 0 {
			msg = `{"type":"identify","messageId":"m0","userId":"the-person","traits":{"email":"the-person@example.com"},"receivedAt":"` + ts + `","timestamp":"` + ts + `"}`
		}
		ev := mosaic.Event{SourceID: "s", MessageID: "m" + strconv.Itoa(n), Type: "track", ReceivedAt: now, Message: []byte(msg)}
		if n == 0 {
			ev.Type = "identify"
		}
		rec, _ := ev.MarshalBinary()
		recs = append(recs, rec)
		if len(recs) == cap(recs) || n == total-1 {
			if _, err := m.Log.Append(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
}

// runRequest files a request about the-person and waits for it.
func runRequest(b *testing.B, m *Main, typ string) {
	b.Helper()
	in := privacyInput("user_id", "the-person")
	in.Type = typ
	req, err := m.Requests.Create(context.Background(), in, "bench")
	if err != nil {
		b.Fatal(err)
	}
	for {
		r, err := m.Store.PrivacyRequest(context.Background(), req.ID)
		if err != nil {
			b.Fatal(err)
		}
		if r.Status == "failed" {
			b.Fatalf("%s failed: %s", typ, r.Error)
		}
		if r.Status == "completed" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// withdrawReceiver notes when each message of the watched user arrives.
type withdrawReceiver struct {
	mu   sync.Mutex
	last time.Time
	n    int
}

func (h *withdrawReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	body, _ := io.ReadAll(r.Body)
	if strings.Contains(string(body), `"userId":"w-1"`) {
		h.mu.Lock()
		h.last, h.n = now, h.n+1
		h.mu.Unlock()
	}
}

// BenchmarkConsentWithdrawal measures how long after the consent API
// answers a withdrawal the last message of the person can still reach a
// destination: events for the person stream to a webhook (marketing) at
// 100 a second; each iteration grants, lets messages flow, withdraws, and
// takes the time from the PUT's answer to the last arrival after it (0 if
// none came). Reports p50 and p99 over the iterations.
func BenchmarkConsentWithdrawal(b *testing.B) {
	rcv := &withdrawReceiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	m := NewMain(serveConfig(&testing.T{}, "--data", b.TempDir(), "--addr", "127.0.0.1:0", "--admin-token", testToken,
		"--log-level", "error", "--webhook-allow-cidr", "127.0.0.0/8"), io.Discard)
	if err := m.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = m.Close(context.Background()) }()
	call := func(method, path, body string, h http.Header) {
		req, _ := http.NewRequest(method, m.URL()+path, strings.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			b.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, out)
		}
	}
	var src testSource
	req, _ := http.NewRequest("POST", m.URL()+"/api/v1/sources", strings.NewReader(`{"name":"bench"}`))
	req.Header = adminHeader()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&src)
	resp.Body.Close()
	call("POST", "/api/v1/destinations", fmt.Sprintf(`{"name":"w","type":"webhook","settings":{"url":%q},"purposes":["marketing"],"events":{"names":["Ping"]}}`, srv.URL), adminHeader())
	wk := http.Header{"Content-Type": {"application/json"}}
	wk.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(src.WriteKey+":")))
	call("POST", "/v1/identify", `{"userId":"w-1"}`, wk)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := m.Profile("user_id:w-1"); err == nil {
			break
		} else if time.Now().After(deadline) {
			b.Fatal(err)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the stream of events, all along
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			call("POST", "/v1/track", fmt.Sprintf(`{"userId":"w-1","event":"Ping","messageId":"p-%d"}`, i), wk)
		}
	})
	var lat []time.Duration
	n := max(b.N, 20)
	b.ResetTimer()
	for range n {
		call("PUT", "/api/v1/profiles/user_id:w-1/consent", `{"purposes":{"marketing":true}}`, adminHeader())
		rcv.mu.Lock()
		before := rcv.n
		rcv.mu.Unlock()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			rcv.mu.Lock()
			flowing := rcv.n >= before+10
			rcv.mu.Unlock()
			if flowing {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("messages did not flow after the grant")
			}
		}
		call("PUT", "/api/v1/profiles/user_id:w-1/consent", `{"purposes":{"marketing":false}}`, adminHeader())
		answered := time.Now()
		time.Sleep(3 * time.Second) // what is still in flight arrives
		rcv.mu.Lock()
		d := max(rcv.last.Sub(answered), 0)
		rcv.mu.Unlock()
		lat = append(lat, d)
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99+99)/100-1].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
