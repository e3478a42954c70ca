// Package engine derives state from the event log. It tails the log in
// sequence order; its first stage removes duplicates by (source, messageId),
// which collect deliberately leaves in the log because an index on the ingest
// path would cap ingestion far below what the log can take.
//
// The dedupe stage keeps a windowed index (package dedupe) in memory and
// checkpoints it to the store together with the log position it reflects and
// the duplicates it found, in one transaction. After a crash the engine loads
// the last checkpoint and replays the log from its position: the same log in
// the same order through the same index state gives the same decisions, so
// every reader sees each message once, before and after.
package engine

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/dedupe"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Log is what the engine needs of the event log; *eventlog.Log has it.
type Log interface {
	// LastSeq returns the sequence number of the newest durable record.
	LastSeq() uint64
	// Read returns up to max records (and about maxBytes) with seq > after,
	// in order, in memory of their own.
	Read(after uint64, max int, maxBytes int) ([]eventlog.Record, error)
	// Scan calls fn for each record with seq > after, in order, up to the
	// LastSeq of the time of the call, stopping at fn's first error, which
	// it returns. Record.Data is valid only until fn returns.
	Scan(after uint64, fn func(eventlog.Record) error) error
	// Wait blocks until LastSeq() > after or ctx is done.
	Wait(ctx context.Context, after uint64) error
}

// Options configure an Engine. Zero fields take the defaults of
// DefaultOptions.
type Options struct {
	// Log receives warnings and errors. Default: discard.
	Log *slog.Logger
	// Now is the wall clock, used to decide which checkpointed keys may still
	// be in the window at start-up. Default time.Now.
	Now func() time.Time
	// Window is how long a message is remembered: a copy received within
	// Window of the first is a duplicate. Default 7 days, the promise of the
	// Tracking API; raising it costs memory in proportion.
	Window time.Duration
	// CheckpointEvery bounds the time between checkpoints while there is new
	// work. Default 200ms. Shorter means less replay after a crash and
	// fresher Stats in the store, at the cost of more store transactions.
	CheckpointEvery time.Duration
	// CheckpointMaxEvents forces a checkpoint after this many events, which
	// bounds the memory held until the checkpoint and the replay after a
	// crash under heavy load. Default 50,000.
	CheckpointMaxEvents int
	// Registerer receives the engine's metrics. Default: none registered.
	Registerer prometheus.Registerer
	// Enrich, if set, adds derived data to each event as it is read from
	// the log for Events and Event (user-agent parsing, package clean), so
	// that every reader (profiles, the API, forwarding) sees the same
	// enriched event while the log keeps it as sent. When it adds
	// something, it appends the enriched message to dst and returns it with
	// true; otherwise it returns dst as it was and false. It must not change
	// ev (the message aliases the log's buffer) nor dst's bytes, and must
	// be safe for concurrent use. Events copies the messages it keeps into
	// a buffer of its own, which dst is: the enriched ones are copied once.
	Enrich func(dst []byte, ev *mosaic.Event) ([]byte, bool)
}

// DefaultOptions returns the options used for fields left at zero.
func DefaultOptions() Options {
	return Options{
		Log:                 slog.New(slog.DiscardHandler),
		Now:                 time.Now,
		Window:              dedupe.DefaultOptions().Window,
		CheckpointEvery:     200 * time.Millisecond,
		CheckpointMaxEvents: 50_000,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Log == nil {
		o.Log = d.Log
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Window <= 0 {
		o.Window = d.Window
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = d.CheckpointEvery
	}
	if o.CheckpointMaxEvents <= 0 {
		o.CheckpointMaxEvents = d.CheckpointMaxEvents
	}
	return o
}

// Reads from the log come in batches of at most this many records and (for
// Events, which keeps what it reads) about this many bytes: large enough to
// amortise the call, small enough to keep the memory of a batch modest.
const (
	readBatch = 1000
	readBytes = 4 << 20
)

// Engine runs the dedupe stage and answers reads of its results. Run it
// once; the other methods are safe for concurrent use at any time.
type Engine struct {
	log  Log
	st   store.Store
	opts Options
	m    *metrics
	idx  *dedupe.Index // owned by Run

	processed atomic.Uint64 // highest seq processed; written under mu

	// mu guards what Run has found since the last saved checkpoint, which
	// readers combine with what the store holds.
	mu       sync.Mutex
	dups     []uint64                   // ascending
	counts   map[string]store.Increment // per source ID
	advanced chan struct{}              // closed when processed moves

	// saveMu is held for writing while a checkpoint is saved and the memory
	// above reset, so Stats never counts an increment twice or not at all.
	saveMu sync.RWMutex

	run runState // owned by Run

	// Test hooks: afterBatch is called after each published batch, and
	// crash makes Run return without its final checkpoint, as a crash would.
	afterBatch func(seq uint64)
	crash      atomic.Bool
	batchSize  int
}

// runState is what only the Run goroutine touches.
type runState struct {
	saved     uint64    // seq of the last saved checkpoint
	lastSave  time.Time // when it was saved, or when Run started
	unsaved   int       // events processed since
	batchDups []uint64
	batchInc  map[string]store.Increment
}

// New returns an engine over log and st. Call Run to start it.
func New(log Log, st store.Store, opts Options) *Engine {
	opts = opts.withDefaults()
	e := &Engine{
		log:       log,
		st:        st,
		opts:      opts,
		idx:       dedupe.New(dedupe.Options{Window: opts.Window}),
		counts:    make(map[string]store.Increment),
		advanced:  make(chan struct{}),
		batchSize: readBatch,
		run:       runState{batchInc: make(map[string]store.Increment)},
	}
	e.m = newMetrics(opts.Registerer, e)
	return e
}

// Processed returns the highest log sequence number the engine has
// processed. Events up to it are visible to Events and Stats.
func (e *Engine) Processed() uint64 {
	return e.processed.Load()
}

// WaitProcessed blocks until Processed() >= seq or ctx is done, and returns
// ctx's error in the latter case.
func (e *Engine) WaitProcessed(ctx context.Context, seq uint64) error {
	for {
		e.mu.Lock()
		ch := e.advanced
		e.mu.Unlock()
		if e.Processed() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// The event log is what the engine is written against.
var _ Log = (*eventlog.Log)(nil)
