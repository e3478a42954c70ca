package segment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/audience"
	"github.com/mosaic-cdp/mosaic/store"
)

// awaitLoaded waits until the profile stage has loaded the engine: a
// definition changed before would be lost in the load.
func (s *Segments) awaitLoaded(ctx context.Context) error {
	select {
	case <-s.loaded:
		return nil
	case <-ctx.Done():
		return mosaic.Errorf(mosaic.EUNAVAILABLE, "Mosaic is still starting: try again in a moment.")
	}
}

// AwaitLoaded waits until the definitions and state are loaded, so that
// a caller that reads every audience (which purposes they use) sees them
// all; EUNAVAILABLE if ctx ends first.
func (s *Segments) AwaitLoaded(ctx context.Context) error { return s.awaitLoaded(ctx) }

func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// CreateComputedTrait saves a new computed trait and starts its backfill.
// ctx bounds the backfill too: pass one that lives as long as the server.
func (s *Segments) CreateComputedTrait(ctx context.Context, sp *ComputedTraitSpec) (*ComputedTrait, error) {
	if err := s.awaitLoaded(ctx); err != nil {
		return nil, err
	}
	t, err := sp.build()
	if err != nil {
		return nil, err
	}
	t.ID = newID("ct_")
	t.CreatedAt = s.opts.Now().UTC()
	t.UpdatedAt = t.CreatedAt
	if err := s.putDefinition(ctx, KindComputed, t.ID, t.Key, t); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.computed[t.ID], s.ctByKey[t.Key] = t, t
	s.mu.Unlock()
	s.startJob(s.jobContext(), t.ID, cause{Kind: "backfill"})
	return t, nil
}

// UpdateComputedTrait changes a computed trait and backfills it again. Its
// key cannot change while audiences read it.
func (s *Segments) UpdateComputedTrait(ctx context.Context, id string, sp *ComputedTraitSpec) (*ComputedTrait, error) {
	if err := s.awaitLoaded(ctx); err != nil {
		return nil, err
	}
	t, err := sp.build()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	old := s.computed[id]
	var readers []string
	if old != nil && old.Key != t.Key {
		readers = s.readersOfComputed(old.Key)
	}
	s.mu.Unlock()
	switch {
	case old == nil:
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No computed trait %q.", id)
	case len(readers) > 0:
		return nil, mosaic.Errorf(mosaic.ECONFLICT, "The audiences %v read the computed trait %q: change them before renaming it.", readers, old.Key)
	}
	t.ID, t.CreatedAt, t.UpdatedAt = id, old.CreatedAt, s.opts.Now().UTC()
	if err := s.putDefinition(ctx, KindComputed, t.ID, t.Key, t); err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.ctByKey, old.Key)
	s.computed[t.ID], s.ctByKey[t.Key] = t, t
	delete(s.meta.Ready, id)
	err = s.rebuild()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.startJob(s.jobContext(), t.ID, cause{Kind: "edit"})
	return t, nil
}

// DeleteComputedTrait deletes a computed trait no audience reads.
func (s *Segments) DeleteComputedTrait(ctx context.Context, id string) error {
	if err := s.awaitLoaded(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	t := s.computed[id]
	var readers []string
	if t != nil {
		readers = s.readersOfComputed(t.Key)
	}
	s.mu.Unlock()
	switch {
	case t == nil:
		return mosaic.Errorf(mosaic.ENOTFOUND, "No computed trait %q.", id)
	case len(readers) > 0:
		return mosaic.Errorf(mosaic.ECONFLICT, "The audiences %v read the computed trait %q: change or delete them first.", readers, t.Key)
	}
	if err := s.st.DeleteDefinition(ctx, KindComputed, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.computed, id)
	delete(s.ctByKey, t.Key)
	delete(s.meta.Ready, id)
	delete(s.jobs, id)
	s.mu.Unlock()
	return nil
}

func (s *Segments) readersOfComputed(key string) []string {
	var out []string
	for _, la := range s.order {
		if audience.Has(la.a.deps.Computed, key) {
			out = append(out, la.a.Key)
		}
	}
	return out
}

func (s *Segments) putDefinition(ctx context.Context, kind, id, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("segment: encode %s: %w", kind, err)
	}
	d := &store.Definition{Kind: kind, ID: id, Key: key, Data: data}
	switch x := v.(type) {
	case *ComputedTrait:
		d.CreatedAt, d.UpdatedAt = x.CreatedAt, x.UpdatedAt
	case *Audience:
		d.CreatedAt, d.UpdatedAt = x.CreatedAt, x.UpdatedAt
	}
	return s.st.PutDefinition(ctx, d)
}

