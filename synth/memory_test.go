package synth

import (
	"runtime"
	"testing"
)

// heapBound is the most live heap a Generator may need, whatever the
// number of people: its window, and the buffers of one message.
const heapBound = 16 << 20

// TestMemoryIsBounded generates 200,000 people (a million messages) and
// samples the live heap: anything kept per person (a list of people,
// identifiers or messages) would take it past the bound.
func TestMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a million messages; skipped with -short")
	}
	o := DefaultOptions()
	o.People, o.EventsPerPerson, o.Seed = 200_000, 5, 99
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	g := New(o)
	var n, peak uint64
	for range g.All() {
		n++
		if n%100_000 == 0 {
			runtime.GC() // measure what is live, not what awaits collection
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
		}
	}
	t.Logf("%d messages for %d people; live heap at most %.1f MiB above the start", n, o.People, float64(peak)/(1<<20))
	if n < 900_000 {
		t.Errorf("messages for 200,000 people at 5 each = %d, want about a million", n)
	}
	if peak > heapBound {
		t.Errorf("live heap while generating = %d bytes, want at most %d", peak, heapBound)
	}
}
