package segment

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkWindowExit measures, through the real pipeline (event log,
// profile stage, SQLite) and in real time, how long after the exact
// moment an order leaves a 1-hour window the profile's exit is saved
// (visible to delivery and in the timeline). Orders are sent with
// timestamps just under an hour old, 20 ms apart, so that the exits fall
// due one after another a few seconds later, with no event to carry them:
// the engine's timers alone make them.
func BenchmarkWindowExit(b *testing.B) {
	e := newEnv(b)
	e.clock.mu.Lock()
	e.clock.real = true
	e.clock.mu.Unlock()
	go func() { _ = e.seg.Run(e.ctx) }()
	a := e.audience("recent", `count(event "Order Completed" within 1h) >= 1`)
	n := max(b.N, 50)
	base := time.Now().Add(-time.Hour + 2*time.Second)
	moment := map[uint64]time.Time{}
	msgs := make([]string, n)
	for i := range n {
		msgs[i] = order(fmt.Sprintf("w%d", i), base.Add(time.Duration(i)*20*time.Millisecond), "")
	}
	e.send(msgs...)
	for i := range n {
		moment[e.pid(fmt.Sprintf("w%d", i))] = base.Add(time.Duration(i)*20*time.Millisecond + time.Hour)
	}
	b.ResetTimer()
	var lags []time.Duration
	var off time.Duration // the largest gap between a recorded exit's time and its exact moment
	seen := map[uint64]bool{}
	deadline := base.Add(time.Hour + time.Duration(n)*20*time.Millisecond + 30*time.Second)
	for len(seen) < n && time.Now().Before(deadline) {
		changes, err := e.st.AudienceChanges(context.Background(), a.ID, 0, 10*n)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		for _, c := range changes {
			at, ok := moment[c.ProfileID]
			if c.Entered || !ok || seen[c.ProfileID] {
				continue
			}
			seen[c.ProfileID] = true
			lags = append(lags, now.Sub(at))
			off = max(off, c.At.Sub(at), at.Sub(c.At))
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.StopTimer()
	if len(seen) < n {
		b.Fatalf("%d of %d exits saved", len(seen), n)
	}
	slices.Sort(lags)
	b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "saved-p50-ms")
	b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "saved-p99-ms")
	b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "saved-max-ms")
	b.ReportMetric(float64(off.Microseconds()), "recorded-off-µs")
}
