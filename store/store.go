// Package store defines the storage contract of Mosaic: configuration,
// sources, the quarantine of rejected events, and checkpoints of the state the
// engine derives from the event log. The event log itself lives in package
// eventlog.
//
// Implementations: store/sqlite (embedded, the default). Every implementation
// must pass the contract suite in store/storetest. Methods return
// *mosaic.Error with ENOTFOUND or ECONFLICT where documented; any other error
// is internal.
package store

import (
	"context"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// Store is the storage contract. It is deliberately the one broad interface of
// the project; its shared test suite keeps implementations honest. All methods
// are safe for concurrent use.
type Store interface {
	// CreateSource stores a new source. src.ID, src.WriteKey and src.CreatedAt
	// must be set by the caller. ECONFLICT if an active source has the same
	// name or write key.
	CreateSource(ctx context.Context, src *mosaic.Source) error
	// Source returns an active source by ID; ENOTFOUND if there is none or it
	// was deleted.
	Source(ctx context.Context, id string) (*mosaic.Source, error)
	// SourceByWriteKey returns the active source with that write key;
	// ENOTFOUND otherwise.
	SourceByWriteKey(ctx context.Context, writeKey string) (*mosaic.Source, error)
	// Sources lists active sources, oldest first.
	Sources(ctx context.Context) ([]*mosaic.Source, error)
	// DeleteSource deletes a source: its write key stops working at once; its
	// events stay in the log. ENOTFOUND if there is no active source with id.
	DeleteSource(ctx context.Context, id string) error

	// Setting returns a named configuration value; ENOTFOUND if unset.
	Setting(ctx context.Context, key string) (string, error)
	// PutSetting sets a named configuration value, replacing any old one.
	PutSetting(ctx context.Context, key, value string) error

	// AddRejected appends events to their sources' quarantine, setting each
	// one's ID. Raw is stored byte for byte, whatever it holds (invalid UTF-8,
	// NUL bytes).
	AddRejected(ctx context.Context, rejected []*mosaic.Rejected) error
	// Rejected lists a source's quarantine in ID order, after afterID, at
	// most limit entries.
	Rejected(ctx context.Context, sourceID string, afterID int64, limit int) ([]*mosaic.Rejected, error)

	// Stats returns a source's counters: Stored and Duplicates as of the last
	// dedupe checkpoint, Rejected from the quarantine, Received their sum.
	Stats(ctx context.Context, sourceID string) (*mosaic.SourceStats, error)

	// DedupeCheckpoint returns the position of the last saved dedupe
	// checkpoint (0 if none) and every key chunk saved at or after
	// keptSince, oldest first.
	DedupeCheckpoint(ctx context.Context, keptSince time.Time) (seq uint64, chunks []DedupeChunk, err error)
	// SaveDedupe atomically records the dedupe stage's progress: the new
	// position, one more key chunk, the duplicates found and the counter
	// increments, and drops key chunks whose newest key is older than
	// c.ExpireBefore. Saving a position at or below the stored one is a no-op
	// that returns nil, so a replay after a crash is harmless.
	SaveDedupe(ctx context.Context, c *DedupeCommit) error
	// Duplicates returns the sequence numbers in (after, upto] that hold a
	// message already seen, so readers can skip them.
	Duplicates(ctx context.Context, after, upto uint64) (map[uint64]bool, error)

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
