package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// rejectedColumns are the quarantine's columns, in the order of COPY rows.
var rejectedColumns = []string{"source_id", "id", "received_at", "idx", "code", "reason", "raw"}

// AddRejected implements store.Store in one transaction whose round trips
// do not grow with the batch: one pipelined batch checks the sources, adds
// to their counters and draws the IDs, then one COPY writes the entries.
func (db *DB) AddRejected(ctx context.Context, rejected []*mosaic.Rejected) error {
	if len(rejected) == 0 {
		return nil
	}
	clean, perSource := cleanRejected(rejected)
	err := db.inTx(ctx, fmt.Sprintf("quarantine %d events", len(clean)), pgx.TxOptions{}, func(tx pgx.Tx) error {
		ids, err := prepareRejected(ctx, tx, perSource, len(clean))
		if err != nil {
			return err
		}
		rows := make([][]any, len(clean))
		for i := range clean {
			r := &clean[i]
			r.ID = ids[i]
			rows[i] = []any{r.SourceID, r.ID, r.ReceivedAt, r.Index, r.Code, r.Reason, r.Raw}
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"rejected"}, rejectedColumns, pgx.CopyFromRows(rows))
		return err
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

// cleanRejected returns copies of the entries with their text cleaned, and
// how many entries each source has.
func cleanRejected(rejected []*mosaic.Rejected) ([]mosaic.Rejected, map[string]int64) {
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
	return clean, perSource
}

// prepareRejected checks that every source exists, adds to their rejected
// counters and returns n new IDs in increasing order. The counter rows stay
// locked until the transaction ends, and the IDs are drawn after locking
// them: two transactions quarantining for one source thus draw and commit
// in the same order, and a reader paging by ID never misses an entry.
// Rows are locked in source order, so writers never deadlock.
func prepareRejected(ctx context.Context, tx pgx.Tx, perSource map[string]int64, n int) ([]int64, error) {
	sources := slices.Sorted(maps.Keys(perSource))
	counts := make([]int64, len(sources))
	for i, id := range sources {
		counts[i] = perSource[id]
	}
	var found []string
	var ids []int64
	b := &pgx.Batch{}
	b.Queue(`SELECT id FROM sources WHERE id = ANY($1)`, sources).Query(func(rows pgx.Rows) error {
		var err error
		found, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	b.Queue(`INSERT INTO source_counts (source_id, rejected) SELECT * FROM unnest($1::text[], $2::bigint[])
		ON CONFLICT (source_id) DO UPDATE SET rejected = source_counts.rejected + excluded.rejected`, sources, counts)
	b.Queue(`SELECT nextval('rejected_id_seq') FROM generate_series(1, $1)`, n).Query(func(rows pgx.Rows) error {
		var err error
		ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err := sendBatch(ctx, tx, b); err != nil {
		return nil, err
	}
	for _, id := range sources {
		if !slices.Contains(found, id) {
			return nil, mosaic.Errorf(mosaic.ENOTFOUND, "Source %q not found: a quarantined event must belong to a source.", id)
		}
	}
	slices.Sort(ids) // drawn in order in practice; sorting makes sure
	return ids, nil
}

// Rejected implements store.Store.
func (db *DB) Rejected(ctx context.Context, sourceID string, afterID int64, limit int) ([]*mosaic.Rejected, error) {
	sourceID = store.CleanText(sourceID)
	op := "list quarantine of " + sourceID
	list := []*mosaic.Rejected{} // JSON encodes nil as null, not []
	if limit <= 0 {
		if err := ctx.Err(); err != nil {
			return nil, wrap(ctx, op, err)
		}
		return list, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT id, source_id, received_at, idx, code, reason, raw
		FROM rejected WHERE source_id = $1 AND id > $2 ORDER BY id LIMIT $3`, sourceID, afterID, limit)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	list, err = pgx.AppendRows(list, rows, scanRejected)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	return list, nil
}

// scanRejected reads one quarantine entry.
func scanRejected(row pgx.CollectableRow) (*mosaic.Rejected, error) {
	var r mosaic.Rejected
	if err := row.Scan(&r.ID, &r.SourceID, &r.ReceivedAt, &r.Index, &r.Code, &r.Reason, &r.Raw); err != nil {
		return nil, err
	}
	r.ReceivedAt = utc(r.ReceivedAt)
	return &r, nil
}

// Stats implements store.Store.
func (db *DB) Stats(ctx context.Context, sourceID string) (*mosaic.SourceStats, error) {
	st := &mosaic.SourceStats{SourceID: store.CleanText(sourceID)}
	err := db.pool.QueryRow(ctx, `SELECT stored, duplicates, rejected FROM source_counts WHERE source_id = $1`,
		st.SourceID).Scan(&st.Stored, &st.Duplicates, &st.Rejected)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, wrap(ctx, "stats of "+st.SourceID, err)
	}
	st.Received = st.Stored + st.Duplicates + st.Rejected
	return st, nil
}
