package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mosaic-cdp/mosaic/eventlog"
)

// Append makes records durable (committed) and returns the sequence number
// of the first; the others follow consecutively. Every Append pending when
// the writer becomes free shares one transaction. On error nothing of this
// call is visible. ctx bounds only the wait for the writer to take the
// records: once taken, Append waits for the outcome, so a cancelled call
// never leaves records committed whose caller was told otherwise. If the
// process dies first, the records may or may not be in the log: retry, and
// deduplicate downstream (the engine does).
//
// Errors: eventlog.ErrTooLarge, eventlog.ErrClosed, ctx's error, or the
// database's error (the server is unreachable or refused the write): retry.
func (l *Log) Append(ctx context.Context, records [][]byte) (uint64, error) {
	if len(records) == 0 {
		return 0, nil
	}
	size := 0
	for i, r := range records {
		if len(r) > l.opts.MaxRecordSize {
			return 0, fmt.Errorf("%w: record %d of the batch is %d bytes, the limit is %d",
				eventlog.ErrTooLarge, i, len(r), l.opts.MaxRecordSize)
		}
		size += len(r)
	}
	req := &appendReq{records: records, bytes: size, done: make(chan struct{})}
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		return 0, errLogClosed
	}
	l.pending = append(l.pending, req)
	l.qmu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case <-req.done:
	case <-ctx.Done():
		if l.withdraw(req) {
			return 0, ctx.Err()
		}
		<-req.done
	}
	return req.first, req.err
}

// withdraw removes req if the writer has not taken it yet.
func (l *Log) withdraw(req *appendReq) bool {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	i := slices.Index(l.pending, req)
	if i < 0 {
		return false
	}
	l.pending = slices.Delete(l.pending, i, i+1)
	return true
}

// take returns the pending appends of the next group, up to
// MaxBatchBytes (at least one).
func (l *Log) take() []*appendReq {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	n, bytes := 0, 0
	for n < len(l.pending) && (n == 0 || bytes+l.pending[n].bytes <= l.opts.MaxBatchBytes) {
		bytes += l.pending[n].bytes
		n++
	}
	group := slices.Clone(l.pending[:n])
	l.pending = slices.Delete(l.pending, 0, n)
	if len(l.pending) > 0 {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return group
}

// write is the group committer: it commits the pending appends group by
// group until Close, then finishes what is pending.
func (l *Log) write() {
	defer l.done.Done()
	for {
		select {
		case <-l.wake:
		case <-l.stop:
			for group := l.take(); len(group) > 0; group = l.take() {
				l.commitGroup(group)
			}
			return
		}
		if group := l.take(); len(group) > 0 {
			l.commitGroup(group)
		}
	}
}

// commitGroup commits one group and answers its callers.
func (l *Log) commitGroup(group []*appendReq) {
	var records [][]byte
	for _, r := range group {
		records = append(records, r.records...)
	}
	// The callers wait for the outcome whatever their contexts say; this
	// bounds a commit against a server that stopped answering.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	first, at, err := l.commit(ctx, records)
	cancel()
	if err == nil && l.cache != nil {
		recs := make([]eventlog.Record, len(records))
		for i, data := range records {
			recs[i] = eventlog.Record{Seq: first + uint64(i), Time: at, Data: data}
		}
		l.cache.put(recs)
	}
	// Published before the callers hear of it: a caller reading LastSeq
	// after its Append returned must find its records.
	if err == nil {
		l.published(first + uint64(len(records)) - 1)
	}
	for _, r := range group {
		r.first, r.err = first, err
		first += uint64(len(r.records))
		close(r.done)
	}
}

// commit writes records in one transaction and returns the first's
// sequence number and the append time. A missing partition (the clock
// moved past the ones made ahead) is created and the commit tried again.
func (l *Log) commit(ctx context.Context, records [][]byte) (uint64, time.Time, error) {
	for attempt := 0; ; attempt++ {
		first, at, err := l.commitOnce(ctx, records)
		if err == nil || attempt > 0 || !isNoPartition(err) {
			return first, at, err
		}
		if perr := l.ensurePartitions(ctx, at); perr != nil {
			return 0, at, perr
		}
	}
}

// commitOnce is one attempt of commit. It returns the append time it used,
// so that a missing partition can be made for it.
func (l *Log) commitOnce(ctx context.Context, records [][]byte) (first uint64, at time.Time, err error) {
	now := l.opts.Now()
	err = l.db.inTx(ctx, fmt.Sprintf("append %d records to the event log", len(records)), pgx.TxOptions{}, func(tx pgx.Tx) error {
		var last int64
		// The row lock taken here orders this append after every other
		// node's; append times never decrease, as in the embedded log.
		err := tx.QueryRow(ctx, `UPDATE event_log_head SET last_seq = last_seq + $1, last_time = greatest(last_time, $2)
			WHERE id = 1 RETURNING last_seq, last_time`, len(records), now).Scan(&last, &at)
		if err != nil {
			return err
		}
		first = uint64(last) - uint64(len(records)) + 1
		recs := make([]eventlog.Record, len(records))
		for i, data := range records {
			recs[i] = eventlog.Record{Seq: first + uint64(i), Time: at, Data: data}
		}
		rows := packRows(recs, l.rowMax)
		if l.insert {
			seqs, ns, data := make([]int64, len(rows)), make([]int32, len(rows)), make([][]byte, len(rows))
			for i, r := range rows {
				seqs[i], ns[i], data[i] = r.seq, r.n, r.data
			}
			_, err = tx.Exec(ctx, `INSERT INTO event_log (seq, n, appended, data)
				SELECT s, n, $1, d FROM unnest($2::bigint[], $3::int[], $4::bytea[]) AS u(s, n, d)`,
				at, seqs, ns, data)
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"event_log"}, logColumns, &rowSource{rows: rows})
		return err
	})
	return first, at, err
}

// isNoPartition reports PostgreSQL's refusal of a row no partition takes.
func isNoPartition(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514" && strings.Contains(pe.Message, "no partition")
}
