package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// DedupeCheckpoint implements store.Store.
func (db *DB) DedupeCheckpoint(ctx context.Context, keptSince time.Time) (uint64, []store.DedupeChunk, error) {
	var seq int64
	var chunks []store.DedupeChunk
	err := db.inReadTx(ctx, "read dedupe checkpoint", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM dedupe_state WHERE id = 1`).Scan(&seq); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT newest, keys FROM dedupe_chunks WHERE newest >= ? ORDER BY seq`,
			micros(keptSince))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c store.DedupeChunk
			var newest int64
			if err := rows.Scan(&newest, &c.Keys); err != nil {
				return err
			}
			c.Newest = fromMicros(newest)
			chunks = append(chunks, c)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, nil, err
	}
	return uint64(seq), chunks, nil
}

// SaveDedupe implements store.Store.
func (db *DB) SaveDedupe(ctx context.Context, c *store.DedupeCommit) error {
	return db.inTx(ctx, fmt.Sprintf("save dedupe checkpoint at %d", c.Seq), func(tx *sql.Tx) error {
		var stored int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM dedupe_state WHERE id = 1`).Scan(&stored); err != nil {
			return err
		}
		if c.Seq <= uint64(stored) {
			return nil // a replay: this progress is saved already
		}
		if err := checkDuplicates(c, uint64(stored)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE dedupe_state SET seq = ? WHERE id = 1`, seqArg(c.Seq)); err != nil {
			return err
		}
		if len(c.Chunk.Keys) > 0 {
			_, err := tx.ExecContext(ctx, `INSERT INTO dedupe_chunks (seq, newest, keys) VALUES (?, ?, ?)`,
				seqArg(c.Seq), micros(c.Chunk.Newest), c.Chunk.Keys)
			if err != nil {
				return err
			}
		}
		if err := insertDuplicates(ctx, tx, c.Duplicates); err != nil {
			return err
		}
		if err := addIncrements(ctx, tx, c.Counts); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM dedupe_chunks WHERE newest < ?`, micros(c.ExpireBefore))
		return err
	})
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

// insertDuplicates records duplicate positions; one listed twice is kept once.
func insertDuplicates(ctx context.Context, tx *sql.Tx, seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO duplicates (seq) VALUES (?) ON CONFLICT (seq) DO NOTHING`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, seq := range seqs {
		if _, err := stmt.ExecContext(ctx, seqArg(seq)); err != nil {
			return err
		}
	}
	return nil
}

// addIncrements adds to the sources' stored and duplicate counters, in
// source order so concurrent writers of a server database lock rows alike.
func addIncrements(ctx context.Context, tx *sql.Tx, counts map[string]store.Increment) error {
	for _, id := range slices.Sorted(maps.Keys(counts)) {
		inc := counts[id]
		_, err := tx.ExecContext(ctx, `INSERT INTO source_counts (source_id, stored, duplicates) VALUES (?, ?, ?)
			ON CONFLICT (source_id) DO UPDATE SET stored = stored + excluded.stored, duplicates = duplicates + excluded.duplicates`,
			store.CleanText(id), inc.Stored, inc.Duplicates)
		if err != nil {
			return err
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
	rows, err := db.read.QueryContext(ctx, `SELECT seq FROM duplicates WHERE seq > ? AND seq <= ?`, seqArg(after), seqArg(upto))
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, wrap(ctx, op, err)
		}
		dups[uint64(seq)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, op, err)
	}
	return dups, nil
}
