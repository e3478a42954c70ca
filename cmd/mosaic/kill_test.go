package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// killUsers is how many people the restart test's events come from.
const killUsers = 60

// killBatch returns batch b of the restart test's stream: 50 events of
// people with an anonymous id each, identify calls with traits whose event
// times go back and forth (so late writes must not win), tracks and pages.
func killBatch(writeKey string, b int) string {
	var evs []string
	for k := range 50 {
		u := (b*50 + k) % killUsers
		ts := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration((b*50+k)%97) * time.Minute).Format(time.RFC3339)
		id := fmt.Sprintf(`"messageId":"m-%d-%d","timestamp":%q,"anonymousId":"a-%d"`, b, k, ts, u)
		switch (b + k) % 5 {
		case 0:
			evs = append(evs, fmt.Sprintf(`{"type":"identify",%s,"userId":"u-%d","traits":{"email":"u%d@shop.dev","batch":%d,"k":%d}}`, id, u, u, b, k))
		case 1, 2:
			evs = append(evs, fmt.Sprintf(`{"type":"track",%s,"event":"Product Viewed","properties":{"b":%d}}`, id, b))
		case 3:
			evs = append(evs, fmt.Sprintf(`{"type":"page",%s,"name":"Home"}`, id))
		default:
			evs = append(evs, fmt.Sprintf(`{"type":"track",%s,"userId":"u-%d","event":"Order Completed"}`, id, u))
		}
	}
	return `{"writeKey":"` + writeKey + `","batch":[` + strings.Join(evs, ",") + `]}`
}

type serverProc struct {
	cmd *exec.Cmd
	url string
}

func startBinary(t *testing.T, bin, data string) *serverProc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", addr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "MOSAIC_ADMIN_TOKEN="+testToken)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serverProc{cmd: cmd, url: "http://" + addr}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitReady(t, s.url)
	return s
}

// settle sends one more event and waits until its profile shows: the
// profile stage follows the log in order, so everything before it is
// applied then.
func (s *serverProc) settle(t *testing.T, writeKey, name string) {
	t.Helper()
	body := `{"writeKey":"` + writeKey + `","type":"identify","userId":"` + name + `"}`
	if status, b := do(t, "POST", s.url+"/v1/identify", map[string][]string{"Content-Type": {"application/json"}}, body); status != 200 {
		t.Fatalf("sentinel = %d %s", status, b)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if status, _ := do(t, "GET", s.url+"/api/v1/profiles/user_id:"+name, adminHeader(), ""); status == 200 {
			return
		}
	}
	t.Fatalf("profile of %s never appeared", name)
}

// dumpUsers returns every person's profile, identity and timeline as the
// API shows them, and the events each profile counts.
func (s *serverProc) dumpUsers(t *testing.T) (map[string]string, map[string]int64) {
	t.Helper()
	out, counts := map[string]string{}, map[string]int64{}
	for u := range killUsers {
		ref := fmt.Sprintf("user_id:u-%d", u)
		for _, suffix := range []string{"", "/identity", "/events?limit=500"} {
			status, body := do(t, "GET", s.url+"/api/v1/profiles/"+ref+suffix, adminHeader(), "")
			// 503 says "again later": on a loaded machine a cluster's
			// short lease may pass from node to node while this reads.
			for deadline := time.Now().Add(time.Minute); status == 503 && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
				status, body = do(t, "GET", s.url+"/api/v1/profiles/"+ref+suffix, adminHeader(), "")
			}
			out[ref+suffix] = fmt.Sprintf("%d %s", status, body)
			if suffix == "" && status == 200 {
				var p profileJSON
				_ = json.Unmarshal(body, &p)
				counts[ref] = p.EventCounts.Total
			}
		}
	}
	return out, counts
}

