package segment

import (
	"time"
)

// timer is a moment one audience must be evaluated again for one profile.
// The heap may hold timers that were replaced since (the profile's Next
// says which one counts); they are dropped when they come up.
// It holds plain numbers (the moment as seconds and nanoseconds, the
// audience's slot) so that the garbage collector does not scan the heap.
type timer struct {
	sec     int64
	nsec    int32
	slot    int32
	profile uint64
}

func (t timer) at() time.Time { return time.Unix(t.sec, int64(t.nsec)).UTC() }

func (t timer) before(u timer) bool { return t.sec < u.sec || t.sec == u.sec && t.nsec < u.nsec }

// afterTime reports whether t is after the instant u.
func (t timer) afterTime(u time.Time) bool {
	sec := u.Unix()
	return t.sec > sec || t.sec == sec && t.nsec > int32(u.Nanosecond())
}

// timerHeap is a min-heap of timers by moment. It is typed rather than
// a container/heap: boxing each timer in an interface cost an allocation
// per push on the real-time path.
type timerHeap []timer

func (h *timerHeap) push(t timer) {
	*h = append(*h, t)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q[i].before(q[parent]) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *timerHeap) pop() timer {
	q := *h
	t := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = timer{}
	*h = q[:last]
	h.down(0)
	return t
}

func (h timerHeap) down(i int) {
	for {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].before(h[small]) {
			small = l
		}
		if r < len(h) && h[r].before(h[small]) {
			small = r
		}
		if small == i {
			return
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}

// due pops the earliest timer if it is at or before now.
func (h *timerHeap) due(now time.Time) (timer, bool) {
	if len(*h) == 0 || (*h)[0].afterTime(now) {
		return timer{}, false
	}
	return h.pop(), true
}

// next returns the earliest moment, zero if there is none.
func (h timerHeap) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].at()
}

// setTimer makes at the profile's next evaluation of the audience; zero
// removes it.
func (s *Segments) setTimer(id uint64, p *pstate, slot int32, at time.Time) {
	if p.next.schedule(slot, at) {
		s.recordTimer(id, p, slot, at)
	}
}

// recordTimer records a change of the profile's timer that its state
// already has: a new moment goes on the heap.
func (s *Segments) recordTimer(id uint64, p *pstate, slot int32, at time.Time) {
	if !at.IsZero() {
		t := timer{sec: at.Unix(), nsec: int32(at.Nanosecond()), slot: slot, profile: id}
		wasFirst := len(s.timers) == 0 || t.before(s.timers[0])
		s.timers.push(t)
		if len(s.timers) > 2*s.timersKept+4096 {
			s.compactTimers()
		}
		if wasFirst {
			s.poke()
		}
	}
	s.touch(id, p)
}

// poke wakes Run to look at the timers again.
func (s *Segments) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Tick evaluates every timer due at or before now, each at its own
// moment, and returns how many flipped a membership. Run calls it when the
// earliest timer is due; tests call it with a controlled clock.
func (s *Segments) Tick(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	flips := 0
	for {
		t, ok := s.timers.due(now)
		if !ok {
			return flips
		}
		p := s.states[t.profile]
		if p == nil {
			continue
		}
		at := t.at()
		if !p.next.equal(t.slot, at) {
			continue // replaced by a later evaluation
		}
		p.next.del(t.slot)
		s.touch(t.profile, p)
		la := s.liveAudience(s.slotID(t.slot))
		if la == nil {
			continue
		}
		flips += s.reevaluate(t.profile, p, change{one: la}, at, cause{Kind: "time"})
	}
}

// compactTimers drops the timers that were replaced since they were
// pushed. It runs when the heap has doubled since the last compaction, so
// its cost per push is constant, and the heap stays within about twice the
// timers that count.
func (s *Segments) compactTimers() {
	kept := s.timers[:0]
	for _, t := range s.timers {
		if p := s.states[t.profile]; p != nil {
			if i, ok := p.next.find(t.slot); ok && p.next[i].sec == t.sec && p.next[i].nsec == t.nsec {
				kept = append(kept, t)
			}
		}
	}
	clear(s.timers[len(kept):])
	s.timers = kept
	for i := len(kept)/2 - 1; i >= 0; i-- {
		kept.down(i)
	}
	s.timersKept = len(kept)
}
