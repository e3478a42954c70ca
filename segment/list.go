package segment

import (
	"cmp"
	"slices"
)

// Backfills and previews read every profile's state. Read in ID order,
// which is about the order the states were made in, the processor fetches
// the memory ahead; read in the map's order, each state was a cache miss
// or several. The engine keeps the list in ID order between them: live
// traffic adds a few profiles between two previews, which are merged in,
// rather than sorting a million again. A removal (merge, split, erasure)
// is rarer and makes the next user build the list again.

// profileState is a profile and its state, nil for none.
type profileState struct {
	id uint64
	p  *pstate
}

// profileList is the profiles with a state in ID order. The caller holds
// s.mu for every method.
type profileList struct {
	sorted []profileState // never changed once made: readers may hold it
	added  []profileState // states made since, in any order
	valid  bool
}

// add notes a new state.
func (l *profileList) add(id uint64, p *pstate) {
	if !l.valid {
		return
	}
	// Profiles made in bulk (a replay, a load) are cheaper to sort with
	// the rest than to merge, and the list must not grow without bound
	// while no backfill or preview reads it.
	if len(l.added) >= max(len(l.sorted)/4, 4096) {
		*l = profileList{}
		return
	}
	l.added = append(l.added, profileState{id, p})
}

// removed notes that a state was removed: the list is built again.
func (l *profileList) removed() { *l = profileList{} }

// get returns the list, merging the states added since, and false if it
// must be built (see set).
func (l *profileList) get() ([]profileState, bool) {
	if !l.valid {
		return nil, false
	}
	if len(l.added) > 0 {
		sortByID(l.added)
		l.sorted, l.added = mergeByID(l.sorted, l.added), nil
	}
	return l.sorted, true
}

// set makes sorted (every profile with a state, in ID order) the list.
func (l *profileList) set(sorted []profileState) {
	*l = profileList{sorted: sorted, valid: true}
}

func sortByID(list []profileState) {
	slices.SortFunc(list, func(a, b profileState) int { return cmp.Compare(a.id, b.id) })
}

// mergeByID merges two lists in ID order into a new one.
func mergeByID(a, b []profileState) []profileState {
	out := make([]profileState, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].id <= b[0].id {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// byID returns the profiles with a state in ID order. The caller holds
// s.mu and must not change the list.
func (s *Segments) byID() []profileState {
	if all, ok := s.list.get(); ok {
		return all
	}
	all := s.collectStates()
	sortByID(all)
	s.list.set(all)
	return all
}

// collectStates returns the profiles with a state, in the map's order.
// The caller holds s.mu.
func (s *Segments) collectStates() []profileState {
	all := make([]profileState, 0, len(s.states))
	for id, p := range s.states {
		all = append(all, profileState{id, p})
	}
	return all
}

// withProfiles returns the profiles of all (in ID order), and those of
// ids (the profile stage's) with no state, in ID order.
func withProfiles(all []profileState, ids []uint64) []profileState {
	if len(ids) == 0 {
		return all
	}
	if !slices.IsSorted(ids) {
		ids = slices.Sorted(slices.Values(ids))
	}
	out := make([]profileState, 0, max(len(all), len(ids)))
	i := 0
	for _, id := range ids {
		for i < len(all) && all[i].id < id {
			out = append(out, all[i])
			i++
		}
		switch {
		case i < len(all) && all[i].id == id:
			out = append(out, all[i])
			i++
		case len(out) == 0 || out[len(out)-1].id != id:
			out = append(out, profileState{id: id})
		}
	}
	return append(out, all[i:]...)
}
