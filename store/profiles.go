package store

import (
	"context"
	"time"
)

// ProfileStore keeps the state of the engine's profile stage: the identity
// graph, the profiles, their timelines and trait histories, and the identity
// decisions. Profile IDs are the identity graph's (uint64, below 2^63).
//
// It is part of Store; it stands alone so that the profile stage can ask for
// no more than it uses.
type ProfileStore interface {
	// ProfileCheckpoint returns the profile stage's saved position (0 if
	// none), and the newest saved identity graph snapshot with the position
	// it reflects (nil and 0 if none). The graph's position is at or below
	// the stage's.
	ProfileCheckpoint(ctx context.Context) (seq uint64, graph []byte, graphSeq uint64, err error)
	// LoadProfiles calls fn for every saved profile, in ID order, until fn
	// returns an error, which LoadProfiles then returns.
	LoadProfiles(ctx context.Context, fn func(id uint64, data []byte) error) error
	// SaveProfiles atomically records the stage's progress: the new position,
	// optionally a new graph snapshot, then the batches in order (see
	// ProfileBatch), and the decisions. Saving a position at or below the
	// stored one is a no-op that returns nil. EINVALID, and nothing saved,
	// if a position or profile ID in c is 2^63 or more. Text is cleaned (see
	// CleanText); Graph, Data and Value are stored byte for byte.
	SaveProfiles(ctx context.Context, c *ProfileCommit) error
	// Timeline returns a profile's timeline newest first by (Time, Seq),
	// entries strictly older than (before, beforeSeq) when before is not
	// zero, at most limit.
	Timeline(ctx context.Context, profileID uint64, before time.Time, beforeSeq uint64, limit int) ([]TimelineRow, error)
	// TraitHistory returns the writes of one trait of a profile (groupID ""
	// for the profile's own traits), newest first by (Time, Seq), at most
	// limit.
	TraitHistory(ctx context.Context, profileID uint64, groupID, name string, limit int) ([]TraitRow, error)
	// Decisions returns the identity decisions recorded for a profile, in
	// Seq order.
	Decisions(ctx context.Context, profileID uint64) ([]DecisionRow, error)
}

// ProfileCommit is what the profile stage saves in one transaction.
type ProfileCommit struct {
	Seq       uint64 // log position processed, inclusive
	Graph     []byte // identity graph snapshot at Seq; nil keeps the stored one
	Batches   []ProfileBatch
	Decisions []DecisionRow
}

// ProfileBatch is applied in this order: delete Deleted profiles with all
// their timeline and trait rows; for each of Merges in order, move
// Absorbed's timeline, trait and decision rows to Survivor and delete
// Absorbed's profile; insert Timeline and Traits; upsert Profiles.
type ProfileBatch struct {
	Deleted  []uint64
	Merges   []ProfileMerge
	Timeline []TimelineRow
	Traits   []TraitRow
	Profiles []ProfileRow
}

// ProfileMerge says the stored rows of Absorbed now belong to Survivor.
type ProfileMerge struct{ Absorbed, Survivor uint64 }

// ProfileRow is a profile's state in its binary form.
type ProfileRow struct {
	ID   uint64
	Data []byte
}

// TimelineRow is one event of a profile's timeline; the event is in the log
// at Seq.
type TimelineRow struct {
	ProfileID uint64
	Seq       uint64
	Time      time.Time
	Type      string
	Name      string
	SourceID  string
}

// TraitRow is one value one event set for one trait.
type TraitRow struct {
	ProfileID uint64
	GroupID   string
	Name      string
	Value     []byte // JSON
	Time      time.Time
	Seq       uint64
	SourceID  string
	MessageID string
}

// DecisionRow is one identity decision (a merge or a refusal) about a
// profile, as JSON the identity package defines.
type DecisionRow struct {
	ProfileID uint64
	Seq       uint64
	Kind      string
	Data      []byte
}
