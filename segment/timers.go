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
// per push on the real-time path. It holds millions of timers when the
// engine catches up on a backlog, and it is kept in blocks of fixed size
// rather than one slice: each growth of the slice copied every timer again
// to fresh memory (half the cost of a push).
type timerHeap struct {
	blocks []*[timerBlock]timer
	n      int
}

const timerBlock = 1 << 12

func (h *timerHeap) len() int { return h.n }

func (h *timerHeap) at(i int) *timer { return &h.blocks[uint(i)/timerBlock][uint(i)%timerBlock] }

func (h *timerHeap) push(t timer) {
	if h.n == len(h.blocks)*timerBlock {
		h.blocks = append(h.blocks, new([timerBlock]timer))
	}
	i := h.n
	h.n++
	for i > 0 {
		parent := (i - 1) / 2
		p := h.at(parent)
		if !t.before(*p) {
			break
		}
		*h.at(i) = *p
		i = parent
	}
	*h.at(i) = t
}

func (h *timerHeap) pop() timer {
	first := h.at(0)
	t := *first
	h.n--
	last := h.at(h.n)
	*first, *last = *last, timer{}
	h.down(0)
	return t
}

// down moves the timer at i down to its place. It holds that timer aside
// and moves each smaller child up, as push does with parents: each level
// costs one write rather than a swap.
func (h *timerHeap) down(i int) {
	t := *h.at(i)
	for {
		l := 2*i + 1
		if l >= h.n {
			break
		}
		c, small := h.at(l), l
		if r := l + 1; r < h.n {
			if rc := h.at(r); rc.before(*c) {
				c, small = rc, r
			}
		}
		if !c.before(t) {
			break
		}
		*h.at(i) = *c
		i = small
	}
	*h.at(i) = t
}

// due pops the earliest timer if it is at or before now.
func (h *timerHeap) due(now time.Time) (timer, bool) {
	if h.n == 0 || h.at(0).afterTime(now) {
		return timer{}, false
	}
	return h.pop(), true
}

// next returns the earliest moment, zero if there is none.
func (h *timerHeap) next() time.Time {
	if h.n == 0 {
		return time.Time{}
	}
	return h.at(0).at()
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
		wasFirst := s.timers.len() == 0 || t.before(*s.timers.at(0))
		s.timers.push(t)
		if s.timers.len() > 2*s.timersKept+4096 {
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
	h := &s.timers
	kept := 0
	for i := range h.n {
		t := *h.at(i)
		if p := s.states[t.profile]; p != nil {
			if j, ok := p.next.find(t.slot); ok && p.next[j].sec == t.sec && p.next[j].nsec == t.nsec {
				*h.at(kept) = t
				kept++
			}
		}
	}
	for i := kept; i < h.n; i++ {
		*h.at(i) = timer{}
	}
	h.n = kept
	// Keep a block to spare, not more: the heap grows again from here.
	used := (kept + timerBlock - 1) / timerBlock
	if len(h.blocks) > used+1 {
		clear(h.blocks[used+1:])
		h.blocks = h.blocks[:used+1]
	}
	for i := kept/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	s.timersKept = kept
}
