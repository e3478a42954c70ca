package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// base is a moment half an hour before midnight, so that tests cross into a
// new day (a new index generation) early.
var base = time.Date(2025, 3, 1, 23, 30, 0, 0, time.UTC)

const day = 24 * time.Hour

// msg is an event to append: source, messageId, receivedAt after base.
type msg struct {
	src, id string
	at      time.Duration
}

// openLog opens an event log in a temporary directory, closed when t ends.
func openLog(t testing.TB, dir string) *eventlog.Log {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	l, err := eventlog.Open(dir, eventlog.Options{})
	if err != nil {
		t.Fatalf("eventlog.Open(%q) = %v, want nil", dir, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// openStore opens a SQLite store in a temporary directory, closed when t
// ends.
func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mosaic.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open(%q) = %v, want nil", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// encode returns the log records of msgs.
func encode(t testing.TB, msgs []msg) [][]byte {
	t.Helper()
	recs := make([][]byte, len(msgs))
	for i, m := range msgs {
		ev := mosaic.Event{
			SourceID:   m.src,
			MessageID:  m.id,
			Type:       mosaic.TypeTrack,
			ReceivedAt: base.Add(m.at),
			Message:    fmt.Appendf(nil, `{"messageId":%q,"type":"track","event":"Order Completed"}`, m.id),
		}
		b, err := ev.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary(%s/%s) = %v", m.src, m.id, err)
		}
		recs[i] = b
	}
	return recs
}

// appendMsgs appends msgs to l in one group.
func appendMsgs(t testing.TB, l *eventlog.Log, msgs []msg) {
	t.Helper()
	if len(msgs) == 0 {
		return
	}
	if _, err := l.Append(context.Background(), encode(t, msgs)); err != nil {
		t.Fatalf("Append(%d events) = %v, want nil", len(msgs), err)
	}
}

// running is an engine whose Run goes on in the background.
type running struct {
	*Engine
	cancel context.CancelFunc
	done   chan error
}

// start runs e until stop or the end of t.
func start(t testing.TB, e *Engine) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Engine: e, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- e.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and returns its error; later calls return nil.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	if r.done == nil {
		return nil
	}
	r.cancel()
	select {
	case err := <-r.done:
		r.done = nil
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Run did not return within 10s of its context being cancelled")
	}
	return nil
}

// catchUp waits until e has processed everything in l.
func catchUp(t testing.TB, e *Engine, l *eventlog.Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.WaitProcessed(ctx, l.LastSeq()); err != nil {
		t.Fatalf("WaitProcessed(%d) = %v with Processed() = %d, want nil", l.LastSeq(), err, e.Processed())
	}
}

// seen is an event as a reader sees it.
type seen struct {
	Seq     uint64
	Src, ID string
}

// allEvents pages through Events with q until next stops moving.
func allEvents(t testing.TB, e *Engine, q EventQuery) []seen {
	t.Helper()
	var out []seen
	for pages := 0; ; pages++ {
		evs, next, err := e.Events(context.Background(), q)
		if err != nil {
			t.Fatalf("Events(%+v) = %v, want nil", q, err)
		}
		for _, ev := range evs {
			out = append(out, seen{ev.Seq, ev.SourceID, ev.MessageID})
		}
		if next == q.After {
			return out
		}
		if pages > 10_000 {
			t.Fatalf("Events(%+v): still paging after %d pages", q, pages)
		}
		q.After = next
	}
}

// stats returns e.Stats(src) or fails t.
func stats(t testing.TB, e *Engine, src string) *mosaic.SourceStats {
	t.Helper()
	st, err := e.Stats(context.Background(), src)
	if err != nil {
		t.Fatalf("Stats(%s) = %v, want nil", src, err)
	}
	return st
}

// checkpointSeq returns the position of the store's dedupe checkpoint.
func checkpointSeq(t testing.TB, st store.Store) uint64 {
	t.Helper()
	seq, _, err := st.DedupeCheckpoint(context.Background(), time.Time{})
	if err != nil {
		t.Fatalf("DedupeCheckpoint() = %v, want nil", err)
	}
	return seq
}

// reference dedupes msgs the simple way, with exact times, and returns what
// readers must see and each source's counters. Tests keep repeats either
// well inside the window or well past its bucket margin, where the index's
// answer is exact too.
func reference(msgs []msg, window time.Duration) ([]seen, map[string]*mosaic.SourceStats) {
	first := map[[2]string]time.Duration{}
	var want []seen
	counts := map[string]*mosaic.SourceStats{}
	for i, m := range msgs {
		c := counts[m.src]
		if c == nil {
			c = &mosaic.SourceStats{SourceID: m.src}
			counts[m.src] = c
		}
		c.Received++
		k := [2]string{m.src, m.id}
		if at, ok := first[k]; ok && m.at-at < window {
			c.Duplicates++
			continue
		}
		first[k] = m.at
		c.Stored++
		want = append(want, seen{uint64(i + 1), m.src, m.id})
	}
	return want, counts
}

// checkAgainstReference checks Events and Stats of e against the reference
// answer for msgs, the whole log.
func checkAgainstReference(t *testing.T, e *Engine, msgs []msg) {
	t.Helper()
	want, counts := reference(msgs, DefaultOptions().Window)
	if diff := cmp.Diff(want, allEvents(t, e, EventQuery{Limit: MaxEventsLimit})); diff != "" {
		t.Errorf("Events() mismatch (-want +got):\n%s", diff)
	}
	for src, c := range counts {
		if diff := cmp.Diff(c, stats(t, e, src)); diff != "" {
			t.Errorf("Stats(%s) mismatch (-want +got):\n%s", src, diff)
		}
	}
}

// failingStore is the real store with SaveDedupe failing while fail > 0.
type failingStore struct {
	store.Store
	fail atomic.Int32
}

var errInjected = errors.New("injected failure")

func (s *failingStore) SaveDedupe(ctx context.Context, c *store.DedupeCommit) error {
	if s.fail.Add(-1) >= 0 {
		return errInjected
	}
	return s.Store.SaveDedupe(ctx, c)
}

// metric returns the value of the single series of a gauge or counter, or
// the sample count of a histogram, from reg.
func metric(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() = %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		if len(f.GetMetric()) != 1 {
			t.Fatalf("metric %s has %d series, want 1", name, len(f.GetMetric()))
		}
		m := f.GetMetric()[0]
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no metric %s in the registry", name)
	return 0
}
