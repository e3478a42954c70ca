package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mosaic-cdp/mosaic/eventlog"
)

// LogOptions tune a Log. Zero fields take the defaults of DefaultLogOptions.
type LogOptions struct {
	// PartitionSpan is the time range of one partition of the log table;
	// retention drops whole partitions, so it is also the granularity of
	// retention. Default 24h. Partitions are aligned to multiples of it
	// since the Unix epoch (midnight UTC for a day).
	PartitionSpan time.Duration
	// PollInterval is how often the log looks for records other nodes
	// appended. Default 50ms. Records this node appends wake its readers at
	// once.
	PollInterval time.Duration
	// MaxRecordSize is the largest payload one record may have. Default 16
	// MiB, as the embedded log.
	MaxRecordSize int
	// MaxBatchBytes bounds the payload bytes of one group commit. Default
	// 8 MiB. Appends waiting beyond it go into the next commit.
	MaxBatchBytes int
	// CacheBytes bounds the payload bytes of the newest records kept in
	// memory for this node's readers (see tailCache). Default 32 MiB;
	// negative: no cache.
	CacheBytes int
	// Now is the clock that stamps appends. Default time.Now.
	Now func() time.Time
	// Logger receives warnings. Default: discard.
	Logger *slog.Logger
}

// DefaultLogOptions returns the options OpenLog uses for zero fields.
func DefaultLogOptions() LogOptions {
	return LogOptions{
		PartitionSpan: 24 * time.Hour,
		PollInterval:  50 * time.Millisecond,
		MaxRecordSize: 16 << 20,
		MaxBatchBytes: 8 << 20,
		CacheBytes:    32 << 20,
		Now:           time.Now,
		Logger:        slog.New(slog.DiscardHandler),
	}
}

func (o LogOptions) withDefaults() LogOptions {
	d := DefaultLogOptions()
	if o.PartitionSpan <= 0 {
		o.PartitionSpan = d.PartitionSpan
	}
	if o.PollInterval <= 0 {
		o.PollInterval = d.PollInterval
	}
	if o.MaxRecordSize <= 0 {
		o.MaxRecordSize = d.MaxRecordSize
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = d.MaxBatchBytes
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = d.CacheBytes
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	return o
}

// Log is the event log in PostgreSQL, for installations whose nodes share
// one database. It keeps the contract of package eventlog's Log as the
// engine and the Tracking API use it: Append returns only once the records
// are committed; sequence numbers start at 1, are dense and increase across
// all nodes; readers see a prefix of the log, never a gap that fills later.
//
// Each node groups the Appends pending at one moment into one transaction
// (group commit). The transaction first moves the event_log_head row's
// counter, whose row lock orders the appends of all nodes, then writes the
// records. LastSeq is a cached reading, updated by this node's appends and
// by polling the head for other nodes' (LogOptions.PollInterval).
type Log struct {
	db   *DB
	opts LogOptions

	lastSeq  atomic.Uint64
	firstSeq atomic.Uint64

	nmu    sync.Mutex
	notify chan struct{} // closed when lastSeq grows

	qmu     sync.Mutex
	pending []*appendReq
	wake    chan struct{} // buffered 1: the writer has work
	closed  bool

	stop chan struct{} // closed by Close
	done sync.WaitGroup

	// insert writes with a multi-row INSERT instead of COPY; the
	// benchmark compares the two.
	insert bool
	// rowMax is the most records one row of the table holds:
	// rowMaxRecords, or 1 in the benchmark's comparison.
	rowMax int

	cache *tailCache // nil when LogOptions.CacheBytes < 0

	partMu sync.Mutex
	parts  map[int64]bool // partition starts (unix seconds) known to exist
}

// appendReq is one Append waiting for its group commit.
type appendReq struct {
	records [][]byte
	bytes   int
	first   uint64
	err     error
	done    chan struct{}
}

// OpenLog opens the event log in the store's schema, creating the partitions
// for the current time, and starts the group committer and the poller.
func (db *DB) OpenLog(ctx context.Context, opts LogOptions) (*Log, error) {
	l := &Log{
		db: db, opts: opts.withDefaults(),
		notify: make(chan struct{}), wake: make(chan struct{}, 1), stop: make(chan struct{}),
		parts: map[int64]bool{}, rowMax: rowMaxRecords,
	}
	if l.opts.CacheBytes > 0 {
		l.cache = newTailCache(l.opts.CacheBytes)
	}
	if err := l.ensurePartitions(ctx, l.opts.Now()); err != nil {
		return nil, err
	}
	if err := l.poll(ctx); err != nil {
		return nil, err
	}
	l.done.Add(2)
	go l.write()
	go l.follow()
	return l, nil
}

// LastSeq returns the highest committed sequence number this node knows of,
// 0 for an empty log.
func (l *Log) LastSeq() uint64 { return l.lastSeq.Load() }

// FirstSeq returns the lowest sequence number retention kept, as of the
// last poll.
func (l *Log) FirstSeq() uint64 { return l.firstSeq.Load() }

// Close stops accepting appends, waits for the pending ones to be committed
// or failed, and stops polling. The store stays open. Calling Close twice
// returns eventlog.ErrClosed.
func (l *Log) Close() error {
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		return eventlog.ErrClosed
	}
	l.closed = true
	l.qmu.Unlock()
	close(l.stop)
	l.done.Wait()
	return nil
}

// published moves lastSeq up to last and wakes Wait.
func (l *Log) published(last uint64) {
	for {
		cur := l.lastSeq.Load()
		if last <= cur {
			return
		}
		if l.lastSeq.CompareAndSwap(cur, last) {
			break
		}
	}
	l.nmu.Lock()
	close(l.notify)
	l.notify = make(chan struct{})
	l.nmu.Unlock()
}

// Wait blocks until LastSeq() > after, ctx is done (returning its error) or
// the log is closed (eventlog.ErrClosed).
func (l *Log) Wait(ctx context.Context, after uint64) error {
	for {
		l.nmu.Lock()
		ch := l.notify
		l.nmu.Unlock()
		if l.LastSeq() > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.stop:
			return eventlog.ErrClosed
		}
	}
}

// follow polls the head for records other nodes appended, until Close.
func (l *Log) follow() {
	defer l.done.Done()
	t := time.NewTicker(l.opts.PollInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := l.poll(ctx)
		if err == nil {
			err = l.ensurePartitions(ctx, l.opts.Now())
		}
		cancel()
		if err != nil && !failing {
			l.opts.Logger.Warn("cannot read the event log's head; retrying", "err", err)
		}
		failing = err != nil
	}
}

// poll reads the head row.
func (l *Log) poll(ctx context.Context) error {
	var last, first int64
	err := l.db.pool.QueryRow(ctx, `SELECT last_seq, first_seq FROM event_log_head WHERE id = 1`).Scan(&last, &first)
	if err != nil {
		return wrap(ctx, "read the event log head", err)
	}
	l.firstSeq.Store(uint64(first))
	l.published(uint64(last))
	return nil
}

// errLogClosed is returned by Append after Close.
var errLogClosed = fmt.Errorf("%w", eventlog.ErrClosed)

// isClosed reports whether Close was called.
func (l *Log) isClosed() bool {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return l.closed
}

// String describes the log for logs and debugging.
func (l *Log) String() string {
	return fmt.Sprintf("PostgreSQL event log (seq %d..%d)", l.FirstSeq(), l.LastSeq())
}
