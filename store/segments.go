package store

import (
	"context"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// SegmentStore keeps the state of the segment engine (package segment):
// the definitions of computed traits and audiences, the per-profile state it
// checkpoints (aggregated events, consent, memberships, timers), and the
// ordered list of audience entries and exits that delivery consumes.
type SegmentStore interface {
	// PutDefinition inserts or replaces the definition (d.Kind, d.ID).
	// ECONFLICT if another definition of the same kind has d.Key; EINVALID
	// if Kind, ID or Key is empty. Text is cleaned (see CleanText).
	PutDefinition(ctx context.Context, d *Definition) error
	// DeleteDefinition deletes a definition; ENOTFOUND if there is none.
	DeleteDefinition(ctx context.Context, kind, id string) error
	// Definitions lists the definitions of a kind, oldest first (by
	// CreatedAt, then ID); empty, not nil, when there are none.
	Definitions(ctx context.Context, kind string) ([]*Definition, error)

	// SegmentCheckpoint returns the saved state's version (0 if none), the
	// log position it reflects and the engine's metadata blob.
	SegmentCheckpoint(ctx context.Context) (version, seq uint64, meta []byte, err error)
	// LoadSegmentProfiles calls fn for every saved profile state, in ID
	// order, until fn returns an error, which it then returns.
	LoadSegmentProfiles(ctx context.Context, fn func(id uint64, data []byte) error) error
	// SaveSegments atomically saves a checkpoint. Versions order saves: the
	// state row and each profile row are written only if c.Version (the
	// row's Version) is greater than the stored one, so saving an older
	// commit again, after a newer one, changes nothing. A row with nil Data
	// deletes the profile's state. Changes are appended; one whose ID is
	// already stored is skipped. EINVALID, and nothing saved, if an ID or
	// position is 2^63 or more or a change has no audience.
	SaveSegments(ctx context.Context, c *SegmentCommit) error
	// AudienceChanges returns the recorded changes of an audience ("" for
	// all audiences) with an ID above afterID, in ID order, at most limit.
	AudienceChanges(ctx context.Context, audienceID string, afterID int64, limit int) ([]AudienceChange, error)
	// AudienceHistory counts an audience's entries and exits per bucket
	// (bucket start = At truncated to a multiple of bucket since the Unix
	// epoch), for changes at or after since, oldest bucket first.
	AudienceHistory(ctx context.Context, audienceID string, bucket time.Duration, since time.Time) ([]HistoryBucket, error)
	// DeleteAudienceChanges deletes an audience's recorded changes.
	DeleteAudienceChanges(ctx context.Context, audienceID string) error
	// ProfileAudienceChanges returns a profile's recorded changes, newest
	// first by (At, ID), for its timeline: with before not zero, only those
	// before (before, beforeID) in that order; at most limit. Empty, not
	// nil, when there are none.
	ProfileAudienceChanges(ctx context.Context, profileID uint64, before time.Time, beforeID int64, limit int) ([]AudienceChange, error)
	// TimelineSeqs calls fn with the profile and the log position of every
	// timeline entry of type "track" named one of names, at or below upto,
	// in position order, until fn returns an error, which it then returns.
	// With names nil it calls fn for every entry, whatever its type and
	// name (consent rides on any event); with names empty, for none.
	TimelineSeqs(ctx context.Context, names []string, upto uint64, fn func(profileID, seq uint64) error) error
}

// Definition is a computed trait or audience as the segment engine stores
// it: Data is its JSON, which package segment owns.
type Definition struct {
	Kind      string // "computed_trait" or "audience"
	ID        string
	Key       string
	Data      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SegmentCommit is one checkpoint of the segment engine.
type SegmentCommit struct {
	Version  uint64 // increases with every change of the engine's state
	Seq      uint64 // log position observed, inclusive
	Meta     []byte
	Profiles []SegmentProfileRow
	Changes  []AudienceChange
}

// SegmentProfileRow is one profile's segment state; nil Data deletes it.
type SegmentProfileRow struct {
	ID      uint64
	Version uint64
	Data    []byte
}

// AudienceChange is one profile entering or leaving an audience.
type AudienceChange struct {
	ID         int64 // assigned by the segment engine: unique and increasing
	AudienceID string
	ProfileID  uint64
	Entered    bool
	At         time.Time
	Seq        uint64 // the event that caused it; 0 for time or a backfill
	Cause      string // JSON: what made it happen
}

// HistoryBucket is the entries and exits of one period.
type HistoryBucket struct {
	Start   time.Time
	Entered int64
	Exited  int64
}

// CheckSegmentCommit returns EINVALID if c breaks SaveSegments' contract;
// both backends call it before writing.
func CheckSegmentCommit(c *SegmentCommit) error {
	const limit = 1<<63 - 1
	bad := c.Version > limit || c.Seq > limit
	for _, p := range c.Profiles {
		bad = bad || p.ID > limit || p.Version > limit
	}
	for _, ch := range c.Changes {
		if ch.AudienceID == "" {
			return mosaic.Errorf(mosaic.EINVALID, "Segment commit version %d: a change of profile %d names no audience: the segment engine has a bug.", c.Version, ch.ProfileID)
		}
		bad = bad || ch.ProfileID > limit || ch.Seq > limit || ch.ID < 0
	}
	if bad {
		return mosaic.Errorf(mosaic.EINVALID, "Segment commit version %d holds a number past the largest the store keeps (2^63-1): the segment engine has a bug.", c.Version)
	}
	return nil
}
