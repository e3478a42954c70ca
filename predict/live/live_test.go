package live

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// change returns the change of one event to profile id at seq.
func change(seq, id uint64, msg string) *engine.ProfileChange {
	return &engine.ProfileChange{Seq: seq, Profile: id,
		Event: &mosaic.Event{Seq: seq, ReceivedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Message: []byte(msg)}}
}

// TestObserverKeepsActivity feeds events, a merge and a split's removal
// to the observer, checkpoints, and checks that a new observer loads the
// same activity and ignores changes it saved already.
func TestObserverKeepsActivity(t *testing.T) {
	st := openStore(t)
	o := NewObserver(st, ObserverOptions{})
	if _, err := o.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	events := []*engine.ProfileChange{
		change(1, 1, `{"type":"track","event":"Order Completed","timestamp":"2025-03-01T10:00:00Z","properties":{"revenue":"12.5","products":[{"product_id":"a"},{"sku":"b"}]}}`),
		change(2, 2, `{"type":"track","event":"Order Completed","timestamp":"2025-02-01T10:00:00Z","properties":{"revenue":30,"product_id":"c"}}`),
		change(3, 2, `{"type":"track","event":"Email Opened","timestamp":"2025-02-04T19:30:00Z","context":{"timezone":"Europe/Amsterdam"}}`),
		change(4, 3, `{"type":"page","timestamp":"2025-02-04T19:30:00Z"}`),
		change(5, 3, `{"type":"track","event":"Something Else"}`),
		change(6, 3, `not json`),
	}
	for _, c := range events {
		o.Observe(c)
	}
	o.Observe(&engine.ProfileChange{Seq: 7, Merges: []engine.ProfileMerge{{Absorbed: 2, Survivor: 1}}, Profile: 1,
		Event: &mosaic.Event{Seq: 7, Message: []byte(`{"type":"identify"}`)}})
	o.Observe(&engine.ProfileChange{Seq: 8, Removed: []uint64{3}})
	check := func(o *Observer) {
		t.Helper()
		h, ok := o.history(1)
		if !ok || len(h.orders) != 2 || len(h.acts) != 1 {
			t.Fatalf("history(1) = %+v, want two orders and an open after the merge", h)
		}
		if h.orders[0].revenue != 30 || h.orders[1].revenue != 12.5 || fmt.Sprint(h.orders[1].products) != "[a b]" {
			t.Errorf("orders = %+v, want 30 (c) then 12.5 (a, b), in time order", h.orders)
		}
		if a := h.acts[0]; a.kind != kindOpened || a.channel != chEmail || a.hour != 24+20 {
			t.Errorf("act = %+v, want an email open at Tue 20:00 Amsterdam time (hour 44)", a)
		}
		for _, id := range []uint64{2, 3} {
			if _, ok := o.history(id); ok {
				t.Errorf("history(%d) exists, want it merged or removed", id)
			}
		}
	}
	check(o)
	save, err := o.Checkpoint(8)
	if err != nil {
		t.Fatal(err)
	}
	if err := save(t.Context()); err != nil {
		t.Fatal(err)
	}
	o2 := NewObserver(st, ObserverOptions{})
	if seq, err := o2.Load(t.Context()); err != nil || seq != 8 {
		t.Fatalf("Load() = %d, %v; want 8", seq, err)
	}
	for _, c := range events { // shown again after a restart: already saved
		o2.Observe(c)
	}
	check(o2)
}

// synthHistories returns n customers with orders and engagement over the
// year before now.
func synthHistories(n int, now time.Time) ([]uint64, []history) {
	rng := rand.New(rand.NewPCG(3, 4))
	ids, hs := make([]uint64, n), make([]history, n)
	start := now.Add(-365 * 24 * time.Hour).UnixMicro()
	span := now.UnixMicro() - start
	for i := range n {
		ids[i] = uint64(i + 1)
		var h history
		// BG/NBD's story: a rate per customer, and after each purchase a
		// chance to leave for good.
		rate, leave := 0.005+rng.ExpFloat64()*0.03, rng.Float64()*0.4 // purchases per day
		for t := start + rng.Int64N(span/2); t < now.UnixMicro(); t += int64(rng.ExpFloat64() / rate * float64(24*time.Hour.Microseconds())) {
			h.insertOrder(order{t: t, revenue: 10 + rng.Float64()*50,
				products: []string{fmt.Sprintf("p%d", rng.IntN(10000)), fmt.Sprintf("p%d", rng.IntN(10000))}}, 100, 0)
			if rng.Float64() < leave {
				break
			}
		}
		for range rng.IntN(8) {
			t := start + rng.Int64N(span)
			h.insertAct(act{t: t, kind: kind(1 + rng.IntN(5)), channel: channel(1 + rng.IntN(3)), hour: uint8(rng.IntN(168))}, 100, 0)
		}
		hs[i] = h
	}
	return ids, hs
}

// TestFitWritesEveryTrait runs the fit on synthetic customers and checks
// that every profile gets the traits its data allows.
func TestFitWritesEveryTrait(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ids, hs := synthHistories(3000, now)
	s, err := NewService(NewObserver(openStore(t), ObserverOptions{}), openStore(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	j := &fitJob{opts: s.opts, names: &s.names, version: 1, asOf: now, fitAt: now, progress: func(string, int, int) {}, ids: ids, hs: hs}
	if err := j.run(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, m := range j.ms {
		if m.Status != "ok" {
			t.Errorf("model %s: %s", m.Name, m.Error)
		}
	}
	for i, p := range j.out {
		for _, name := range []string{"p_alive", "purchases_90d", "clv_365d", "churn_risk", "purchase_30d", "rfm_segment", "recommended_products"} {
			if _, ok := p.Traits[name]; !ok {
				t.Fatalf("profile %d: no trait %s in %v", ids[i], name, p.Traits)
			}
		}
	}
}
