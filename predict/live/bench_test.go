package live

import (
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/engine"
)

// benchProfiles is the number of customers BenchmarkFit fits on.
const benchProfiles = 20000

// BenchmarkFit runs a whole fit (every model and every profile's traits
// with their explanations, not the store write) on 100,000 synthetic
// customers; the report gives profiles/s.
func BenchmarkFit(b *testing.B) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ids, hs := synthHistories(benchProfiles, now)
	s, err := NewService(NewObserver(openStore(b), ObserverOptions{}), openStore(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		j := &fitJob{opts: s.opts, names: &s.names, version: 1, asOf: now, fitAt: now, progress: func(string, int, int) {}, ids: ids, hs: hs}
		if err := j.run(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "profiles/s")
}

// BenchmarkObserve measures the observer on the profile stage's hot path:
// one order or engagement event per call.
func BenchmarkObserve(b *testing.B) {
	o := NewObserver(openStore(b), ObserverOptions{})
	msgs := []string{
		`{"type":"track","event":"Order Completed","timestamp":"2025-03-01T10:00:00Z","properties":{"revenue":42.5,"products":[{"product_id":"a"},{"product_id":"b"}]}}`,
		`{"type":"track","event":"Email Opened","timestamp":"2025-03-02T19:00:00Z","context":{"timezone":"Europe/Amsterdam"}}`,
		`{"type":"page","timestamp":"2025-03-02T19:01:00Z","properties":{"path":"/shoes"}}`,
	}
	changes := make([]*engine.ProfileChange, 3000)
	for i := range changes {
		changes[i] = change(uint64(i+1), uint64(i%1000+1), msgs[i%len(msgs)])
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := changes[i%len(changes)]
		c.Seq = uint64(i + 1)
		o.Observe(c)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
