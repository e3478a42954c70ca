package segment

import (
	"maps"
	"slices"
	"sort"
)

// A destination connecting to an audience, and the members API, page
// through the members in ID order. Sorting the whole set for every page
// made walking an audience of a million quadratic: 65 ms a page under the
// engine's lock, a thousand pages. The engine keeps each paged audience's
// members in ID order instead, as of when they were sorted, with the
// entries since beside them and a count of the exits since; a page takes
// the sorted IDs after its start that are still members and merges in
// the entries. Orders are made on the first page and dropped when the
// changes since would cost more than sorting again.

// memberOrder is one audience's members in ID order. The caller holds
// s.mu for every use.
type memberOrder struct {
	sorted []uint64 // the members when sorted; some may have left since
	added  []uint64 // entered since, in any order, possibly repeated
	left   int      // exits since
}

// stale reports whether the changes since the order was made outweigh it.
func (o *memberOrder) stale() bool {
	return len(o.added)+o.left >= max(len(o.sorted)/4, 4096)
}

// memberEntered and memberLeft keep the audience's order, if it has one,
// in step with its set of members.
func (s *Segments) memberEntered(aud string, id uint64) {
	if len(s.memberOrders) == 0 {
		return // no audience paged: the usual case, on every flip
	}
	if o := s.memberOrders[aud]; o != nil {
		o.added = append(o.added, id)
		if o.stale() {
			delete(s.memberOrders, aud)
		}
	}
}

func (s *Segments) memberLeft(aud string) {
	if len(s.memberOrders) == 0 {
		return
	}
	if o := s.memberOrders[aud]; o != nil {
		o.left++
		if o.stale() {
			delete(s.memberOrders, aud)
		}
	}
}

// membersAfter returns the members of aud (whose set is set) with an ID
// above after, in ID order, at most limit.
func (s *Segments) membersAfter(aud string, set map[uint64]bool, after uint64, limit int) []uint64 {
	o := s.memberOrders[aud]
	if o == nil {
		o = &memberOrder{sorted: slices.Sorted(maps.Keys(set))}
		s.memberOrders[aud] = o
	}
	var extra []uint64
	for _, id := range o.added {
		if id > after && set[id] {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	extra = slices.Compact(extra)
	sorted := o.sorted[sort.Search(len(o.sorted), func(i int) bool { return o.sorted[i] > after }):]
	out := make([]uint64, 0, min(limit, len(set)))
	for len(out) < limit && (len(sorted) > 0 || len(extra) > 0) {
		if len(extra) == 0 || len(sorted) > 0 && sorted[0] <= extra[0] {
			id := sorted[0]
			sorted = sorted[1:]
			if len(extra) > 0 && extra[0] == id {
				extra = extra[1:] // left and entered again: one member
			}
			if set[id] {
				out = append(out, id)
			}
			continue
		}
		out, extra = append(out, extra[0]), extra[1:]
	}
	return out
}
