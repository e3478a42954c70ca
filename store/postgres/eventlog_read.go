package postgres

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic/eventlog"
)

// readTimeout bounds one page of a read: the engine's Log interface has no
// context, and a reader must not hang on a server that stopped answering.
const readTimeout = 30 * time.Second

// scanPage is how many records Scan fetches per query.
const scanPage = 1000

// Read returns the records with sequence numbers greater than after, in
// order: at most maxRecords (no limit if <= 0, up to LastSeq()) and about
// maxBytes of payload (no limit if <= 0), though always at least one
// record. Records removed by retention are skipped. The Data is the
// caller's.
func (l *Log) Read(after uint64, maxRecords int, maxBytes int) ([]eventlog.Record, error) {
	if l.isClosed() {
		return nil, eventlog.ErrClosed
	}
	until := l.LastSeq()
	limit := math.MaxInt
	if maxRecords > 0 {
		limit = maxRecords
	}
	var out []eventlog.Record
	bytes := 0
	for after < until {
		recs, err := l.page(after, until, min(limit-len(out), scanPage))
		if err != nil || len(recs) == 0 {
			return out, err
		}
		for _, r := range recs {
			if maxBytes > 0 && len(out) > 0 && bytes+len(r.Data) > maxBytes {
				return out, nil
			}
			out = append(out, r)
			bytes += len(r.Data)
		}
		if len(out) >= limit {
			return out, nil
		}
		after = recs[len(recs)-1].Seq
	}
	return out, nil
}

// Scan calls fn for each record with a sequence number greater than after,
// in order, up to the LastSeq() at the time of the call, and stops at the
// first error from fn, which it returns.
func (l *Log) Scan(after uint64, fn func(eventlog.Record) error) error {
	if l.isClosed() {
		return eventlog.ErrClosed
	}
	until := l.LastSeq()
	for after < until {
		recs, err := l.page(after, until, scanPage)
		if err != nil || len(recs) == 0 {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		after = recs[len(recs)-1].Seq
	}
	return nil
}

// page reads up to n records with after < seq <= until.
func (l *Log) page(after, until uint64, n int) ([]eventlog.Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	rows, err := l.db.pool.Query(ctx, `SELECT seq, appended, data FROM event_log
		WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`, seqArg(after), seqArg(until), n)
	if err != nil {
		return nil, wrap(ctx, "read the event log", err)
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (eventlog.Record, error) {
		var r eventlog.Record
		var seq int64
		err := row.Scan(&seq, &r.Time, &r.Data)
		r.Seq = uint64(seq)
		return r, err
	})
	if err != nil {
		return nil, wrap(ctx, "read the event log", err)
	}
	if len(recs) > 0 && recs[0].Seq <= after {
		return nil, errors.New("postgres: read the event log: records out of order")
	}
	return recs, nil
}
