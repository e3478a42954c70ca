package segment

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkTimerPush measures the timer heap filling up as it does while
// the engine catches up on a backlog: moments mostly later than those
// already there. Each operation fills an empty heap; ns/push is one push,
// its share of the growth included. The slice is the heap as it was kept
// before (sliceHeap).
func BenchmarkTimerPush(b *testing.B) {
	const n = 1 << 22
	at := func(i int) timer { return timer{sec: int64(i/8 + i%13), slot: int32(i % 50), profile: uint64(i)} }
	b.Run("blocks", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var h timerHeap
			for i := range n {
				h.push(at(i))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/push")
	})
	b.Run("slice", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var h sliceHeap
			for i := range n {
				h.push(at(i))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/push")
	})
}

// BenchmarkTimerPop measures popping the earliest timer of a heap of a
// million, as Tick does; each operation pops one and pushes one later.
func BenchmarkTimerPop(b *testing.B) {
	const n = 1 << 20
	rng := rand.New(rand.NewPCG(1, 1))
	var blocks timerHeap
	var slice sliceHeap
	for range n {
		t := timer{sec: rng.Int64N(1 << 30), profile: rng.Uint64()}
		blocks.push(t)
		slice.push(t)
	}
	b.Run("blocks", func(b *testing.B) {
		for b.Loop() {
			t := blocks.pop()
			t.sec += 1 << 30
			blocks.push(t)
		}
	})
	b.Run("slice", func(b *testing.B) {
		for b.Loop() {
			t := slice.pop()
			t.sec += 1 << 30
			slice.push(t)
		}
	})
}
