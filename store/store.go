// Package store defines the storage contract of Mosaic: configuration,
// sources, the quarantine of rejected events, and checkpoints of the state the
// engine derives from the event log. The event log itself lives in package
// eventlog.
//
// Implementations: store/sqlite (embedded, the default). Every implementation
// must pass the contract suite in store/storetest. Methods return
// *mosaic.Error with ENOTFOUND, ECONFLICT or EINVALID where documented; any
// other error is internal, and wraps context.Canceled or
// context.DeadlineExceeded when the context ended.
//
// Rules every implementation keeps, so that a PostgreSQL store and the
// embedded one answer alike:
//
//   - Text (names, keys, setting values, reasons, codes, IDs) is stored as
//     CleanText makes it: valid UTF-8 without NUL bytes. Lookups clean their
//     argument the same way. Byte payloads (Rejected.Raw, DedupeChunk.Keys)
//     are stored byte for byte.
//   - Times are kept to the microsecond and come back in UTC.
//   - Sequence numbers fit in an int64 (up to 2^63-1).
package store

import (
	"context"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// Store is the storage contract. It is deliberately the one broad interface of
// the project; its shared test suite keeps implementations honest. All methods
// are safe for concurrent use.
type Store interface {
	ProfileStore
	OutboxStore
	SegmentStore
	SchemaStore
	PredictStore
	ConsentStore
	AuditStore
	TokenStore
	PrivacyStore
	DeletionStore
	UserStore
	EraseStore
	PurposeStore
	LoginStore

	// CreateSource stores a new source. src.ID, src.WriteKey and src.CreatedAt
	// must be set by the caller; EINVALID if the ID or write key is empty.
	// ECONFLICT if an active source has the same name or write key, or any
	// source, even a deleted one, has the same ID. Names and write keys of
	// deleted sources may be reused. src's text fields are set to what was
	// stored (see CleanText).
	CreateSource(ctx context.Context, src *mosaic.Source) error
	// Source returns an active source by ID; ENOTFOUND if there is none or it
	// was deleted.
	Source(ctx context.Context, id string) (*mosaic.Source, error)
	// SourceByWriteKey returns the active source with that write key;
	// ENOTFOUND otherwise.
	SourceByWriteKey(ctx context.Context, writeKey string) (*mosaic.Source, error)
	// Sources lists active sources, oldest first (by CreatedAt, then ID). The
	// slice is empty, not nil, when there are none.
	Sources(ctx context.Context) ([]*mosaic.Source, error)
	// DeleteSource deletes a source: its write key stops working at once; its
	// events stay in the log and its quarantine and counters stay readable.
	// ENOTFOUND if there is no active source with id.
	DeleteSource(ctx context.Context, id string) error

	// Setting returns a named configuration value; ENOTFOUND if unset.
	Setting(ctx context.Context, key string) (string, error)
	// PutSetting sets a named configuration value, replacing any old one.
	PutSetting(ctx context.Context, key, value string) error

	// AddRejected appends events to their sources' quarantine, all or none,
	// setting each one's ID: positive, unique in the store and increasing in
	// slice order. Raw is stored byte for byte, whatever it holds (invalid
	// UTF-8, NUL bytes); Code and Reason are set to what was stored (see
	// CleanText). ENOTFOUND if a SourceID names no source ever created; a
	// deleted source is accepted, since a request may have authenticated
	// just before the delete.
	AddRejected(ctx context.Context, rejected []*mosaic.Rejected) error
	// Rejected lists a source's quarantine in ID order, after afterID, at
	// most limit entries (none if limit <= 0). An unknown source has an
	// empty quarantine. The slice is empty, not nil, when there are none.
	Rejected(ctx context.Context, sourceID string, afterID int64, limit int) ([]*mosaic.Rejected, error)

	// Stats returns a source's counters: Stored and Duplicates as of the last
	// dedupe checkpoint, Rejected from the quarantine, Received their sum.
	// It does not check that the source exists: counters nothing was
	// recorded for are zero.
	Stats(ctx context.Context, sourceID string) (*mosaic.SourceStats, error)

	// DedupeCheckpoint returns the position of the last saved dedupe
	// checkpoint (0 if none) and every stored key chunk whose Newest is at or
	// after keptSince, in the order they were saved.
	DedupeCheckpoint(ctx context.Context, keptSince time.Time) (seq uint64, chunks []DedupeChunk, err error)
	// SaveDedupe atomically records the dedupe stage's progress: the new
	// position, one more key chunk (not stored if it has no keys), the
	// duplicates found and the counter increments, and then drops key chunks
	// whose Newest is before c.ExpireBefore, the new one included. Saving a
	// position at or below the stored one is a no-op that returns nil, so a
	// replay after a crash is harmless. EINVALID, and nothing saved, if a
	// duplicate lies outside (stored position, c.Seq].
	SaveDedupe(ctx context.Context, c *DedupeCommit) error
	// Duplicates returns the sequence numbers in (after, upto] that hold a
	// message already seen, so readers can skip them. The map is empty, not
	// nil, when there are none.
	Duplicates(ctx context.Context, after, upto uint64) (map[uint64]bool, error)

	// ResetDerived deletes all state derived from the event log, so that
	// replaying the log from the start rebuilds it: the dedupe checkpoint
	// (position, key chunks, duplicates, stored/duplicate counters — but NOT
	// the rejected counters or the quarantine, which are not in the log), and
	// the profile stage's state (position, graph snapshot, profiles, timeline,
	// trait history, identity decisions), the segment engine's (position,
	// profile states, audience changes), the schema stage's (position,
	// fields), the predictions' activity and consent (position, states,
	// history). Sources, settings, the quarantine, segment definitions, the
	// violation counts (found by collect, not in the log), tokens, the audit
	// log, privacy requests, suppressions, purposes and login attempts stay.
	// Atomic: all or nothing.
	ResetDerived(ctx context.Context) error

	// Ping reports whether the store can be written.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// DedupeChunk is a set of message keys the dedupe stage has seen, saved as one
// blob. Keys is a concatenation of fixed-size keys whose format the dedupe
// stage owns; Newest is the receivedAt of the newest key in it.
type DedupeChunk struct {
	Newest time.Time
	Keys   []byte
}

// DedupeCommit is what the dedupe stage saves in one transaction.
type DedupeCommit struct {
	Seq          uint64               // log position processed, inclusive
	Chunk        DedupeChunk          // keys first seen since the last commit; may be empty
	Duplicates   []uint64             // sequence numbers found to be duplicates
	Counts       map[string]Increment // per source ID
	ExpireBefore time.Time            // drop chunks whose Newest is before this
}

// Increment adds to a source's counters.
type Increment struct {
	Stored     int64
	Duplicates int64
}

// CleanText returns s as every store keeps text: each run of invalid UTF-8
// bytes replaced by one U+FFFD, then NUL bytes removed. PostgreSQL refuses
// both in text columns while SQLite takes them, so implementations apply this
// to every text they store or look up, and the two backends behave the same.
func CleanText(s string) string {
	// Most text is ASCII without NUL: it needs neither pass, each of which
	// scans and may copy the string.
	if plainText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// plainText reports whether s is ASCII without NUL, which CleanText
// leaves as it is.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}
