package segment

import (
	"fmt"
	"runtime"
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
		p.traits = []trait{newTrait(s.intern("country"), fmt.Sprintf(`"C%d"`, i%10)), newTrait(s.intern("plan"), fmt.Sprintf(`"p%d"`, i%7))}
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
	set := profile.NewSet()
	for i := range n {
		name, props := "Order Completed", fmt.Sprintf(`{"revenue":%d}`, i%120)
		if i%2 == 1 {
			name, props = "Product Viewed", fmt.Sprintf(`{"category":"c%d"}`, i%10)
		}
		msg := fmt.Sprintf(`{"type":"track","userId":"u%d","event":%q,"timestamp":%q,"properties":%s}`, i, name, now.Format(time.RFC3339), props)
		ev := &mosaic.Event{Type: mosaic.TypeTrack, ReceivedAt: now, Message: []byte(msg)}
		changes = append(changes, applied(b, set, uint64(i+1), ev))
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
	runtime.GC() // the setup's garbage is not the measured path's
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

// applied applies ev to profile id of set and returns the change the
// profile stage shows observers, with the name and time it read.
func applied(b *testing.B, set *profile.Set, id uint64, ev *mosaic.Event) *engine.ProfileChange {
	b.Helper()
	if err := set.Apply(id, ev); err != nil {
		b.Fatal(err)
	}
	c := &engine.ProfileChange{Event: ev, Profile: id, State: set.Get(id)}
	c.Name, c.Time, c.Envelope = set.Applied()
	return c
}

// newProfiles gives k new profiles after ID from a state, as the
// profiles that live traffic makes between two backfills or previews.
func newProfiles(s *Segments, from, k int) {
	for id := range k {
		s.state(uint64(from + id + 1)).traits = []trait{newTrait(s.intern("country"), `"NL"`)}
	}
}

// BenchmarkBackfill evaluates one new audience over every profile, as
// creating it does.
func BenchmarkBackfill(b *testing.B) {
	for _, n := range []int{100000, 1000000} {
		b.Run(fmt.Sprintf("profiles=%d", n), func(b *testing.B) {
			s := benchEngine(b, n, t0)
			j := &Job{}
			runtime.GC() // the setup's garbage is not the measured path's
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				newProfiles(s, n+i*1000, 1000) // live traffic between two backfills
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
			runtime.GC()
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				newProfiles(s, n+i*1000, 1000) // live traffic between two previews
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
		before := s.timers.len()
		s.mu.Unlock()
		s.Tick(now)
		s.mu.Lock()
		fired += max(before-s.timers.len(), 1)
		s.mu.Unlock()
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(fired)/b.Elapsed().Seconds(), "timers/s")
}

// mixEngines keeps the engine of BenchmarkObserveMix between the runs the
// testing package makes with growing b.N: building a million profiles
// takes longer than the measurement.
var mixEngines = map[int]*Segments{}

// BenchmarkObserveMix measures the real-time path on a realistic mix of
// traffic over 1,000,000 profiles with the 50 audiences live: 55% page
// views and 10% other events no audience reads, 15% product views (10 of
// the 50 audiences read them), 15% identifies (a quarter of them changing
// a trait audiences read) and 5% orders (40 audiences). Memberships start
// empty rather than backfilled (a backfill of 50 audiences over a million
// profiles would take minutes per run), so early evaluations record
// entries, which steady state would not.
func BenchmarkObserveMix(b *testing.B) {
	now := t0
	const n = 1000000
	s := mixEngines[n]
	if s == nil {
		s = benchEngine(b, n, now)
		mixEngines[n] = s
	}
	const distinct = 100000
	changes := make([]*engine.ProfileChange, 0, distinct)
	set := profile.NewSet()
	for i := range distinct {
		pid := uint64(i*7919%n + 1) // spread over every profile
		var msg string
		typ := mosaic.TypeTrack
		switch k := i % 20; {
		case k < 11:
			typ = mosaic.TypePage
			msg = fmt.Sprintf(`{"type":"page","userId":"u%d","name":"Home","timestamp":%q,"properties":{"path":"/p%d"}}`, pid, now.Format(time.RFC3339), i%50)
		case k < 13:
			msg = fmt.Sprintf(`{"type":"track","userId":"u%d","event":"Button Clicked","timestamp":%q,"properties":{"id":"b%d"}}`, pid, now.Format(time.RFC3339), i%9)
		case k < 16:
			msg = fmt.Sprintf(`{"type":"track","userId":"u%d","event":"Product Viewed","timestamp":%q,"properties":{"category":"c%d"}}`, pid, now.Format(time.RFC3339), i%10)
		case k < 19:
			typ = mosaic.TypeIdentify
			plan := int(pid) % 7
			if i%4 == 0 {
				plan = (plan + 1) % 7 // a change of plan
			}
			msg = fmt.Sprintf(`{"type":"identify","userId":"u%d","timestamp":%q,"traits":{"country":"C%d","plan":"p%d","email":"u%d@example.com"}}`, pid, now.Format(time.RFC3339), pid%10, plan, pid)
		default:
			msg = fmt.Sprintf(`{"type":"track","userId":"u%d","event":"Order Completed","timestamp":%q,"properties":{"revenue":%d}}`, pid, now.Format(time.RFC3339), i%120)
		}
		ev := &mosaic.Event{Type: typ, ReceivedAt: now, Seq: uint64(i + 1), Message: []byte(msg)}
		changes = append(changes, applied(b, set, pid, ev))
	}
	runtime.GC() // the setup's garbage is not the measured path's
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		c := changes[i%len(changes)]
		s.seq++
		c.Seq = s.seq
		s.Observe(c)
		if i%50000 == 49999 {
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
