package engine

import (
	"slices"

	"github.com/mosaic-cdp/mosaic/profile"
)

// ProfileIDs returns the IDs of every profile the stage holds, sorted.
func (p *Profiles) ProfileIDs() []uint64 {
	p.mu.RLock()
	ids := make([]uint64, 0, p.set.Len())
	p.set.Range(func(pr *profile.Profile) bool {
		ids = append(ids, pr.ID)
		return true
	})
	p.mu.RUnlock()
	slices.Sort(ids)
	return ids
}

// ReadProfiles calls fn once with those of ids that exist, holding the
// stage's read lock: no event is applied while fn runs, so an observer can
// read profiles and its own state as of one position. fn must not keep the
// profiles nor call back into the stage.
func (p *Profiles) ReadProfiles(ids []uint64, fn func([]*profile.Profile)) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	found := make([]*profile.Profile, 0, len(ids))
	for _, id := range ids {
		if pr := p.set.Get(id); pr != nil {
			found = append(found, pr)
		}
	}
	fn(found)
}
