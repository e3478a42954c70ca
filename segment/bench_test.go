package segment

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/profile"
)

// cpuTime is the CPU time the process has used, on every core. The
// machine the figures come from is shared and loaded: wall time per
// operation then says more about the neighbours than about the code, so
// benchmarks also report CPU time (cpu-ns/op, which includes the GC).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// benchConditions are 50 audiences of mixed kinds: traits, windows,
// computed traits, consent and references.
func benchConditions() []string {
	var out []string
	for i := range 10 {
		out = append(out,
			fmt.Sprintf(`trait country = "C%d" and count(event "Order Completed" within %dd) >= 2`, i, 7+i),
			fmt.Sprintf(`sum(revenue of event "Order Completed" within 30d) > %d`, 50+10*i),
			fmt.Sprintf(`computed orders_30d >= %d and consent marketing`, 1+i%3),
			fmt.Sprintf(`count(event "Product Viewed" where category = "c%d" within 24h) >= 1 and not count(event "Order Completed" within 7d) >= 1`, i),
			fmt.Sprintf(`trait plan = "p%d" or birthday within 7d`, i))
	}
	return out
}

// benchEngine returns a segment engine with the 50 audiences live and n
// profiles holding a few events each, without storage: what is measured
// is the engine's own work.
func benchEngine(b *testing.B, n int, now time.Time) *Segments {
	b.Helper()
	s := New(nil, nil, Options{Now: func() time.Time { return now }})
	ct := &ComputedTrait{ID: "ct", Key: "orders_30d", Event: "Order Completed", Agg: AggCount, Within: "30d", window: 30 * day}
	s.computed[ct.ID], s.ctByKey[ct.Key] = ct, ct
	for i, c := range benchConditions() {
		a := &Audience{ID: fmt.Sprintf("a%02d", i), Key: fmt.Sprintf("a%02d", i)}
		cond, err := parseCondition([]byte(fmt.Sprintf("%q", c)))
		if err != nil {
			b.Fatal(err)
		}
		if err := a.setCondition(cond); err != nil {
			b.Fatal(err)
		}
		s.audiences[a.ID], s.audByKey[a.Key] = a, a
		s.meta.Ready[a.ID] = true
	}
	if err := s.rebuild(); err != nil {
		b.Fatal(err)
	}
	for _, la := range s.order {
		s.trackLocked(la.windows)
		for t := range la.traits {
			s.meta.Traits[t] = true
		}
	}
	for i := range n {
		p := s.state(uint64(i + 1))
		p.Traits = map[string]*tval{"country": {Raw: fmt.Sprintf(`"C%d"`, i%10)}, "plan": {Raw: fmt.Sprintf(`"p%d"`, i%7)}}
		for k := range 3 {
			p.addItem("Order Completed", item{At: now.Add(-time.Duration(i%40+k*5) * day), Seq: uint64(k), Props: []byte(fmt.Sprintf(`{"revenue":%d}`, 10+i%90))})
		}
		p.Consent = map[string]bool{"marketing": i%2 == 0}
	}
	return s
}

// BenchmarkObserve measures the real-time path: one track event per
// operation applied to a profile and the audiences that depend on it
// evaluated, with 50 audiences live.
func BenchmarkObserve(b *testing.B) {
	now := t0
	// Many profiles, so that each gets a few events however long the run:
	// a profile's list of events stays at a typical length.
	const n = 100000
	s := benchEngine(b, n, now)
	var changes []*engine.ProfileChange
	for i := range n {
		name, props := "Order Completed", fmt.Sprintf(`{"revenue":%d}`, i%120)
		if i%2 == 1 {
			name, props = "Product Viewed", fmt.Sprintf(`{"category":"c%d"}`, i%10)
		}
		msg := fmt.Sprintf(`{"type":"track","userId":"u%d","event":%q,"timestamp":%q,"properties":%s}`, i, name, now.Format(time.RFC3339), props)
		ev := &mosaic.Event{Type: mosaic.TypeTrack, ReceivedAt: now, Message: []byte(msg)}
		pr := profile.New(uint64(i + 1))
		if err := profile.Apply(pr, ev); err != nil {
			b.Fatal(err)
		}
		changes = append(changes, &engine.ProfileChange{Event: ev, Profile: pr.ID, State: pr})
	}
	// Start from steady state: every profile evaluated, the changes saved.
	var ids []string
	for _, la := range s.order {
		ids = append(ids, la.a.ID)
	}
	if err := s.evaluateAll(b.Context(), &Job{}, ids, cause{Kind: "backfill"}); err != nil {
		b.Fatal(err)
	}
	s.mu.Lock()
	_, _ = s.commitLocked(s.seq)
	s.mu.Unlock()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		c := changes[i%len(changes)]
		c.Seq = uint64(i + 10)
		s.Observe(c)
		if i%50000 == 49999 { // a checkpoint, as the profile stage takes every 500ms
			s.mu.Lock()
			if _, err := s.commitLocked(s.seq); err != nil {
				b.Fatal(err)
			}
			s.mu.Unlock()
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBackfill evaluates one new audience over every profile, as
// creating it does.
func BenchmarkBackfill(b *testing.B) {
	for _, n := range []int{100000, 1000000} {
		b.Run(fmt.Sprintf("profiles=%d", n), func(b *testing.B) {
			s := benchEngine(b, n, t0)
			j := &Job{}
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				id := s.order[i%len(s.order)].a.ID
				if err := s.evaluateAll(b.Context(), j, []string{id}, cause{Kind: "backfill"}); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkPreview counts a condition over every profile.
func BenchmarkPreview(b *testing.B) {
	for _, n := range []int{100000, 1000000} {
		b.Run(fmt.Sprintf("profiles=%d", n), func(b *testing.B) {
			s := benchEngine(b, n, t0)
			la := s.order[0]
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				s.preview(la, 10)
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkTimers measures window exits: each operation is one timer
// firing and its audience evaluated.
func BenchmarkTimers(b *testing.B) {
	s := benchEngine(b, 100000, t0)
	j := &Job{}
	var ids []string
	for _, la := range s.order {
		ids = append(ids, la.a.ID)
	}
	if err := s.evaluateAll(b.Context(), j, ids, cause{Kind: "backfill"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	fired := 0
	for now := t0; fired < b.N; now = now.Add(time.Hour) {
		s.mu.Lock()
		before := len(s.timers)
		s.mu.Unlock()
		s.Tick(now)
		s.mu.Lock()
		fired += max(before-len(s.timers), 1)
		s.mu.Unlock()
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(fired)/b.Elapsed().Seconds(), "timers/s")
}
