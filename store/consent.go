package store

import (
	"context"
	"time"
)

// ConsentStore keeps the consent state package privacy derives from the
// event log: each profile's state (the decision in force per purpose, as a
// blob privacy owns) and the append-only history of decisions. Both are
// derived, so ResetDerived deletes them and a replay rebuilds them.
type ConsentStore interface {
	// ConsentCheckpoint returns the saved position (0 if none).
	ConsentCheckpoint(ctx context.Context) (seq uint64, err error)
	// LoadConsent calls fn for every saved state, in profile ID order,
	// until fn returns an error, which LoadConsent then returns.
	LoadConsent(ctx context.Context, fn func(profileID uint64, state []byte) error) error
	// SaveConsent atomically records: the new position; for each merge in
	// order, Absorbed's history moves to Survivor and its state is deleted;
	// Records are appended; States are upserted. Saving a position at or
	// below the stored one is a no-op that returns nil, so the save may be
	// retried. EINVALID, nothing saved, if a position or ID is 2^63 or more.
	SaveConsent(ctx context.Context, c *ConsentCommit) error
	// ConsentHistory returns a profile's decisions, oldest first by (Time,
	// Seq, order saved). The slice is empty, not nil, when there are none.
	ConsentHistory(ctx context.Context, profileID uint64) ([]ConsentRow, error)
}

// ConsentCommit is one save of the consent state.
type ConsentCommit struct {
	Seq     uint64
	Merges  []ProfileMerge
	Records []ConsentRow
	States  []ProfileRow // Data is the state's blob
}

// ConsentRow is one consent decision about one purpose of one profile.
// Data is the decision's full record as JSON (package privacy owns it);
// the other fields repeat what queries filter and order by.
type ConsentRow struct {
	ProfileID uint64
	Purpose   string
	Time      time.Time
	Seq       uint64
	Data      []byte
}
