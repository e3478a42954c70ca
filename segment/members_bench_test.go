package segment

import (
	"testing"
)

// BenchmarkMembersWalk pages through an audience of 1M members the way a
// destination's snapshot on connect does (pages of snapshotPage, each
// after the last ID of the one before), all under the engine's lock.
func BenchmarkMembersWalk(b *testing.B) {
	const members, page = 1_000_000, 1000
	s := &Segments{audiences: map[string]*Audience{"a": {ID: "a"}}, members: map[string]map[uint64]bool{},
		states: map[uint64]*pstate{}, memberOrders: map[string]*memberOrder{}}
	set := map[uint64]bool{}
	rng := uint64(1)
	for len(set) < members {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		id := rng>>34 + 1
		set[id] = true
		s.states[id] = &pstate{}
	}
	s.members["a"] = set
	b.ResetTimer()
	for range b.N {
		var after uint64
		pages := 0
		for {
			ms, _, err := s.Members("a", after, page)
			if err != nil {
				b.Fatal(err)
			}
			pages++
			if len(ms) < page {
				break
			}
			after = ms[len(ms)-1].ProfileID
		}
		if pages != members/page+1 {
			b.Fatalf("walked %d pages, want %d", pages, members/page+1)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(members/page+1)/1e6, "ms/page")
}
