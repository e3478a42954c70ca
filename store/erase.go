package store

import "context"

// EraseStore removes one person's derived state without a replay of the
// whole log: the profile stage drops the profiles from memory and asks the
// store to drop every row derived from the log about them. It is part of
// Store.
type EraseStore interface {
	// EraseProfiles deletes, in one transaction, every row derived from the
	// event log about the given profile IDs: the profile, its timeline, trait
	// history and identity decisions, its segment state (membership and
	// computed traits) and audience entries/exits, its consent state and
	// consent history, its predictions' activity and predicted traits. It
	// returns how many rows it deleted. Rows of other profiles are untouched;
	// unknown IDs are no-ops. EINVALID if an ID is 2^63 or more.
	//
	// A profile's segment state stays as a deleted row (no data) with its
	// version, as SaveSegments leaves it, so that an older segment save
	// retried later cannot bring it back; it counts as deleted. Outbox
	// messages, retry holds, deletion notices, the audit log, privacy
	// requests and suppressions are not derived from the log about a
	// profile ID, and stay: erasure handles them itself.
	EraseProfiles(ctx context.Context, ids []uint64) (int64, error)
	// DeleteDecisions deletes the identity decisions recorded for ids: an
	// erasure rebuilds the profiles a refused merge linked to the erased
	// one, and their earlier decisions may name the erased identifiers.
	// EINVALID if an ID is 2^63 or more.
	DeleteDecisions(ctx context.Context, ids []uint64) error
}

// CheckEraseIDs returns EINVALID if an ID is one a store cannot keep;
// both backends call it before writing.
func CheckEraseIDs(ids []uint64) error {
	for _, id := range ids {
		if id > maxID {
			return invalidID("profile ID", id)
		}
	}
	return nil
}
