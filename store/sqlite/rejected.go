package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// AddRejected implements store.Store.
func (db *DB) AddRejected(ctx context.Context, rejected []*mosaic.Rejected) error {
	if len(rejected) == 0 {
		return nil
	}
	clean := make([]mosaic.Rejected, len(rejected))
	perSource := map[string]int64{}
	for i, r := range rejected {
		clean[i] = *r
		c := &clean[i]
		c.SourceID, c.Code, c.Reason = store.CleanText(r.SourceID), store.CleanText(r.Code), store.CleanText(r.Reason)
		if c.Raw == nil {
			c.Raw = []byte{} // NULL is not an empty event
		}
		perSource[c.SourceID]++
	}
	err := db.inTx(ctx, fmt.Sprintf("quarantine %d events", len(clean)), func(tx *sql.Tx) error {
		if err := checkSourcesExist(ctx, tx, perSource); err != nil {
			return err
		}
		if err := insertRejected(ctx, tx, clean); err != nil {
			return err
		}
		return addCounts(ctx, tx, perSource)
	})
	if err != nil {
		return err
	}
	// Only now, after the commit, may the caller see IDs.
	for i, r := range rejected {
		r.ID, r.Code, r.Reason = clean[i].ID, clean[i].Code, clean[i].Reason
	}
	return nil
}

// checkSourcesExist returns ENOTFOUND if a source ID names no source ever
// created, deleted ones included.
func checkSourcesExist(ctx context.Context, tx *sql.Tx, perSource map[string]int64) error {
	for _, id := range slices.Sorted(maps.Keys(perSource)) {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM sources WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return mosaic.Errorf(mosaic.ENOTFOUND, "Source %q not found: a quarantined event must belong to a source.", id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// insertRejected inserts the entries in order and sets their IDs.
func insertRejected(ctx context.Context, tx *sql.Tx, rs []mosaic.Rejected) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO rejected (source_id, received_at, idx, code, reason, raw)
		VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range rs {
		r := &rs[i]
		res, err := stmt.ExecContext(ctx, r.SourceID, micros(r.ReceivedAt), r.Index, r.Code, r.Reason, r.Raw)
		if err != nil {
			return err
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}

// addCounts adds to the sources' rejected counters, which Stats reads
// instead of counting the quarantine.
func addCounts(ctx context.Context, tx *sql.Tx, perSource map[string]int64) error {
	for _, id := range slices.Sorted(maps.Keys(perSource)) {
		_, err := tx.ExecContext(ctx, `INSERT INTO source_counts (source_id, rejected) VALUES (?, ?)
			ON CONFLICT (source_id) DO UPDATE SET rejected = rejected + excluded.rejected`, id, perSource[id])
		if err != nil {
			return err
		}
	}
	return nil
}

// Rejected implements store.Store.
func (db *DB) Rejected(ctx context.Context, sourceID string, afterID int64, limit int) ([]*mosaic.Rejected, error) {
	sourceID = store.CleanText(sourceID)
	op := "list quarantine of " + sourceID
	list := []*mosaic.Rejected{} // JSON encodes nil as null, not []
	if limit <= 0 {
		// SQLite reads a negative LIMIT as none at all.
		if err := ctx.Err(); err != nil {
			return nil, wrap(ctx, op, err)
		}
		return list, nil
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, source_id, received_at, idx, code, reason, raw
		FROM rejected WHERE source_id = ? AND id > ? ORDER BY id LIMIT ?`, sourceID, afterID, limit)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r mosaic.Rejected
		var received int64
		if err := rows.Scan(&r.ID, &r.SourceID, &received, &r.Index, &r.Code, &r.Reason, &r.Raw); err != nil {
			return nil, wrap(ctx, op, err)
		}
		r.ReceivedAt = fromMicros(received)
		list = append(list, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, op, err)
	}
	return list, nil
}

// Stats implements store.Store.
func (db *DB) Stats(ctx context.Context, sourceID string) (*mosaic.SourceStats, error) {
	st := &mosaic.SourceStats{SourceID: store.CleanText(sourceID)}
	err := db.read.QueryRowContext(ctx, `SELECT stored, duplicates, rejected FROM source_counts WHERE source_id = ?`,
		st.SourceID).Scan(&st.Stored, &st.Duplicates, &st.Rejected)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, wrap(ctx, "stats of "+st.SourceID, err)
	}
	st.Received = st.Stored + st.Duplicates + st.Rejected
	return st, nil
}
