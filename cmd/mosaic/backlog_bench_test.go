package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/mosaic-cdp/mosaic/store"
)

// backlogReceiver is a webhook receiver that can be down (503 to
// everything) and, while up, checks that each user's messages arrive in
// the order they were sent (property n counts up per user).
type backlogReceiver struct {
	down atomic.Bool

	mu         sync.Mutex
	last       map[string]int // user → highest n received
	seen       map[string]bool
	unique     int
	dupes      int
	outOfOrder int
	requests   int
	// boundary is each user's last n sent before recovery; backlog counts
	// the distinct messages received up to it.
	boundary map[string]int
	backlog  int
	first    time.Time // first message received after recovery
}

func (h *backlogReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if h.down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var m struct {
		Data struct {
			UserID     string `json:"userId"`
			Properties struct {
				N int `json:"n"`
			} `json:"properties"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := m.Data.UserID + "/" + strconv.Itoa(m.Data.Properties.N)
	h.mu.Lock()
	h.requests++
	switch {
	case h.seen[key]:
		h.dupes++ // a retry of a message whose answer was lost: allowed
	default:
		h.seen[key] = true
		h.unique++
		if m.Data.Properties.N <= h.boundary[m.Data.UserID] {
			h.backlog++
			if h.first.IsZero() && h.boundary != nil {
				h.first = time.Now()
			}
		}
		if m.Data.Properties.N < h.last[m.Data.UserID] {
			h.outOfOrder++
		}
		h.last[m.Data.UserID] = max(h.last[m.Data.UserID], m.Data.Properties.N)
	}
	h.mu.Unlock()
}

func (h *backlogReceiver) received() (all, backlog int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.unique, h.backlog
}

// backlogServer is the real server (SQLite) with a webhook destination
// to a backlogReceiver subscribed to every "Order" event.
type backlogServer struct {
	b      *testing.B
	m      *Main
	rcv    *backlogReceiver
	destID string
	auth   string
	client *http.Client

	mu   sync.Mutex
	next map[string]int // user → next n
	sent int
}

func newBacklogServer(b *testing.B, settings string) *backlogServer {
	s := &backlogServer{b: b, rcv: &backlogReceiver{last: map[string]int{}, seen: map[string]bool{}}, next: map[string]int{},
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	srv := httptest.NewServer(s.rcv)
	b.Cleanup(srv.Close)
	var cli CLI
	parser, err := kong.New(&cli, kong.Configuration(configLoader), kong.DefaultEnvars("MOSAIC"), kong.Exit(func(int) {}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := parser.Parse([]string{"serve", "--data", b.TempDir(), "--addr", "127.0.0.1:0", "--admin-token", testToken,
		"--log-level", "warn", "--webhook-allow-cidr", "127.0.0.0/8", "--consent-default", "grant"}); err != nil {
		b.Fatal(err)
	}
	s.m = NewMain(cli.Serve, io.Discard)
	if err := s.m.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.m.Close(context.Background()) })
	var src testSource
	_ = json.Unmarshal(s.post("/api/v1/sources", `{"name":"backlog"}`, adminHeader()), &src)
	s.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(src.WriteKey+":"))
	var dest struct{ ID string }
	_ = json.Unmarshal(s.post("/api/v1/destinations", fmt.Sprintf(`{"name":"backlog","type":"webhook","settings":{"url":%q%s},
		"purposes":["analytics"],"events":{"names":["Order"]}}`, srv.URL, settings), adminHeader()), &dest)
	s.destID = dest.ID
	return s
}

func (s *backlogServer) post(path, body string, h http.Header) []byte {
	req, _ := http.NewRequest("POST", s.m.URL()+path, strings.NewReader(body))
	req.Header = h
	resp, err := s.client.Do(req)
	if err != nil {
		s.b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		s.b.Fatalf("POST %s = %d %s", path, resp.StatusCode, out)
	}
	return out
}

// events returns k "Order" tracks for user, numbered on from the last.
func (s *backlogServer) events(user string, k int) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, k)
	for i := range out {
		s.next[user]++
		out[i] = map[string]any{"type": "track", "userId": user, "event": "Order",
			"properties": map[string]any{"n": s.next[user], "total": 42.5, "sku": "sku-" + strconv.Itoa(s.next[user]%97)}}
	}
	s.sent += k
	return out
}

func (s *backlogServer) sentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

func (s *backlogServer) writeHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}, "Authorization": {s.auth}}
}

// flood sends n events over users profiles in batches of 500, from two
// clients, as fast as the server acknowledges them.
func (s *backlogServer) flood(n, users int) {
	var wg sync.WaitGroup
	per := 500
	var next atomic.Int64
	for range 2 {
		wg.Go(func() {
			for {
				start := int(next.Add(int64(per))) - per
				if start >= n {
					return
				}
				batch := make([]map[string]any, 0, per)
				for i := start; i < min(start+per, n); i++ {
					batch = append(batch, s.events("u"+strconv.Itoa(i%users), 1)...)
				}
				body, _ := json.Marshal(map[string]any{"batch": batch})
				s.post("/v1/batch", string(body), s.writeHeader())
			}
		})
	}
	wg.Wait()
}

// steady sends rate single tracks a second over 1,000 users until stop is
// closed, and returns each one's acknowledgement latency.
func (s *backlogServer) steady(rate int, stop <-chan struct{}) []time.Duration {
	var lat []time.Duration
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return lat
		case <-tick.C:
		}
		body, _ := json.Marshal(s.events("live"+strconv.Itoa(i%1000), 1)[0])
		start := time.Now()
		s.post("/v1/track", string(body), s.writeHeader())
		lat = append(lat, time.Since(start))
	}
}

// pending returns how many messages wait for the destination.
func (s *backlogServer) pending() int64 {
	st, err := s.m.Store.DeliveryStats(context.Background(), s.destID)
	if err != nil {
		s.b.Fatal(err)
	}
	return st.Counts[store.DeliveryPending]
}

// holdAsAfterAnHour records for every profile with pending messages the
// failed attempts the per-message schedule gives in an hour of outage
// (5s, 20s, 80s, 320s, 1280s: the sixth attempt waits up to 85 minutes),
// as a server that ran through a real hour-long outage would have them.
func (s *backlogServer) holdAsAfterAnHour() int {
	ctx := context.Background()
	now := time.Now()
	held := 0
	for {
		rows, err := s.m.Store.ClaimDue(ctx, s.destID, now, 5000)
		if err != nil {
			s.b.Fatal(err)
		}
		if len(rows) == 0 {
			return held
		}
		var updates []store.DeliveryUpdate
		seen := map[string]bool{}
		for _, r := range rows {
			if seen[r.ProfileKey] {
				continue
			}
			seen[r.ProfileKey] = true
			wait := 2560*time.Second + time.Duration(held%2560)*time.Second // jitter: half to all of 5120s
			updates = append(updates, store.DeliveryUpdate{Seq: r.Seq, DestinationID: s.destID, ProfileKey: r.ProfileKey,
				Status: store.DeliveryPending, Attempts: 6, NextAt: now.Add(wait), LastError: "503 Service Unavailable", LastCode: 503})
			held++
		}
		if err := s.m.Store.FinishDeliveries(ctx, updates); err != nil {
			s.b.Fatal(err)
		}
	}
}

func pct(d []time.Duration, p int) float64 {
	d = slices.Clone(d)
	slices.Sort(d)
	return float64(d[min(len(d)-1, len(d)*p/100)].Microseconds()) / 1000
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkBacklogDrain measures the recovery of a destination that was
// down for an hour while 200 events/s were routed to it, through the real
// server (SQLite): MOSAIC_BACKLOG events (default 720,000) over
// MOSAIC_BACKLOG_USERS users (default 10,000) are routed while the
// receiver answers 503, every profile is then held as an hour of the
// per-message retry schedule leaves it (next attempt 43 to 85 minutes
// away), and the receiver recovers. It reports the time from recovery
// until the whole backlog arrived, per-user order violations, and the
// acknowledgement latency of 200 tracks/s sent throughout: with the
// destination healthy (normal), during the outage with the backlog
// queued, and during the drain. MOSAIC_BACKLOG_BATCH sets the webhook's
// batch_size (default 1: one message per request). Run it once:
// -benchtime 1x.
func BenchmarkBacklogDrain(b *testing.B) {
	n, users := envInt("MOSAIC_BACKLOG", 720000), envInt("MOSAIC_BACKLOG_USERS", 10000)
	settings := ""
	if batch := envInt("MOSAIC_BACKLOG_BATCH", 1); batch > 1 {
		settings = fmt.Sprintf(`,"batch_size":%d,"batch_wait":"100ms"`, batch)
	}
	if rate := envInt("MOSAIC_BACKLOG_RATE", 0); rate > 0 {
		settings += fmt.Sprintf(`,"rate_limit":%d`, rate)
	}
	s := newBacklogServer(b, settings)
	phase := func(d time.Duration) []time.Duration {
		stop := make(chan struct{})
		time.AfterFunc(d, func() { close(stop) })
		return s.steady(200, stop)
	}
	b.Logf("load average %s", loadAvg())
	normal := phase(30 * time.Second)

	s.rcv.down.Store(true)
	start := time.Now()
	s.flood(n, users)
	for s.pending() < int64(n) {
		time.Sleep(2 * time.Second)
	}
	b.Logf("backlog of %d routed in %v; load average %s", n, time.Since(start).Round(time.Second), loadAvg())
	outage := phase(30 * time.Second)
	held := s.holdAsAfterAnHour()
	b.Logf("%d profiles held as after an hour of retries; %d messages pending", held, s.pending())

	s.mu.Lock()
	backlog, boundary := s.sent, maps.Clone(s.next)
	s.mu.Unlock()
	s.rcv.mu.Lock()
	s.rcv.boundary, s.rcv.backlog = boundary, 0
	for user, n := range s.rcv.last {
		s.rcv.backlog += min(n, boundary[user]) // delivered before the outage
	}
	s.rcv.mu.Unlock()
	stop := make(chan struct{})
	var draining []time.Duration
	var wg sync.WaitGroup
	wg.Go(func() { draining = s.steady(200, stop) })
	cpu0, recovered := cpuTime(), time.Now()
	s.rcv.down.Store(false)
	for _, got := s.rcv.received(); got < backlog; _, got = s.rcv.received() {
		time.Sleep(100 * time.Millisecond)
	}
	drain, cpu := time.Since(recovered), cpuTime()-cpu0
	close(stop)
	wg.Wait()
	b.Logf("drained %d in %v; load average %s", backlog, drain.Round(time.Second), loadAvg())
	// What was routed during the drain queues behind the backlog and goes
	// out at the drain's pace too: give it that long, and a minute more.
	tail := time.Duration(float64(s.sentCount()-backlog) / (float64(backlog) / drain.Seconds()) * float64(time.Second))
	for deadline := time.Now().Add(tail + time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if all, _ := s.rcv.received(); all >= s.sentCount() {
			break
		}
	}
	s.rcv.mu.Lock()
	defer s.rcv.mu.Unlock()
	if s.rcv.unique != s.sentCount() {
		b.Errorf("received %d distinct messages, sent %d", s.rcv.unique, s.sentCount())
	}
	if s.rcv.outOfOrder > 0 {
		b.Errorf("%d messages arrived before an earlier one of their user", s.rcv.outOfOrder)
	}
	b.ReportMetric(drain.Seconds(), "drain-s")
	b.ReportMetric(s.rcv.first.Sub(recovered).Seconds(), "idle-after-recovery-s")
	b.ReportMetric(float64(backlog)/drain.Seconds(), "drain-msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(backlog), "drain-cpu-us/msg")
	b.ReportMetric(float64(s.rcv.outOfOrder), "order-violations")
	b.ReportMetric(float64(s.rcv.dupes), "duplicates")
	for _, x := range []struct {
		name string
		d    []time.Duration
	}{{"normal", normal}, {"outage", outage}, {"drain", draining}} {
		b.ReportMetric(pct(x.d, 50), "ingest-p50-"+x.name+"-ms")
		b.ReportMetric(pct(x.d, 99), "ingest-p99-"+x.name+"-ms")
	}
	b.ReportMetric(pct(draining, 99)/pct(normal, 99), "drain/normal-p99")
}