// loggedPerUser counts the events in the log per person (each event names
// its person by userId or by the person's anonymous id).
func (s *serverProc) loggedPerUser(t *testing.T) map[string]int64 {
	t.Helper()
	counts := map[string]int64{}
	after := uint64(0)
	for {
		status, body := do(t, "GET", fmt.Sprintf("%s/api/v1/events?after=%d&limit=1000", s.url, after), adminHeader(), "")
		if status != 200 {
			t.Fatalf("events = %d %s", status, body)
		}
		var page struct {
			Events []struct {
				AnonymousID string `json:"anonymousId"`
			} `json:"events"`
			NextAfter uint64 `json:"next_after"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if e.AnonymousID != "" {
				counts["user_id:u-"+strings.TrimPrefix(e.AnonymousID, "a-")]++
			}
		}
		if page.NextAfter == after {
			return counts
		}
		after = page.NextAfter
	}
}

// TestKillAndRestart runs the real binary, kills it with SIGKILL while a
// stream of events comes in and is processed, restarts it, and checks that
// every event in the log is on its person's profile exactly once, and that
// the profiles equal what 'mosaic replay' builds from the same log.
func TestKillAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mosaic")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	s := startBinary(t, bin, data)
	status, body := do(t, "POST", s.url+"/api/v1/sources", adminHeader(), `{"name":"shop"}`)
	if status != 201 {
		t.Fatalf("create source = %d %s", status, body)
	}
	var src testSource
	_ = json.Unmarshal(body, &src)

	// Stream batches until the server dies; kill it once 40 are in.
	var acked atomic.Int64
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		h := map[string][]string{"Content-Type": {"application/json"}}
		for b := 0; ; b++ {
			req, _ := http.NewRequest("POST", s.url+"/v1/batch", strings.NewReader(killBatch(src.WriteKey, b)))
			req.Header = h
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return
			}
			acked.Add(50)
		}
	}()
	// Mid-stream, a rule change and a split: system records in the log,
	// which the restart and the replay must apply at the same place.
	for acked.Load() < 1000 {
		time.Sleep(5 * time.Millisecond)
	}
	if status, body := do(t, "GET", s.url+"/api/v1/identity/rules", adminHeader(), ""); status == 200 {
		rules := strings.Replace(string(body), `"blocked":[`, `"blocked":["*@spam.dev",`, 1)
		if status, body := do(t, "PUT", s.url+"/api/v1/identity/rules", adminHeader(), rules); status != 200 {
			t.Fatalf("PUT rules = %d %s", status, body)
		}
	}
	if status, body := do(t, "POST", s.url+"/api/v1/profiles/user_id:u-0/split", adminHeader(),
		`{"identifier":{"type":"email","value":"u0@shop.dev"}}`); status != 202 {
		t.Fatalf("split = %d %s", status, body)
	}
	for acked.Load() < 2000 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = s.cmd.Process.Wait()
	<-streamDone

	s = startBinary(t, bin, data)
	s.settle(t, src.WriteKey, "sentinel-1")
	if status, body := do(t, "GET", s.url+"/api/v1/profiles/email:u0@shop.dev", adminHeader(), ""); status != 200 || strings.Contains(string(body), `"u-0"`) {
		t.Errorf("u0's email after the restart = %d %s, want a profile apart from user u-0", status, body)
	}
	got, counts := s.dumpUsers(t)
	logged := s.loggedPerUser(t)
	var total int64
	for u := range killUsers {
		ref := fmt.Sprintf("user_id:u-%d", u)
		total += logged[ref]
		if counts[ref] != logged[ref] {
			t.Errorf("%s counts %d events, the log has %d of theirs", ref, counts[ref], logged[ref])
		}
	}
	if total < acked.Load() {
		t.Errorf("the log has %d events after the restart, fewer than the %d acknowledged", total, acked.Load())
	}
	t.Logf("%d events acknowledged before SIGKILL, %d in the log", acked.Load(), total)

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cmd.Process.Wait(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "replay", "--data", data).CombinedOutput(); err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	s = startBinary(t, bin, data)
	s.settle(t, src.WriteKey, "sentinel-2")
	want, _ := s.dumpUsers(t)
	for k, w := range want {
		if g := got[k]; g != w {
			i := 0
			for i < len(g) && i < len(w) && g[i] == w[i] {
				i++
			}
			t.Errorf("%s after SIGKILL and restart differs from replay at byte %d:\n…%s\nreplay:\n…%s", k, i, excerpt(g, i), excerpt(w, i))
		}
	}
}

func excerpt(s string, i int) string {
	lo, hi := max(0, i-200), min(len(s), i+200)
	return s[lo:hi]
}
