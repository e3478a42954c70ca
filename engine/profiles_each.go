package engine

import (
	"slices"

	"github.com/mosaic-cdp/mosaic/profile"
)

// ProfileIDs returns the IDs of every profile the stage holds, sorted.
func (p *Profiles) ProfileIDs() []uint64 {
	var ids []uint64
	for _, w := range p.parts {
		w.mu.RLock()
		ids = slices.Grow(ids, w.set.Len())
		w.set.Range(func(pr *profile.Profile) bool {
			ids = append(ids, pr.ID)
			return true
		})
		w.mu.RUnlock()
	}
	slices.Sort(ids)
	return ids
}

// ReadProfiles calls fn once with those of ids that exist, holding every
// partition's read lock (always in partition order): no event is applied
// while fn runs, so an observer can read profiles and its own state as of
// one position. fn must not keep the profiles nor call back into the stage.
func (p *Profiles) ReadProfiles(ids []uint64, fn func([]*profile.Profile)) {
	for _, w := range p.parts {
		w.mu.RLock()
	}
	defer func() {
		for _, w := range p.parts {
			w.mu.RUnlock()
		}
	}()
	found := make([]*profile.Profile, 0, len(ids))
	for _, id := range ids {
		if pr := p.part(id).set.Get(id); pr != nil {
			found = append(found, pr)
		}
	}
	fn(found)
}
