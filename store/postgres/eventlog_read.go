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
	// Retention may have dropped records the cache still holds.
	if first := l.FirstSeq(); first > 0 && after+1 < first {
		after = first - 1
	}
	if recs, ok := l.cache.get(after, until, n); ok {
		return recs, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	// Positions are dense, so the records after+1..last are exactly the
	// n wanted; the row holding after+1 starts at most rowMaxRecords
	// before it.
	last := min(until, after+uint64(n))
	rows, err := l.db.pool.Query(ctx, `SELECT seq, n, appended, data FROM event_log
		WHERE seq > $1 AND seq <= $2 AND seq + n > $3 ORDER BY seq`,
		seqArg(after)-rowMaxRecords, seqArg(last), seqArg(after+1))
	if err != nil {
		return nil, wrap(ctx, "read the event log", err)
	}
	var recs []eventlog.Record
	var row logRow
	_, err = pgx.ForEachRow(rows, []any{&row.seq, &row.n, &row.at, &row.data}, func() error {
		var err error
		recs, err = row.unpack(recs)
		row.data = nil // the next row's bytes must not overwrite these
		return err
	})
	if err != nil {
		return nil, wrap(ctx, "read the event log", err)
	}
	// The first row may begin before after+1, the last end after last.
	lo := 0
	for lo < len(recs) && recs[lo].Seq <= after {
		lo++
	}
	hi := len(recs)
	for hi > lo && recs[hi-1].Seq > last {
		hi--
	}
	recs = recs[lo:hi]
	for i := 1; i < len(recs); i++ {
		if recs[i].Seq != recs[i-1].Seq+1 {
			return nil, errors.New("postgres: read the event log: records out of order")
		}
	}
	l.cache.put(recs)
	return recs, nil
}
