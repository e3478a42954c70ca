package schema

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/store"
)

// Events is what the stage reads: the dedupe stage's events
// (*engine.Engine).
type Events interface {
	Events(ctx context.Context, q engine.EventQuery) ([]mosaic.Event, uint64, error)
	Processed() uint64
	WaitProcessed(ctx context.Context, seq uint64) error
}

// Store keeps the stage's fields and position (store.Store has it).
type Store interface {
	SchemaPosition(ctx context.Context) (uint64, error)
	SaveSchema(ctx context.Context, c *store.SchemaCommit) error
	SchemaFields(ctx context.Context, q store.SchemaQuery) ([]store.SchemaField, error)
}

// Options configure a Stage. Zero fields take the defaults.
type Options struct {
	// Log receives failures to read or save (the stage retries them).
	// Default: discard.
	Log *slog.Logger
	// SaveEvery bounds the time between saves while there is new work.
	// Default 500ms: the schema is read by people choosing menu entries,
	// so half a second is fresh enough, and fewer saves cost the store less.
	SaveEvery time.Duration
	// MaxFields forces a save when this many distinct fields wait, which
	// bounds the stage's memory. Default 20,000.
	MaxFields int
}

// Stage follows the deduplicated events and keeps the schema in the store.
// Run it once; the other methods are safe for concurrent use.
type Stage struct {
	events Events
	st     Store
	opts   Options

	saved    atomic.Uint64 // the position in the store
	mu       sync.Mutex
	advanced chan struct{} // closed and replaced when saved moves
}

// New returns a Stage.
func New(ev Events, st Store, opts Options) *Stage {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.SaveEvery <= 0 {
		opts.SaveEvery = 500 * time.Millisecond
	}
	if opts.MaxFields <= 0 {
		opts.MaxFields = 20_000
	}
	return &Stage{events: ev, st: st, opts: opts, advanced: make(chan struct{})}
}

// Processed is the log position the saved schema reflects.
func (s *Stage) Processed() uint64 { return s.saved.Load() }

// WaitProcessed blocks until the saved schema reflects seq, or ctx ends.
func (s *Stage) WaitProcessed(ctx context.Context, seq uint64) error {
	for {
		s.mu.Lock()
		ch := s.advanced
		s.mu.Unlock()
		if s.Processed() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Stage) publish(seq uint64) {
	s.saved.Store(seq)
	s.mu.Lock()
	close(s.advanced)
	s.advanced = make(chan struct{})
	s.mu.Unlock()
}

// Run loads the saved position, then follows the events until ctx is
// done, and saves what it holds before it returns.
func (s *Stage) Run(ctx context.Context) error {
	var seq uint64
	for {
		var err error
		if seq, err = s.st.SchemaPosition(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		s.opts.Log.Error("schema stage cannot read its position; retrying", "err", err)
		sleep(ctx, time.Second)
	}
	s.publish(seq)
	r := run{Stage: s, cursor: seq, lastSave: time.Now()}
	r.follow(ctx)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.save(sctx); err != nil {
		return fmt.Errorf("schema: final save at seq %d: %w", r.cursor, err)
	}
	return nil
}

// run is the state of one Run.
type run struct {
	*Stage
	cursor   uint64 // the last position read
	pending  Fields // what was read since the last save
	lastSave time.Time
}

func (r *run) follow(ctx context.Context) {
	for ctx.Err() == nil {
		evs, next, err := r.events.Events(ctx, engine.EventQuery{After: r.cursor, Limit: engine.MaxEventsLimit, Plain: true})
		if err != nil {
			r.opts.Log.Error("schema stage cannot read events; retrying", "after", r.cursor, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		for i := range evs {
			r.pending.Add(&evs[i])
		}
		r.cursor = next
		if r.pending.Len() >= r.opts.MaxFields || time.Since(r.lastSave) >= r.opts.SaveEvery {
			if err := r.save(ctx); err != nil && ctx.Err() == nil {
				r.opts.Log.Error("schema save failed; retrying", "seq", r.cursor, "err", err)
				sleep(ctx, time.Second)
			}
		}
		if next >= r.events.Processed() {
			// Caught up: wait for more, waking in time for the next save.
			wctx, cancel := context.WithTimeout(ctx, max(r.opts.SaveEvery-time.Since(r.lastSave), 10*time.Millisecond))
			_ = r.events.WaitProcessed(wctx, r.cursor+1)
			cancel()
		}
	}
}

// save writes the pending fields with the cursor. On failure they stay
// pending, to go with the next save.
func (r *run) save(ctx context.Context) error {
	if r.cursor <= r.Processed() {
		r.lastSave = time.Now() // nothing new: the next save is due a period from now
		return nil
	}
	if err := r.st.SaveSchema(ctx, &store.SchemaCommit{Seq: r.cursor, Fields: r.pending.List()}); err != nil {
		return err
	}
	r.pending = Fields{}
	r.lastSave = time.Now()
	r.publish(r.cursor)
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Fields lists the saved fields matching q.
func (s *Stage) Fields(ctx context.Context, q store.SchemaQuery) ([]store.SchemaField, error) {
	return s.st.SchemaFields(ctx, q)
}

// Draft drafts a source's tracking plan from the fields seen since (see
// the function Draft).
func (s *Stage) Draft(ctx context.Context, sourceID string, since time.Time) (*clean.Plan, error) {
	return Draft(ctx, s.st, sourceID, since)
}