// checkAudience parses and validates an audience's condition: references
// to audiences must exist and not form a cycle, computed traits must exist.
func (s *Segments) checkAudience(sp *AudienceSpec, id string) (*Audience, error) {
	if !keyPattern.MatchString(sp.Key) {
		return nil, invalid("key: %q is not a key: use 1 to 64 lower-case letters, digits and _, starting with a letter, like vip_nl.", sp.Key)
	}
	c, err := parseCondition(sp.Condition)
	if err != nil {
		return nil, err
	}
	a := &Audience{ID: id, Key: sp.Key, Name: sp.Name, Description: sp.Description}
	s.mu.Lock()
	defer s.mu.Unlock()
	if other := s.audByKey[sp.Key]; other != nil && other.ID != id {
		return nil, mosaic.Errorf(mosaic.ECONFLICT, "Another audience has the key %q: choose another key.", sp.Key)
	}
	lookup := func(ref string) (*audience.Condition, bool) {
		if ref == sp.Key || ref == id {
			return c, true
		}
		if r := s.audienceByRef(ref); r != nil && r.ID != id {
			return r.cond, true
		}
		return nil, false
	}
	if err := audience.Validate(c, lookup); err != nil {
		var ae *audience.Error
		if errors.As(err, &ae) {
			return nil, invalid("condition: %v", err)
		}
		return nil, err
	}
	for _, key := range audience.Dependencies(c).Computed {
		if s.ctByKey[key] == nil {
			return nil, invalid("condition: there is no computed trait %q; create it first (POST /api/v1/computed-traits).", key)
		}
	}
	if err := a.setCondition(c); err != nil {
		return nil, err
	}
	return a, nil
}

// CreateAudience saves a new audience and starts its backfill, which
// evaluates it over every profile.
func (s *Segments) CreateAudience(ctx context.Context, sp *AudienceSpec) (*Audience, error) {
	if err := s.awaitLoaded(ctx); err != nil {
		return nil, err
	}
	a, err := s.checkAudience(sp, newID("aud_"))
	if err != nil {
		return nil, err
	}
	a.CreatedAt = s.opts.Now().UTC()
	a.UpdatedAt = a.CreatedAt
	if err := s.putDefinition(ctx, KindAudience, a.ID, a.Key, a); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.audiences[a.ID], s.audByKey[a.Key] = a, a
	err = s.rebuild()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.startJob(s.jobContext(), a.ID, cause{Kind: "backfill"})
	return a, nil
}

// UpdateAudience changes an audience and evaluates it again over every
// profile; memberships that change are recorded with the cause "edit".
func (s *Segments) UpdateAudience(ctx context.Context, id string, sp *AudienceSpec) (*Audience, error) {
	if err := s.awaitLoaded(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	old := s.audiences[id]
	var readers []string
	if old != nil && old.Key != sp.Key {
		readers = s.readersOfAudience(old)
	}
	s.mu.Unlock()
	switch {
	case old == nil:
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No audience %q.", id)
	case len(readers) > 0:
		return nil, mosaic.Errorf(mosaic.ECONFLICT, "The audiences %v refer to %q by key: change them before renaming it.", readers, old.Key)
	}
	a, err := s.checkAudience(sp, id)
	if err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = old.CreatedAt, s.opts.Now().UTC()
	if err := s.putDefinition(ctx, KindAudience, a.ID, a.Key, a); err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.audByKey, old.Key)
	s.audiences[a.ID], s.audByKey[a.Key] = a, a
	delete(s.meta.Ready, id)
	err = s.rebuild()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.startJob(s.jobContext(), a.ID, cause{Kind: "edit"})
	return a, nil
}

func (s *Segments) readersOfAudience(a *Audience) []string {
	var out []string
	for _, la := range s.order {
		if la.a.ID != a.ID && (audience.Has(la.a.deps.Audiences, a.Key) || audience.Has(la.a.deps.Audiences, a.ID)) {
			out = append(out, la.a.Key)
		}
	}
	return out
}

// DeleteAudience deletes an audience no other audience refers to, with its
// memberships and recorded changes.
func (s *Segments) DeleteAudience(ctx context.Context, id string) error {
	if err := s.awaitLoaded(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	a := s.audiences[id]
	var readers []string
	if a != nil {
		readers = s.readersOfAudience(a)
	}
	s.mu.Unlock()
	switch {
	case a == nil:
		return mosaic.Errorf(mosaic.ENOTFOUND, "No audience %q.", id)
	case len(readers) > 0:
		return mosaic.Errorf(mosaic.ECONFLICT, "The audiences %v refer to %q: change or delete them first.", readers, a.Key)
	}
	if err := s.st.DeleteDefinition(ctx, KindAudience, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.audiences, id)
	delete(s.audByKey, a.Key)
	delete(s.meta.Ready, id)
	delete(s.jobs, id)
	// Every member exits, recorded like any exit, so that whoever follows
	// the list of changes (delivery to a destination's list) removes them.
	now := s.opts.Now()
	members := slices.Sorted(maps.Keys(s.members[id]))
	for _, pid := range members {
		if p := s.states[pid]; p != nil {
			s.setMember(pid, p, a.slot, false, now, cause{Kind: "delete"})
		}
	}
	delete(s.members, id)
	delete(s.memberOrders, id)
	for pid, p := range s.states {
		if p.next.del(a.slot) {
			s.dirty[pid] = true
		}
	}
	err := s.rebuild()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// Saved now: no event may come to carry them in a checkpoint soon.
	s.saveOwn(ctx)
	return nil
}
