package segment

import (
	"runtime"
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic/audience"
)

// Backfills and previews evaluate one condition over every profile. The
// evaluations only read (each worker its own profiles; definitions and
// memberships do not change while s.mu is held), so they run on every
// core; applying the results, which writes, stays serial.

// parallel calls fn over [0, n) split into one contiguous range per core,
// and waits for them.
func parallel(n int, fn func(worker, lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n/256, 1))
	if workers == 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { fn(w, lo, hi) })
	}
	wg.Wait()
}

// result is one profile's answer for one audience.
type result struct {
	value bool
	next  time.Time
}

// evalOnly evaluates la for x's profile, as evaluate does, without
// changing anything.
func evalOnly(x *subject, la *live) result {
	p, now := x.p, x.now
	res := audience.Evaluate(la.a.cond, x, now)
	next := res.NextChange
	for _, ct := range la.computed {
		if _, _, n := ct.value(p.Events[ct.Event], now); !n.IsZero() {
			next = earliest(next, n)
		}
	}
	return result{res.Value, next}
}

// backfillChunk evaluates one audience for the profiles ids (with their
// states, nil for none) in parallel, then applies the results in order.
// The caller holds s.mu.
func (s *Segments) backfillChunk(ids []uint64, states []*pstate, la *live, now time.Time, why cause) {
	results := make([]result, len(ids))
	empty := &pstate{}
	parallel(len(ids), func(_, lo, hi int) {
		x := &subject{s: s, now: now} // one per worker: a subject per profile would be allocated
		for i := lo; i < hi; i++ {
			x.p, x.id = states[i], ids[i]
			if x.p == nil {
				x.p = empty
			}
			results[i] = evalOnly(x, la)
		}
	})
	for i, id := range ids {
		r, p := results[i], states[i]
		if p == nil {
			if !r.value && r.next.IsZero() {
				continue // nothing to keep for a profile with no state
			}
			p = s.state(id)
			states[i] = p // the audiences after this one see it
		}
		s.setTimer(id, p, la.a.ID, r.next)
		if s.setMember(id, p, la.a.ID, r.value, now, why) && len(la.readers) > 0 {
			s.reevaluate(id, p, change{after: la}, now, why)
		}
	}
}
