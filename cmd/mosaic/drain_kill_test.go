package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// drainReceiver counts every signed message it accepts by webhook-id and
// keeps, per user, the order in which event numbers first arrived.
type drainReceiver struct {
	mu     sync.Mutex
	secret string
	badSig int
	ids    map[string]int
	order  map[string][]int // user → n of forwarded events, first arrivals
	enter  map[string]int   // user → audience.entered messages accepted
}

func (h *drainReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.secret == "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if !verifySignature(h.secret, r.Header, body) {
		h.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var m struct {
		Type string `json:"type"`
		Data struct {
			UserID     string         `json:"userId"`
			Properties map[string]any `json:"properties"`
			Profile    struct {
				UserID string `json:"user_id"`
			} `json:"profile"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	h.ids[id]++
	if h.ids[id] > 1 {
		return
	}
	switch m.Type {
	case "event.track":
		n, _ := m.Data.Properties["n"].(float64)
		h.order[m.Data.UserID] = append(h.order[m.Data.UserID], int(n))
	case "audience.entered":
		h.enter[m.Data.Profile.UserID]++
	}
}

func (h *drainReceiver) distinct() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.ids)
}

// TestKillDuringDrain: a backlog of forwarded events and audience entries
// queued while the destination is paused is draining when the server is
// killed with SIGKILL. After a restart every message arrives, in order per
// profile; the only duplicates are messages sent but not yet recorded when
// the server died (at most two claim rounds: one being recorded while the
// next is sent), with the same webhook-id.
func TestKillDuringDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mosaic")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Setenv("MOSAIC_WEBHOOK_ALLOW_CIDR", "127.0.0.0/8")
	t.Setenv("MOSAIC_DELIVERY_RETRY", "50ms")
	data := filepath.Join(dir, "data")
	s := startBinary(t, bin, data)
	rcv := &drainReceiver{ids: map[string]int{}, order: map[string][]int{}, enter: map[string]int{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	status, body := do(t, "POST", s.url+"/api/v1/sources", adminHeader(), `{"name":"shop"}`)
	var src testSource
	if err := json.Unmarshal(body, &src); status != 201 || err != nil {
		t.Fatalf("create source = %d %s", status, body)
	}
	if status, body := do(t, "POST", s.url+"/api/v1/audiences", adminHeader(), `{"key":"pro","condition":"trait plan = \"pro\""}`); status != 201 {
		t.Fatalf("create audience = %d %s", status, body)
	}
	status, body = do(t, "POST", s.url+"/api/v1/destinations", adminHeader(), fmt.Sprintf(`{"name":"drain","type":"webhook",
		"settings":{"url":%q},"purposes":["marketing"],"audiences":["pro"],"events":{"names":["Order Completed"]}}`, srv.URL))
	var dest struct{ ID, Secret string }
	if err := json.Unmarshal(body, &dest); status != 201 || err != nil {
		t.Fatalf("create destination = %d %s", status, body)
	}
	if status, body := do(t, "POST", s.url+"/api/v1/destinations/"+dest.ID+"/pause", adminHeader(), ""); status != 200 {
		t.Fatalf("pause = %d %s", status, body)
	}
	rcv.mu.Lock()
	rcv.secret = dest.Secret
	rcv.mu.Unlock()

	const users, perUser = 100, 60
	wk := http.Header{"Content-Type": {"application/json"}}
	wk.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(src.WriteKey+":")))
	consent := `"context":{"consent":{"categoryPreferences":{"marketing":true}}}`
	for i := range perUser {
		var batch []string
		for u := range users {
			if i == 0 {
				batch = append(batch, fmt.Sprintf(`{"type":"identify","userId":"u%d","messageId":"id-%d","traits":{"plan":"pro"},%s}`, u, u, consent))
			}
			batch = append(batch, fmt.Sprintf(`{"type":"track","userId":"u%d","event":"Order Completed","messageId":"o-%d-%d","properties":{"n":%d},%s}`, u, u, i, i, consent))
		}
		if status, body := do(t, "POST", s.url+"/v1/batch", wk, `{"batch":[`+strings.Join(batch, ",")+`]}`); status != 200 {
			t.Fatalf("POST /v1/batch = %d %s", status, body)
		}
	}
	total := users*perUser + users
	waitUntil(t, "the whole backlog queued", func() bool {
		_, b := do(t, "GET", s.url+"/api/v1/destinations/"+dest.ID+"/stats", adminHeader(), "")
		var st struct{ Pending int }
		_ = json.Unmarshal(b, &st)
		return st.Pending == total
	})
	if status, body := do(t, "POST", s.url+"/api/v1/destinations/"+dest.ID+"/resume", adminHeader(), ""); status != 200 {
		t.Fatalf("resume = %d %s", status, body)
	}
	waitUntil(t, "a third of the backlog delivered", func() bool { return rcv.distinct() >= total/3 })
	if err := s.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_, _ = s.cmd.Process.Wait()
	atKill := rcv.distinct()

	startBinary(t, bin, data)
	waitUntil(t, "every message delivered after the restart", func() bool { return rcv.distinct() == total })

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if atKill >= total {
		t.Fatalf("everything was delivered before the kill (%d): the test proves nothing", atKill)
	}
	if rcv.badSig != 0 {
		t.Errorf("%d requests failed signature verification", rcv.badSig)
	}
	dups := 0
	for _, n := range rcv.ids {
		dups += n - 1
	}
	// A worker records a claim round's outcomes (at most 1000 messages)
	// while it sends the next round: two rounds may be unrecorded.
	if dups > 2000 {
		t.Errorf("%d duplicate deliveries, want at most two claim rounds (2000)", dups)
	}
	t.Logf("%d messages, %d delivered before the kill, %d sent twice", total, atKill, dups)
	for u := range users {
		user := fmt.Sprintf("u%d", u)
		got := rcv.order[user]
		if len(got) != perUser || rcv.enter[user] != 1 {
			t.Errorf("%s: %d events and %d entries, want %d and 1", user, len(got), rcv.enter[user], perUser)
			continue
		}
		for i, n := range got {
			if n != i {
				t.Errorf("%s: event %d arrived as number %d: order per profile broken", user, n, i)
				break
			}
		}
	}
}
