package profile

import (
	"fmt"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// Set holds the profiles of one partition in memory, keyed by profile ID,
// and records what changed since the last Flush: which profiles to save and
// the timeline and trait history rows to store. A Set is not safe for
// concurrent use; one worker owns it.
type Set struct {
	profiles map[uint64]*Profile
	pending  map[uint64]*journal // changed since the last Flush
	order    []uint64            // pending's keys as first added, for a stable Batch
	timeline rowLog[TimelineEntry]
	traits   rowLog[TraitWrite]
	values   arena
	gen      uint64 // counts Flush calls
	f        folder
}

// journal is what changed in one profile since the last Flush. It moves
// with the profile when another absorbs it, so a Batch never orders one
// profile's changes across two Sets.
type journal struct {
	deleted  []uint64 // profiles whose stored rows go before the rest applies
	merges   []MergeRecord
	timeline int32  // the profile's newest row in Set.timeline (see rowLog)
	traits   int32  // the profile's newest row in Set.traits
	gen      uint64 // the Flush that took it
}

// NewSet returns an empty Set.
func NewSet() *Set {
	return &Set{profiles: map[uint64]*Profile{}, pending: map[uint64]*journal{}}
}

// Len returns the number of profiles.
func (s *Set) Len() int { return len(s.profiles) }

// Get returns the profile with the given ID, or nil.
func (s *Set) Get(id uint64) *Profile { return s.profiles[id] }

// GetOrCreate returns the profile with the given ID, creating an empty one
// if there is none, and marks it changed: the caller is about to change it.
func (s *Set) GetOrCreate(id uint64) *Profile {
	p := s.profiles[id]
	if p == nil {
		p = New(id)
		s.profiles[id] = p
	}
	s.journal(id)
	return p
}

// Put adds p, replacing any profile with its ID, without marking it
// changed: for loading a checkpoint.
func (s *Set) Put(p *Profile) { s.profiles[p.ID] = p }

// Range calls fn for each profile, in no particular order, until fn
// returns false.
func (s *Set) Range(fn func(*Profile) bool) {
	for _, p := range s.profiles {
		if !fn(p) {
			return
		}
	}
}

func (s *Set) journal(id uint64) *journal {
	j := s.pending[id]
	if j == nil {
		j = &journal{}
		s.pending[id] = j
		s.order = append(s.order, id)
	}
	return j
}

// Apply folds ev into the profile with the given ID (see Apply), creating
// it if needed, and records the event's timeline entry and trait writes.
// On an error nothing changes.
func (s *Set) Apply(id uint64, ev *mosaic.Event) error {
	u, err := s.f.dec.decode(ev)
	if err != nil {
		return fmt.Errorf("profile: apply event seq %d (message %q) to profile %d: %w",
			ev.Seq, ev.MessageID, id, err)
	}
	p := s.GetOrCreate(id)
	s.f.apply(p, u)
	j := s.pending[id]
	j.timeline = s.timeline.add(j.timeline, TimelineEntry{ProfileID: p.ID, Seq: u.seq,
		Time: fromMicros(u.time), Type: u.typ.String(), Name: u.displayName(), SourceID: ev.SourceID})
	s.addWrites(j, p.ID, "", u, u.traits)
	s.addWrites(j, p.ID, u.groupID, u, u.group)
	return nil
}

// Applied describes the last event Apply read: its name (a track's event
// name, a page's or screen's name; "" for other calls), its time as the
// profile orders it (the message's timestamp, else when it was received)
// and where its message holds the members of env. Observers of the profile
// stage read these instead of decoding the message again; env's spans
// alias the event's message.
func (s *Set) Applied() (name string, t time.Time, env Envelope) {
	u := &s.f.dec.u
	return u.displayName(), fromMicros(u.time), s.f.dec.env
}

// displayName returns the name a timeline shows for the event.
func (u *update) displayName() string {
	if u.event != (ref{}) {
		return u.event.String()
	}
	if u.name != nil {
		if s, ok := stringValue(u.name); ok {
			return s
		}
	}
	return ""
}

// addWrites records a TraitWrite for each of kvs.
func (s *Set) addWrites(j *journal, id uint64, groupID string, u *update, kvs []kv) {
	for _, t := range kvs {
		if t.same {
			continue
		}
		j.traits = s.traits.add(j.traits, TraitWrite{ProfileID: id, GroupID: groupID, Name: t.name.String(),
			Value: s.values.copy(t.value), Time: fromMicros(u.time), Seq: u.seq,
			SourceID: u.sourceID, MessageID: u.messageID})
	}
}

// Merge folds the profile absorbedID into survivorID (see Merge) and
// removes it. Its rows, stored and pending, now belong to the survivor. A
// missing absorbed profile (one no event was applied to) leaves the Set as
// it is.
func (s *Set) Merge(absorbedID, survivorID uint64) {
	if absorbedID == survivorID {
		return
	}
	if d := s.Detach(absorbedID); d != nil {
		s.Absorb(survivorID, d)
	}
}

// Detached is a profile taken out of a Set together with its changes not
// yet flushed, on its way to be absorbed by a profile in another Set (a
// merge across partitions). It must be passed to Absorb: its changes are in
// no Batch until then.
type Detached struct {
	Profile  *Profile
	j        *journal
	timeline []TimelineEntry // its pending rows, oldest first
	traits   []TraitWrite
}

// Detach removes the profile with the given ID and returns it with its
// pending changes, or nil if there is no such profile.
func (s *Set) Detach(id uint64) *Detached {
	p := s.profiles[id]
	if p == nil {
		return nil
	}
	delete(s.profiles, id)
	d := &Detached{Profile: p, j: s.pending[id]}
	if d.j != nil {
		d.timeline = s.timeline.drop(d.j.timeline)
		d.traits = s.traits.drop(d.j.traits)
		delete(s.pending, id)
	}
	return d
}

// Absorb merges a detached profile into survivorID, creating the survivor
// if needed. The detached profile's pending rows move to the survivor, and
// the Batch records the merge so the store moves its stored rows too.
func (s *Set) Absorb(survivorID uint64, d *Detached) {
	sp := s.GetOrCreate(survivorID)
	s.f.merge(sp, d.Profile)
	j := s.pending[survivorID]
	if d.j != nil {
		j.deleted = append(j.deleted, d.j.deleted...)
		j.merges = append(j.merges, d.j.merges...)
	}
	for _, e := range d.timeline {
		e.ProfileID = sp.ID
		j.timeline = s.timeline.add(j.timeline, e)
	}
	for _, w := range d.traits {
		w.ProfileID = sp.ID
		j.traits = s.traits.add(j.traits, w)
	}
	j.merges = append(j.merges, MergeRecord{Absorbed: d.Profile.ID, Survivor: sp.ID})
}

// Delete removes the profile with the given ID, its pending rows and, in
// the store, its stored rows: for erasure, or before rebuilding a profile
// from the log (a split). Rows of profiles merged into it since the last
// Flush are deleted too, since the store has not moved them yet. The
// deletion goes into the Batch even when no profile by that ID is left.
func (s *Set) Delete(id uint64) {
	delete(s.profiles, id)
	j := s.journal(id)
	j.deleted = append(j.deleted, id)
	for _, m := range j.merges {
		j.deleted = append(j.deleted, m.Absorbed)
	}
	j.merges = nil
	s.timeline.drop(j.timeline)
	s.traits.drop(j.traits)
	j.timeline, j.traits = 0, 0
}

// Flush returns everything that changed since the last Flush and starts a
// new batch. Profiles are encoded now, so the Set may change while the
// Batch is written. On an error the Set is as it was.
func (s *Set) Flush() (Batch, error) {
	var b Batch
	s.gen++ // journals listed twice in order are taken once: marked with gen
	for _, id := range s.order {
		j := s.pending[id]
		if j == nil || j.gen == s.gen {
			continue // detached, or listed twice
		}
		j.gen = s.gen
		b.Deleted = append(b.Deleted, j.deleted...)
		b.Merges = append(b.Merges, j.merges...)
		if p := s.profiles[id]; p != nil {
			data, err := p.MarshalBinary()
			if err != nil {
				return Batch{}, err
			}
			b.Profiles = append(b.Profiles, Saved{ID: id, Data: data})
		}
	}
	b.Timeline, b.Traits = s.timeline.take(), s.traits.take()
	// New, not cleared: maps keep their size, and a burst of changes
	// should not hold memory until the next one.
	s.pending, s.order = map[uint64]*journal{}, nil
	return b, nil
}

// Reuse hands back the rows of a Batch from Flush once it is written and
// nothing refers to its Timeline and Traits any more, so that a later
// Flush fills their memory again instead of allocating as much anew. b's
// rows are cleared. Batches not handed back are simply left to the
// garbage collector.
func (s *Set) Reuse(b *Batch) {
	s.timeline.reuse(b.Timeline)
	s.traits.reuse(b.Traits)
	b.Timeline, b.Traits = nil, nil
}

// PendingTimeline returns the timeline entries of a profile not yet
// flushed, the last applied first, for reads that must see events before
// the next checkpoint stores them.
func (s *Set) PendingTimeline(id uint64) []TimelineEntry {
	if j := s.pending[id]; j != nil {
		return s.timeline.chain(j.timeline)
	}
	return nil
}
