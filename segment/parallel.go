package segment

import (
	"runtime"
	"slices"
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
	// flipped and timed say that the membership and the timer changed:
	// the workers set them in the profile's state, which is theirs alone,
	// and leave what is shared (members, changes, the timer heap) to the
	// serial pass.
	flipped, timed bool
}

// evalOnly evaluates la for x's profile, as evaluate does, without
// changing anything.
func evalOnly(x *subject, la *live) result {
	res := audience.Evaluate(la.a.cond, x, x.now)
	next := res.NextChange
	for _, ct := range la.computed {
		if _, _, n := x.computed(ct); !n.IsZero() {
			next = earliest(next, n)
		}
	}
	return result{value: res.Value, next: next}
}

// backfillChunk evaluates one audience for the profiles of part in
// parallel, then records the results in order. It returns results, the
// buffer, for the next chunk. The caller holds s.mu.
func (s *Segments) backfillChunk(part []profileState, results []result, la *live, now time.Time, why cause) []result {
	results = slices.Grow(results[:0], len(part))[:len(part)]
	// An audience that others read is evaluated in the serial pass too:
	// the readers are evaluated when it flips, with the engine's subject.
	inPlace := len(la.readers) == 0
	slot := la.a.slot
	empty := &pstate{}
	parallel(len(part), func(_, lo, hi int) {
		x := &subject{s: s, now: now} // one per worker: a subject per profile would be allocated
		for i := lo; i < hi; i++ {
			p := part[i].p
			x.p, x.id = p, part[i].id
			if p == nil {
				x.p = empty
			}
			r := evalOnly(x, la)
			if p != nil && inPlace {
				r.timed = p.next.schedule(slot, r.next)
				r.flipped = p.member.flip(slot, r.value, now)
			}
			results[i] = r
		}
	})
	for i := range part {
		r, p, id := results[i], part[i].p, part[i].id
		if p != nil && inPlace {
			if r.timed {
				s.recordTimer(id, p, slot, r.next)
			}
			if r.flipped {
				s.recordMember(id, p, slot, r.value, now, why)
			}
			continue
		}
		if p == nil {
			if !r.value && r.next.IsZero() {
				continue // nothing to keep for a profile with no state
			}
			p = s.state(id)
			part[i].p = p // the audiences after this one see it
		}
		s.setTimer(id, p, slot, r.next)
		if s.setMember(id, p, slot, r.value, now, why) && len(la.readers) > 0 {
			s.reevaluate(id, p, change{after: la}, now, why)
		}
	}
	return results
}
