package segment

import (
	"container/heap"
	"time"
)

// timer is a moment one audience must be evaluated again for one profile.
// The heap may hold timers that were replaced since (the profile's Next
// says which one counts); they are dropped when they come up.
type timer struct {
	at       time.Time
	profile  uint64
	audience string
}

// timerHeap is a min-heap of timers by moment.
type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

func (h *timerHeap) push(t timer) { heap.Push(h, t) }

// due pops the earliest timer if it is at or before now.
func (h *timerHeap) due(now time.Time) (timer, bool) {
	if len(*h) == 0 || (*h)[0].at.After(now) {
		return timer{}, false
	}
	return heap.Pop(h).(timer), true
}

// next returns the earliest moment, zero if there is none.
func (h timerHeap) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].at
}

// setTimer makes at the profile's next evaluation of the audience; zero
// removes it.
func (s *Segments) setTimer(id uint64, p *pstate, aud string, at time.Time) {
	old, had := p.Next[aud]
	switch {
	case at.IsZero() && !had:
		return
	case at.IsZero():
		delete(p.Next, aud)
	case had && old.Equal(at):
		return
	default:
		if p.Next == nil {
			p.Next = map[string]time.Time{}
		}
		p.Next[aud] = at
		wasFirst := len(s.timers) == 0 || at.Before(s.timers.next())
		s.timers.push(timer{at: at, profile: id, audience: aud})
		if wasFirst {
			s.poke()
		}
	}
	s.dirty[id] = true
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
		if at, ok := p.Next[t.audience]; !ok || !at.Equal(t.at) {
			continue // replaced by a later evaluation
		}
		la := s.liveAudience(t.audience)
		if la == nil {
			delete(p.Next, t.audience)
			continue
		}
		delete(p.Next, t.audience)
		s.dirty[t.profile] = true
		flips += s.reevaluate(t.profile, p, change{audiences: map[string]bool{t.audience: true}}, t.at, cause{Kind: "time"})
	}
}
