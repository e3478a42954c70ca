package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// partitionsAhead is how many partitions after the current one are made in
// advance, so that appends at a span's boundary never wait for DDL.
const partitionsAhead = 1

// spanStart returns the start of the partition span holding t.
func (l *Log) spanStart(t time.Time) time.Time {
	span := int64(l.opts.PartitionSpan / time.Second)
	s := t.Unix()
	s -= ((s % span) + span) % span
	return time.Unix(s, 0).UTC()
}

// ensurePartitions makes the partitions for t's span and the ones after it,
// if they do not exist yet.
func (l *Log) ensurePartitions(ctx context.Context, t time.Time) error {
	start := l.spanStart(t)
	for i := range partitionsAhead + 1 {
		from := start.Add(time.Duration(i) * l.opts.PartitionSpan)
		if err := l.ensurePartition(ctx, from); err != nil {
			return err
		}
	}
	return nil
}

// ensurePartition creates the partition starting at from. Nodes doing it at
// once take turns under an advisory lock, since CREATE TABLE IF NOT EXISTS
// alone still collides in the catalog.
func (l *Log) ensurePartition(ctx context.Context, from time.Time) error {
	l.partMu.Lock()
	defer l.partMu.Unlock()
	if l.parts[from.Unix()] {
		return nil
	}
	to := from.Add(l.opts.PartitionSpan)
	name := "event_log_p" + from.Format("20060102t150405")
	op := fmt.Sprintf("create event log partition %s", name)
	err := l.db.inTx(ctx, op, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('mosaic event_log partitions ' || current_schema(), 0))`); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM event_log_partitions WHERE name = $1)`, name).Scan(&exists); err != nil || exists {
			return err
		}
		// A range that overlaps an existing partition (after a change of
		// PartitionSpan) fails here with PostgreSQL's explanation.
		ddl := fmt.Sprintf(`CREATE TABLE %s PARTITION OF event_log FOR VALUES FROM ('%s') TO ('%s')`,
			pgx.Identifier{name}.Sanitize(), from.Format(time.RFC3339), to.Format(time.RFC3339))
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO event_log_partitions (name, from_time, to_time) VALUES ($1, $2, $3)`, name, from, to)
		return err
	})
	if err != nil {
		return err
	}
	l.parts[from.Unix()] = true
	return nil
}

// RemoveBefore drops the partitions whose whole time range is before t (so
// every record in them was appended before t), never the one holding the
// newest record, and returns how many it dropped. Afterwards FirstSeq() is the first record kept. Readers in the
// middle of a dropped partition skip to the next kept record.
func (l *Log) RemoveBefore(ctx context.Context, t time.Time) (int, error) {
	dropped := 0
	err := l.db.inTx(ctx, "remove old event log partitions", pgx.TxOptions{}, func(tx pgx.Tx) error {
		// Locking the head holds appends for the few statements this takes,
		// so the first kept position is computed on a log that stands still.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM event_log_head WHERE id = 1 FOR UPDATE`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT name FROM event_log_partitions WHERE to_time <= least($1, (SELECT last_time FROM event_log_head WHERE id = 1)) ORDER BY from_time`, t)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range names {
			if _, err := tx.Exec(ctx, `DROP TABLE `+pgx.Identifier{name}.Sanitize()); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM event_log_partitions WHERE name = ANY($1)`, names); err != nil {
			return err
		}
		dropped = len(names)
		_, err = tx.Exec(ctx, `UPDATE event_log_head SET first_seq = coalesce((SELECT min(seq) FROM event_log), last_seq + 1) WHERE id = 1`)
		return err
	})
	if err != nil {
		return 0, err
	}
	l.partMu.Lock()
	for k := range l.parts {
		if time.Unix(k, 0).Add(l.opts.PartitionSpan).Compare(t) <= 0 {
			delete(l.parts, k)
		}
	}
	l.partMu.Unlock()
	return dropped, l.poll(ctx)
}
