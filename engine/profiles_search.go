package engine

import (
	"bytes"
	"slices"
	"strings"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/profile"
)

// MaxSearchQuery bounds a search text.
const MaxSearchQuery = 200

// Search returns profiles with an identifier or a trait value containing q
// (case-insensitive), in ID order after the ID after, at most limit; and
// the cursor for the next page ("" on the last). A query "type:value" that
// names an identifier exactly finds its profile first. It scans every
// profile in memory: fine for look-ups by a person, not for automation.
func (p *Profiles) Search(q string, after string, limit int) ([]*ProfileView, string, error) {
	q = strings.TrimSpace(q)
	if q == "" || len(q) > MaxSearchQuery {
		return nil, "", mosaic.Errorf(mosaic.EINVALID, "Give a search text of 1 to %d characters: part of an email, a name, a user id, or type:value.", MaxSearchQuery)
	}
	var from identity.ProfileID
	if after != "" {
		id, err := identity.ParseProfileID(after)
		if err != nil {
			return nil, "", mosaic.Errorf(mosaic.EINVALID, "The cursor %q is not a profile ID; pass the previous page's next.", after)
		}
		from = id
	}
	ids := p.matching(strings.ToLower(q), from)
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1].String()
	}
	out := make([]*ProfileView, 0, len(ids))
	for _, id := range ids {
		if v, err := p.Profile(id.String()); err == nil {
			out = append(out, v)
		}
	}
	return out, next, nil
}

// matching returns the IDs above from whose identifiers or traits contain
// q, sorted.
func (p *Profiles) matching(q string, from identity.ProfileID) []identity.ProfileID {
	var ids []identity.ProfileID
	if exact, err := p.Find(q); err == nil && exact > from {
		ids = append(ids, exact)
	}
	for id := range p.graph().Profiles() {
		if id <= from || slices.Contains(ids, id) {
			continue
		}
		if p.identifierMatches(id, q) || p.traitMatches(id, q) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (p *Profiles) identifierMatches(id identity.ProfileID, q string) bool {
	for _, info := range p.graph().Identifiers(id) {
		if strings.Contains(strings.ToLower(info.Value), q) {
			return true
		}
	}
	return false
}

func (p *Profiles) traitMatches(id identity.ProfileID, q string) bool {
	w := p.part(uint64(id))
	w.mu.RLock()
	defer w.mu.RUnlock()
	pr := w.set.Get(uint64(id))
	if pr == nil {
		return false
	}
	needle := []byte(q)
	return slices.ContainsFunc(pr.Traits(), func(t profile.Trait) bool {
		return len(t.Value) > 0 && t.Value[0] == '"' && bytes.Contains(bytes.ToLower(t.Value), needle)
	})
}

// Rules returns the identity resolution rules in force.
func (p *Profiles) Rules() identity.Rules { return p.graph().Rules() }
