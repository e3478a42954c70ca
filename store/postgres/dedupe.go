package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// DedupeCheckpoint implements store.Store. It reads in one snapshot, so the
// chunks are those of the position it returns.
func (db *DB) DedupeCheckpoint(ctx context.Context, keptSince time.Time) (uint64, []store.DedupeChunk, error) {
	var seq int64
	var chunks []store.DedupeChunk
	err := db.inTx(ctx, "read dedupe checkpoint", readSnapshot, func(tx pgx.Tx) error {
		var err error
		if seq, err = dedupeSeq(ctx, tx, ""); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT newest, keys FROM dedupe_chunks WHERE newest >= $1 ORDER BY seq`, keptSince)
		if err != nil {
			return err
		}
		chunks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.DedupeChunk, error) {
			var c store.DedupeChunk
			err := row.Scan(&c.Newest, &c.Keys)
			c.Newest = utc(c.Newest)
			return c, err
		})
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return uint64(seq), chunks, nil
}

// SaveDedupe implements store.Store. The dedupe state row, locked first,
// makes concurrent saves run one after the other, so a commit saved twice
// at once still counts once; the writes then go in one round trip.
func (db *DB) SaveDedupe(ctx context.Context, c *store.DedupeCommit) error {
	return db.inTx(ctx, fmt.Sprintf("save dedupe checkpoint at %d", c.Seq), pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := db.checkFence(ctx, tx); err != nil {
			return err
		}
		stored, err := dedupeSeq(ctx, tx, "FOR UPDATE")
		if err != nil {
			return err
		}
		if c.Seq <= uint64(stored) {
			return nil // a replay: this progress is saved already
		}
		if err := checkDuplicates(c, uint64(stored)); err != nil {
			return err
		}
		return sendBatch(ctx, tx, dedupeBatch(c))
	})
}

// dedupeBatch returns the writes of a commit that checkDuplicates accepted.
func dedupeBatch(c *store.DedupeCommit) *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue(`UPDATE dedupe_state SET seq = $1 WHERE id = 1`, seqArg(c.Seq))
	if len(c.Chunk.Keys) > 0 {
		b.Queue(`INSERT INTO dedupe_chunks (seq, newest, keys) VALUES ($1, $2, $3)`, seqArg(c.Seq), c.Chunk.Newest, c.Chunk.Keys)
	}
	if len(c.Duplicates) > 0 {
		dups := make([]int64, len(c.Duplicates))
		for i, d := range c.Duplicates {
			dups[i] = int64(d) // checkDuplicates bounded them by c.Seq
		}
		// A position listed twice is kept once.
		b.Queue(`INSERT INTO duplicates (seq) SELECT unnest($1::bigint[]) ON CONFLICT (seq) DO NOTHING`, dups)
	}
	if len(c.Counts) > 0 {
		sources, stored, dups := increments(c.Counts)
		b.Queue(`INSERT INTO source_counts (source_id, stored, duplicates)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
			ON CONFLICT (source_id) DO UPDATE SET stored = source_counts.stored + excluded.stored,
				duplicates = source_counts.duplicates + excluded.duplicates`, sources, stored, dups)
	}
	b.Queue(`DELETE FROM dedupe_chunks WHERE newest < $1`, c.ExpireBefore)
	return b
}

// increments returns counts as columns, one row per cleaned source ID in
// order: one INSERT must not touch a row twice, and locking counter rows in
// one order keeps concurrent writers from deadlocking.
func increments(counts map[string]store.Increment) (sources []string, stored, dups []int64) {
	merged := map[string]store.Increment{}
	for id, inc := range counts {
		id = store.CleanText(id) // two IDs may clean alike
		m := merged[id]
		m.Stored += inc.Stored
		m.Duplicates += inc.Duplicates
		merged[id] = m
	}
	sources = slices.Sorted(maps.Keys(merged))
	for _, id := range sources {
		stored = append(stored, merged[id].Stored)
		dups = append(dups, merged[id].Duplicates)
	}
	return sources, stored, dups
}

// checkDuplicates returns EINVALID unless every duplicate lies in the range
// the commit covers, (stored, c.Seq], and c.Seq fits the contract.
func checkDuplicates(c *store.DedupeCommit, stored uint64) error {
	if c.Seq != uint64(seqArg(c.Seq)) {
		return mosaic.Errorf(mosaic.EINVALID, "Dedupe position %d is past the largest the store keeps (2^63-1).", c.Seq)
	}
	for _, d := range c.Duplicates {
		if d <= stored || d > c.Seq {
			return mosaic.Errorf(mosaic.EINVALID,
				"Duplicate %d lies outside the positions this commit covers, (%d, %d]: the dedupe stage has a bug.", d, stored, c.Seq)
		}
	}
	return nil
}

// Duplicates implements store.Store.
func (db *DB) Duplicates(ctx context.Context, after, upto uint64) (map[uint64]bool, error) {
	op := fmt.Sprintf("list duplicates in (%d, %d]", after, upto)
	dups := map[uint64]bool{}
	if after >= upto {
		if err := ctx.Err(); err != nil {
			return nil, wrap(ctx, op, err)
		}
		return dups, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT seq FROM duplicates WHERE seq > $1 AND seq <= $2`, seqArg(after), seqArg(upto))
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	var seq int64
	_, err = pgx.ForEachRow(rows, []any{&seq}, func() error {
		dups[uint64(seq)] = true
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	return dups, nil
}

// dedupeSeq reads the stored dedupe position, with lock ("" or a locking
// clause).
func dedupeSeq(ctx context.Context, tx pgx.Tx, lock string) (int64, error) {
	var seq int64
	err := tx.QueryRow(ctx, `SELECT seq FROM dedupe_state WHERE id = 1 `+lock).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		// Only a damaged schema lacks the row the first migration inserts.
		return 0, errors.New("the dedupe state row is missing: the schema is damaged; restore a backup")
	}
	return seq, err
}
