package activate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// harness runs a Service with one webhook destination to a scripted
// receiver, on a fake clock.
type harness struct {
	t    *testing.T
	st   *sqlite.DB
	svc  *Service
	rcv  *receiver
	clk  *clock
	dest *View
}

// newHarness starts the service; with signals, consent comes from the
// store's consent signals, else every purpose is granted.
func newHarness(t *testing.T, settings map[string]any, signals bool) *harness {
	t.Helper()
	h := &harness{t: t, st: openStore(t), rcv: newReceiver(t), clk: &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	var consent Consent = allowAll{}
	if signals {
		consent = SignalConsent{Store: h.st}
	}
	h.svc = New(h.st, Options{Now: h.clk.Now, HTTP: loopbackClient(), Consent: consent, RetryBase: 10 * time.Second,
		RetryCap: time.Hour, MaxAge: 6 * time.Hour, Poll: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "service start", func() bool { h.svc.mu.Lock(); defer h.svc.mu.Unlock(); return h.svc.ctx != nil })
	if settings == nil {
		settings = map[string]any{}
	}
	settings["url"] = h.rcv.srv.URL
	v, err := h.svc.Create(ctx, Input{Name: "hook", Type: "webhook", Settings: settings, Purposes: []string{"marketing"}, Events: &EventFilter{}})
	if err != nil {
		t.Fatalf("Create = %v", err)
	}
	h.dest, h.rcv.secret = v, v.Secret
	return h
}

// status returns the delivery status of each message ID.
func (h *harness) status() map[string]store.Delivery {
	ds, err := h.st.Deliveries(context.Background(), h.dest.ID, "", 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	m := map[string]store.Delivery{}
	for _, d := range ds {
		m[d.ID] = d
	}
	return m
}

// settle advances the clock in steps until every message is done.
func (h *harness) settle(step time.Duration) {
	h.t.Helper()
	waitFor(h.t, "all messages done", func() bool {
		for _, d := range h.status() {
			if d.Status == store.DeliveryPending {
				h.clk.Advance(step)
				h.svc.Wake()
				return false
			}
		}
		return true
	})
}

func TestRetriesKeepOrderPerProfile(t *testing.T) {
	h := newHarness(t, map[string]any{"timeout": "300ms"}, false)
	h.rcv.on("a1", reply{code: 500}, reply{reset: true}, reply{code: 200})
	h.rcv.on("a2", reply{code: 301}, reply{code: 200})
	h.rcv.on("b1", reply{code: 429, retryAfter: "3600"}, reply{code: 200})
	h.rcv.on("c1", reply{code: 200, delay: time.Second}, reply{code: 200}) // times out first
	h.rcv.on("d1", reply{code: 400}, reply{code: 502}, reply{code: 503}, reply{code: 504}, reply{code: 500})
	enqueue(t, h.st, h.dest.ID, h.clk.Now(), "a1", "A", "b1", "B", "a2", "A", "c1", "C", "a3", "A", "b2", "B")
	waitFor(t, "first attempts", func() bool { return h.status()["b1"].Attempts == 1 && h.status()["a1"].Attempts == 1 })
	b1 := h.status()["b1"]
	if wait := b1.NextAt.Sub(h.clk.Now()); wait < time.Hour {
		t.Errorf("after 429 Retry-After 3600 the next attempt is in %v, want at least 1h", wait)
	}
	if got := h.status()["b2"]; got.Attempts != 0 {
		t.Errorf("b2 attempted %d times while b1 waits, want 0", got.Attempts)
	}
	h.settle(10 * time.Minute)
	got := h.rcv.deliveredIDs()
	for _, profile := range []string{"a", "b"} {
		var seq []string
		for _, id := range got {
			if strings.HasPrefix(id, profile) {
				seq = append(seq, id)
			}
		}
		if !slices.IsSorted(seq) {
			t.Errorf("profile %s delivered in order %v, want sorted", profile, seq)
		}
	}
	// c1 arrived twice (the first answer came after the timeout), same ID.
	for id, want := range map[string]int{"a1": 1, "a2": 1, "a3": 1, "b1": 1, "b2": 1} {
		if n := count(got, id); n != want {
			t.Errorf("%s delivered %d times, want %d (no re-send after a 2xx)", id, n, want)
		}
	}
	st := h.status()
	for id, want := range map[string]int{"a1": 3, "a2": 2, "a3": 1, "b1": 2, "c1": 2} {
		if st[id].Attempts != want || st[id].Status != store.DeliveryDelivered {
			t.Errorf("%s: %d attempts, status %s; want %d, delivered", id, st[id].Attempts, st[id].Status, want)
		}
	}
	if h.rcv.badSigs != 0 {
		t.Errorf("%d requests with a bad signature, want 0", h.rcv.badSigs)
	}
}

func count(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

func TestDeadLetterAndReplay(t *testing.T) {
	h := newHarness(t, nil, false)
	fails := make([]reply, 50)
	for i := range fails {
		fails[i] = reply{code: 500}
	}
	h.rcv.on("m1", fails...)
	enqueue(t, h.st, h.dest.ID, h.clk.Now(), "m1", "P", "m2", "P")
	h.settle(30 * time.Minute)
	st := h.status()
	if st["m1"].Status != store.DeliveryDead || !strings.Contains(st["m1"].LastError, "500") {
		t.Fatalf("m1 = %s (%q), want dead with its last error", st["m1"].Status, st["m1"].LastError)
	}
	if st["m2"].Status != store.DeliveryDelivered {
		t.Errorf("m2 = %s, want delivered once m1 was given up", st["m2"].Status)
	}
	h.rcv.on("m1") // the receiver is fixed
	n, err := h.svc.Replay(context.Background(), h.dest.ID, "")
	if n != 1 || err != nil {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	h.settle(time.Minute)
	if got := h.status()["m1"]; got.Status != store.DeliveryDelivered || got.Attempts != 1 {
		t.Errorf("m1 after replay = %s after %d attempts, want delivered after 1", got.Status, got.Attempts)
	}
}

func TestGoneDisablesDestination(t *testing.T) {
	h := newHarness(t, nil, false)
	h.rcv.on("m1", reply{code: 410})
	enqueue(t, h.st, h.dest.ID, h.clk.Now(), "m1", "P")
	waitFor(t, "disabled", func() bool {
		v, _ := h.svc.Get(context.Background(), h.dest.ID)
		return v.Status == StatusDisabled
	})
	v, _ := h.svc.Get(context.Background(), h.dest.ID)
	if !strings.Contains(v.StatusReason, "410") {
		t.Errorf("status reason = %q, want it to mention 410", v.StatusReason)
	}
	if st := h.status()["m1"]; st.Status != store.DeliveryPending {
		t.Errorf("m1 = %s, want pending (kept for when the destination is resumed)", st.Status)
	}
	if _, err := h.svc.SetStatus(context.Background(), h.dest.ID, StatusActive, ""); err != nil {
		t.Fatal(err)
	}
	h.settle(time.Minute)
	if got := count(h.rcv.deliveredIDs(), "m1"); got != 1 {
		t.Errorf("m1 delivered %d times after resuming, want 1", got)
	}
}

func TestBatches(t *testing.T) {
	h := newHarness(t, map[string]any{"batch_size": 3}, false)
	enqueue(t, h.st, h.dest.ID, h.clk.Now(), "m1", "A", "m2", "B", "m3", "A", "m4", "C")
	h.settle(time.Minute)
	h.rcv.mu.Lock()
	defer h.rcv.mu.Unlock()
	if len(h.rcv.got) != 2 || !strings.HasPrefix(h.rcv.got[0].id, "batch_") {
		t.Fatalf("requests = %d (first %q), want 2 batches", len(h.rcv.got), h.rcv.got[0].id)
	}
	if b := string(h.rcv.got[0].body); !strings.Contains(b, `"m1"`) || !strings.Contains(b, `"m3"`) || strings.Index(b, `"m1"`) > strings.Index(b, `"m3"`) {
		t.Errorf("first batch = %s, want m1 before m3", b)
	}
	if h.rcv.badSigs != 0 {
		t.Errorf("%d batches with a bad signature", h.rcv.badSigs)
	}
}

func TestConsentGate(t *testing.T) {
	db := openStore(t)
	c := SignalConsent{Store: db}
	save := func(seq uint64, key, prefs string, at time.Duration) {
		t.Helper()
		err := db.SaveForward(context.Background(), &store.ForwardCommit{Seq: seq, Consent: []store.ConsentSignal{
			{ProfileKey: key, Categories: []byte(prefs), Time: time.Unix(0, 0).Add(at), Seq: seq}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	save(1, "granted", `{"Marketing":true,"advertising":false}`, 0)
	save(2, "withdrawn", `{"marketing":true}`, 0)
	save(3, "withdrawn", `{"marketing":false}`, time.Minute)
	tests := []struct {
		key  string
		want bool
	}{{"granted", true}, {"withdrawn", false}, {"never", false}}
	for _, tt := range tests {
		if got, err := c.Granted(context.Background(), tt.key, []string{"marketing"}); got != tt.want || err != nil {
			t.Errorf("Granted(%s) = %v, %v; want %v", tt.key, got, err, tt.want)
		}
	}
	if got, _ := (SignalConsent{Store: db, Default: true}).Granted(context.Background(), "never", []string{"marketing"}); !got {
		t.Errorf("Granted(never) with Default grant = false, want true")
	}
}

func TestConsentWithdrawalStopsQueued(t *testing.T) {
	h := newHarness(t, nil, true)
	db := h.st
	consent := func(seq uint64, prefs string) {
		err := db.SaveForward(context.Background(), &store.ForwardCommit{Seq: seq, Consent: []store.ConsentSignal{
			{ProfileKey: "P", Categories: []byte(prefs), Time: time.Unix(int64(seq), 0), Seq: seq}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	consent(1, `{"marketing":true}`)
	_, _ = h.svc.SetStatus(context.Background(), h.dest.ID, StatusPaused, "")
	var pairs []string
	for i := range 2000 {
		pairs = append(pairs, fmt.Sprintf("m%05d", i), "P")
	}
	enqueue(t, h.st, h.dest.ID, h.clk.Now(), pairs...)
	consent(2, `{"marketing":false}`) // withdrawn while 2000 are queued
	_, _ = h.svc.SetStatus(context.Background(), h.dest.ID, StatusActive, "")
	h.settle(time.Minute)
	if got := len(h.rcv.deliveredIDs()); got != 0 {
		t.Errorf("%d messages sent after the withdrawal, want 0", got)
	}
	stats, _ := h.svc.Stats(context.Background(), h.dest.ID)
	if stats.Blocked != 2000 || stats.ByPurpose["marketing"] != 2000 {
		t.Errorf("stats = %+v, want 2000 blocked for marketing", stats)
	}
}
