package dedupe

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func BenchmarkKeyOf(b *testing.B) {
	for b.Loop() {
		KeyOf("2bT9kQ0v8xYpWm3ZrL7cA1dE4fG", "0f8fad5b-d9cb-469f-a165-70867728950e")
	}
}

// fullIndex returns an index holding n keys spread evenly over the default
// window and its current day, and the time of the newest.
func fullIndex(n int) (*Index, []Key, time.Time) {
	x := New(DefaultOptions())
	keys := randomKeys(rand.New(rand.NewPCG(1, 2)), n)
	step := 8 * 24 * time.Hour / time.Duration(n)
	at := t0
	for _, k := range keys {
		at = at.Add(step)
		x.Seen(k, at)
	}
	x.Pending()
	return x, keys, at
}

// BenchmarkSeen measures lookups in an index of 2M keys (7 sealed days and a
// current one): new keys, which search every generation, and retries.
func BenchmarkSeen(b *testing.B) {
	x, keys, at := fullIndex(2_000_000)
	// i lives outside the closure: b.Run calls it again with a larger b.N,
	// and a fresh key must not be offered twice.
	fresh := randomKeys(rand.New(rand.NewPCG(3, 4)), 1<<20)
	i := 0
	b.Run("new", func(b *testing.B) {
		for b.Loop() {
			if x.Seen(fresh[i&(len(fresh)-1)], at) && i < len(fresh) {
				b.Fatal("fresh key reported as a duplicate")
			}
			i++
			if i&(len(fresh)-1) == 0 {
				x.Pending()
			}
		}
	})
	b.Run("duplicate", func(b *testing.B) {
		i := 0
		for b.Loop() {
			x.Seen(keys[len(keys)-1-i%len(keys)], at)
			i++
		}
	})
}

// BenchmarkMemory reports the heap bytes a key costs in a full index.
func BenchmarkMemory(b *testing.B) {
	const n = 2_000_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		x, _, _ := fullIndex(n) // the keys slice is garbage once this returns
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(x.Len()), "bytes/key")
		b.ReportMetric(float64(x.Len()), "keys")
		runtime.KeepAlive(x)
	}
}

// BenchmarkMemoryCurrentDay reports the heap bytes a key costs in the
// current generation, the one that takes new keys, at sizes between two
// growth steps of a map-based set.
func BenchmarkMemoryCurrentDay(b *testing.B) {
	for _, n := range []int{1_000_000, 1_500_000, 3_000_000, 4_000_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			keys := randomKeys(rand.New(rand.NewPCG(1, 2)), n)
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				x := New(DefaultOptions())
				for _, k := range keys {
					x.Seen(k, t0)
				}
				x.Pending()
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(x.Len()), "bytes/key")
				runtime.KeepAlive(x)
			}
		})
	}
}

// BenchmarkReplay mimics the dedupe stage of a replay: a stream of keys
// received over a few hours, about 2% of them copies of a recent key, with a
// checkpoint every 64k keys. It reports the cost of one event; each op is a
// whole stream into a new index, since the cost grows with the index.
func BenchmarkReplay(b *testing.B) {
	for _, n := range []int{1_000_000, 4_000_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			fresh := randomKeys(r, n)
			stream := make([]Key, n)
			for i := range stream {
				stream[i] = fresh[i]
				if i > 0 && r.IntN(50) == 0 {
					stream[i] = fresh[i-1-r.IntN(min(i, 100_000))]
				}
			}
			step := 6 * time.Hour / time.Duration(n)
			var before, after syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			for b.Loop() {
				x := New(DefaultOptions())
				at := t0
				for i, k := range stream {
					at = at.Add(step)
					x.Seen(k, at)
					if i&(1<<16-1) == 0 {
						x.Pending()
					}
				}
			}
			syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			// CPU time rather than wall time, which other processes on the
			// machine stretch; it includes the collector's work.
			cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
			b.ReportMetric(float64(cpu)/float64(b.N*n), "cpu-ns/event")
		})
	}
}
