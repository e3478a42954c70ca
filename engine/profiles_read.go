package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/profile"
	"github.com/mosaic-cdp/mosaic/store"
)

// ProfileView is a profile as the API shows it: its identifiers and its
// state.
type ProfileView struct {
	ID          identity.ProfileID        `json:"id"`
	Identifiers []identity.IdentifierInfo `json:"identifiers"`
	profile.ProfileJSON
}

// IdentityView is a profile's identifiers and the history of the merges and
// refusals that shaped it.
type IdentityView struct {
	ID          identity.ProfileID        `json:"id"`
	Identifiers []identity.IdentifierInfo `json:"identifiers"`
	History     []identity.Decision       `json:"history"`
}

// Find returns the profile ref names: a profile ID ("p" and 16 hex digits;
// an ID absorbed by a merge leads to the survivor) or an identifier
// "type:value", normalised as events' identifiers are.
func (p *Profiles) Find(ref string) (identity.ProfileID, error) {
	if !p.loaded.Load() {
		// Until then every profile would look missing.
		return 0, mosaic.Errorf(mosaic.EUNAVAILABLE, "Profiles are still loading (the server or its processing just started); retry in a moment.")
	}
	// Only a ref of a profile ID's length can be one: the check spares a
	// lookup by identifier the error ParseProfileID would build.
	if mayBeProfileID(ref) {
		if id, err := identity.ParseProfileID(ref); err == nil {
			return p.findByID(ref, id)
		}
	}
	if !strings.Contains(ref, ":") {
		return 0, mosaic.Errorf(mosaic.EINVALID, "%q is neither a profile ID (p and 16 hex digits) nor an identifier type:value such as email:jane@example.com or user_id:42.", ref)
	}
	raw, err := identity.ParseIdentifier(ref)
	if err != nil {
		return 0, mosaic.Errorf(mosaic.EINVALID, "%q is not an identifier: write type:value, such as email:jane@example.com.", ref)
	}
	norm, err := p.x.Normalize(raw)
	if err != nil {
		return 0, mosaic.Errorf(mosaic.EINVALID, "%q is not a valid %s: %v.", raw.Value, raw.Type, err)
	}
	id, ok := p.graph().Lookup(norm)
	if !ok {
		return 0, mosaic.Errorf(mosaic.ENOTFOUND, "No profile has the identifier %s.", norm)
	}
	return id, nil
}

// findByID returns the profile that holds id's data now.
func (p *Profiles) findByID(ref string, id identity.ProfileID) (identity.ProfileID, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for i := 0; i < 64; i++ { // chains of merges; bounded against a cycle
		next, ok := p.redirects[id]
		if !ok {
			break
		}
		id = next
	}
	if _, ok := p.graph().Profile(id); ok {
		return id, nil
	}
	return 0, mosaic.Errorf(mosaic.ENOTFOUND, "No profile %s.", ref)
}

// Profile returns the profile ref names (see Find).
func (p *Profiles) Profile(ref string) (*ProfileView, error) {
	id, err := p.Find(ref)
	if err != nil {
		return nil, err
	}
	v := &ProfileView{ID: id, Identifiers: p.graph().Identifiers(id)}
	w := p.part(uint64(id))
	w.mu.RLock()
	pr := w.set.Get(uint64(id))
	if pr == nil {
		pr = profile.New(uint64(id)) // identifiers seen, no event applied yet
	}
	v.ProfileJSON = profile.View(pr)
	w.mu.RUnlock()
	return v, nil
}

// Identity returns the identifiers and merge history of the profile ref
// names.
func (p *Profiles) Identity(ref string) (*IdentityView, error) {
	id, err := p.Find(ref)
	if err != nil {
		return nil, err
	}
	return &IdentityView{ID: id, Identifiers: p.graph().Identifiers(id), History: p.graph().History(id)}, nil
}

// Timeline returns the profile's events newest first: those not saved yet,
// then the saved ones, older than (before, beforeSeq) if before is set.
func (p *Profiles) Timeline(ctx context.Context, ref string, before time.Time, beforeSeq uint64, limit int) ([]store.TimelineRow, error) {
	id, err := p.Find(ref)
	if err != nil {
		return nil, err
	}
	var out []store.TimelineRow
	w := p.part(uint64(id))
	w.mu.RLock()
	for _, t := range w.set.PendingTimeline(uint64(id)) {
		if before.IsZero() || t.Time.Before(before) || (t.Time.Equal(before) && t.Seq < beforeSeq) {
			out = append(out, t)
		}
	}
	w.mu.RUnlock()
	p.mu.RLock()
	for _, rows := range p.saving {
		for _, t := range rows {
			// A row being saved may belong to a profile that id absorbed
			// since: the store moves it to id in the same save.
			if p.survivorLocked(t.ProfileID) == uint64(id) && (before.IsZero() || t.Time.Before(before) || (t.Time.Equal(before) && t.Seq < beforeSeq)) {
				t.ProfileID = uint64(id)
				out = append(out, t)
			}
		}
	}
	p.mu.RUnlock()
	// Pending rows come in the order they were applied, and a late event
	// is older than what the store has: sort them, and take a full page of
	// saved rows too, for the merge.
	slices.SortFunc(out, func(a, b store.TimelineRow) int {
		switch {
		case newer(a, b):
			return -1
		case newer(b, a):
			return 1
		}
		return 0
	})
	saved, err := p.st.Timeline(ctx, uint64(id), before, beforeSeq, limit)
	if err != nil {
		return nil, err
	}
	return mergeTimelines(out, saved, limit), nil
}

// mergeTimelines merges two newest-first lists, dropping rows of the same
// seq (a row may be saved while it was read as pending).
func mergeTimelines(a, b []store.TimelineRow, limit int) []store.TimelineRow {
	out := make([]store.TimelineRow, 0, min(limit, len(a)+len(b)))
	seen := map[uint64]bool{}
	i, j := 0, 0
	for len(out) < limit && (i < len(a) || j < len(b)) {
		var r store.TimelineRow
		if j >= len(b) || (i < len(a) && newer(a[i], b[j])) {
			r, i = a[i], i+1
		} else {
			r, j = b[j], j+1
		}
		if !seen[r.Seq] {
			seen[r.Seq] = true
			out = append(out, r)
		}
	}
	return out
}

func newer(x, y store.TimelineRow) bool {
	return x.Time.After(y.Time) || (x.Time.Equal(y.Time) && x.Seq > y.Seq)
}

// survivorLocked returns the profile that holds id's data now: id, or the
// last of the profiles that absorbed it one after another. p.mu must be
// held.
func (p *Profiles) survivorLocked(id uint64) uint64 {
	for range len(p.redirects) + 1 { // a chain never repeats; this bounds a broken one
		next, ok := p.redirects[identity.ProfileID(id)]
		if !ok {
			return id
		}
		id = uint64(next)
	}
	return id
}

// mayBeProfileID reports whether ref has the form of a profile ID, "p" and
// 16 characters; only then can identity.ParseProfileID accept it.
func mayBeProfileID(ref string) bool { return len(ref) == 17 && ref[0] == 'p' }
