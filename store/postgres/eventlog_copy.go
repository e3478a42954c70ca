package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic/eventlog"
)

// CopyRecords appends records read from another log keeping their sequence
// numbers and append times, for moving an installation (mosaic migrate).
// The first record must follow the log's last one; into an empty log it
// may start later (the source's retention removed the records before it),
// and the log then starts there. Records must be in sequence order without
// gaps.
func (l *Log) CopyRecords(ctx context.Context, recs []eventlog.Record) error {
	if len(recs) == 0 {
		return nil
	}
	for i, r := range recs {
		if i > 0 && r.Seq != recs[i-1].Seq+1 {
			return fmt.Errorf("postgres: copy records: seq %d follows %d: records must be consecutive", r.Seq, recs[i-1].Seq)
		}
		if err := l.ensurePartition(ctx, l.spanStart(r.Time)); err != nil {
			return err
		}
	}
	first, last := recs[0].Seq, recs[len(recs)-1].Seq
	err := l.db.inTx(ctx, fmt.Sprintf("copy records %d..%d into the event log", first, last), pgx.TxOptions{}, func(tx pgx.Tx) error {
		var head int64
		if err := tx.QueryRow(ctx, `SELECT last_seq FROM event_log_head WHERE id = 1 FOR UPDATE`).Scan(&head); err != nil {
			return err
		}
		if uint64(head)+1 != first && head != 0 {
			return fmt.Errorf("the log ends at %d; records from %d cannot follow", head, first)
		}
		_, err := tx.Exec(ctx, `UPDATE event_log_head SET last_seq = $1, last_time = greatest(last_time, $2),
			first_seq = CASE WHEN last_seq = 0 THEN $3 ELSE first_seq END WHERE id = 1`,
			seqArg(last), recs[len(recs)-1].Time, seqArg(first))
		if err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"event_log"}, logColumns, &rowSource{rows: packRows(recs, l.rowMax)})
		return err
	})
	if err != nil {
		return err
	}
	return l.poll(ctx)
}

// Count returns the number of records in the log table.
func (l *Log) Count(ctx context.Context) (int64, error) {
	var n int64
	err := l.db.pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM event_log`).Scan(&n)
	return n, wrap(ctx, "count event log records", err)
}
