package segment

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// sliceHeap is the timer heap as one slice, as it was before it was kept
// in blocks: the reference the blocks must agree with, ties included.
type sliceHeap []timer

func (h *sliceHeap) push(t timer) {
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

func (h *sliceHeap) pop() timer {
	q := *h
	t := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = timer{}
	*h = q[:last]
	h.down(0)
	return t
}

func (h sliceHeap) down(i int) {
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

func (h *sliceHeap) due(now time.Time) (timer, bool) {
	if len(*h) == 0 || (*h)[0].afterTime(now) {
		return timer{}, false
	}
	return h.pop(), true
}

// randomTimer returns a timer among few moments, so that many tie.
func randomTimer(rng *rand.Rand, moments int) timer {
	return timer{sec: int64(rng.IntN(moments)), nsec: int32(rng.IntN(3)), slot: int32(rng.IntN(50)), profile: uint64(rng.IntN(1000))}
}

// TestTimerHeap: the heap in blocks pops the same timers in the same order
// as the heap in one slice, across block boundaries, growing and
// shrinking.
func TestTimerHeap(t *testing.T) {
	for _, n := range []int{0, 1, 2, timerBlock - 1, timerBlock, timerBlock + 1, 3*timerBlock + 17} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(n), 5))
			var got timerHeap
			var want sliceHeap
			for round := range 4 {
				for range n {
					tm := randomTimer(rng, n/4+1)
					got.push(tm)
					want.push(tm)
				}
				// Pop up to a moment, then (last round) all.
				now := time.Unix(int64(rng.IntN(n/4+1)), 1)
				if round == 3 {
					now = time.Unix(1<<40, 0)
				}
				for {
					g, gok := got.due(now)
					w, wok := want.due(now)
					if g != w || gok != wok {
						t.Fatalf("round %d: due(%v) = %+v, %v, want %+v, %v", round, now, g, gok, w, wok)
					}
					if !gok {
						break
					}
				}
				if got.len() != len(want) || got.next() != sliceHeap.next(want) {
					t.Fatalf("round %d: len, next = %d, %v, want %d, %v", round, got.len(), got.next(), len(want), sliceHeap.next(want))
				}
			}
		})
	}
}

func (h sliceHeap) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].at()
}

// TestCompactTimers: compaction keeps the timers that count and leaves a
// heap that pops them as the slice's compaction did.
func TestCompactTimers(t *testing.T) {
	for _, n := range []int{1, 100, 2*timerBlock + 3, 5 * timerBlock} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(n), 6))
			s := New(nil, nil, Options{Now: time.Now})
			var want sliceHeap
			for range 3 * n {
				tm := randomTimer(rng, n/4+1)
				p := s.state(tm.profile)
				if rng.IntN(3) > 0 { // the latest for its slot counts; earlier ones were replaced
					p.next.set(tm.slot, tm.at())
				}
				s.timers.push(tm)
				want.push(tm)
			}
			s.compactTimers()
			kept := want[:0]
			for _, tm := range want {
				if p := s.states[tm.profile]; p != nil && p.next.equal(tm.slot, tm.at()) {
					kept = append(kept, tm)
				}
			}
			want = kept
			for i := len(want)/2 - 1; i >= 0; i-- {
				want.down(i)
			}
			if s.timers.len() != len(want) || s.timersKept != len(want) {
				t.Fatalf("compaction kept %d (timersKept %d), want %d", s.timers.len(), s.timersKept, len(want))
			}
			if len(s.timers.blocks) > len(want)/timerBlock+2 {
				t.Errorf("compaction kept %d blocks for %d timers", len(s.timers.blocks), len(want))
			}
			for range len(want) {
				if g, w := s.timers.pop(), want.pop(); g != w {
					t.Fatalf("pop() = %+v, want %+v", g, w)
				}
			}
		})
	}
}
