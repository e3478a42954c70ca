package profile

import "github.com/mosaic-cdp/mosaic/store"

// Batch is what a checkpoint writes for one Set: everything that changed
// since the previous Flush. Apply it to the store in one transaction, in
// this order:
//
//  1. Deleted: delete these profiles with all their timeline and trait
//     history rows.
//  2. Merges, in order: move the timeline and trait history rows of
//     Absorbed to Survivor, and delete Absorbed's profile.
//  3. Insert Timeline and Traits.
//  4. Upsert Profiles.
//
// Rows in 3 already carry the profile they belong to now (a merge moves
// the rows not yet stored in memory), so 2 only moves stored ones; and a
// deletion recorded after a merge into the deleted profile lists the
// absorbed profile too, so 1 can come first. Write the batches of all Sets
// in the order Flush returned them: a merge across Sets moves rows that an
// earlier batch of the other Set stored.
//
// The rows are the complete record. Read a profile's timeline newest first
// by (Time, Seq), and a trait's history the same way; the store may prune a
// trait's history to its newest TraitHistoryLimit writes. Both the newest N
// rows and the pruning depend only on the set of events, not on the order
// they or the merges arrived in.
type Batch struct {
	Deleted  []uint64
	Merges   []MergeRecord
	Timeline []TimelineEntry
	Traits   []TraitWrite
	Profiles []Saved
}

// TraitHistoryLimit is how many writes of one trait the store needs to
// keep: the current value and the previous ones a profile shows.
const TraitHistoryLimit = 20

// Empty reports whether b holds nothing to write.
func (b *Batch) Empty() bool {
	return len(b.Deleted)+len(b.Merges)+len(b.Timeline)+len(b.Traits)+len(b.Profiles) == 0
}

// The rows are the store's own types, so a Batch goes to the store without
// being copied row by row: a checkpoint holds a row for every event.

// MergeRecord says that the stored rows of Absorbed now belong to Survivor.
type MergeRecord = store.ProfileMerge

// Saved is the new state of one profile, in its binary form (see
// Profile.MarshalBinary).
type Saved = store.ProfileRow

// TimelineEntry is one event in a profile's timeline. The event itself is
// in the log at Seq. Name is the event name of a track, the name of a
// page or screen, else "".
type TimelineEntry = store.TimelineRow

// TraitWrite is one value one event set for one trait: a row of trait
// history. The current value of a trait is its newest write by (Time,
// Seq). GroupID is "" for the profile's own traits, the account for
// account traits; Value is the JSON the event carried.
type TraitWrite = store.TraitRow
