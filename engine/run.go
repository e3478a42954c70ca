package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/dedupe"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store"
)

// finalSaveTimeout bounds the checkpoint saved on shutdown. If it runs out
// nothing is lost: the next start replays from the previous checkpoint.
const finalSaveTimeout = 10 * time.Second

// Retries of a failing log read or checkpoint back off up to this delay.
const maxBackoff = 5 * time.Second

// Run loads the last checkpoint, replays the log from its position, then
// follows the log as it grows, until ctx is done. It then saves a final
// checkpoint and returns nil. A log or store that fails makes Run retry with
// backoff, logging each failure, rather than return: ingestion goes on
// meanwhile and the lag metric shows the stall. Run returns an error only if
// the checkpoint cannot be loaded or the final one cannot be saved.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.load(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while loading: nothing was processed, nothing to save
		}
		return err
	}
	e.run.lastSave = time.Now()
	e.tail(ctx)
	if e.crash.Load() {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSaveTimeout)
	defer cancel()
	if err := e.checkpoint(sctx); err != nil {
		return fmt.Errorf("engine: final dedupe checkpoint at seq %d: %w; the next start replays from seq %d", e.Processed(), err, e.run.saved)
	}
	return nil
}

// load rebuilds the index from the store. It first asks for the chunks the
// wall clock says may be in the window; if the index's own clock (the newest
// receivedAt it recorded) is further behind, because the engine was stopped
// for a while, it reloads with the older chunks that clock still needs.
func (e *Engine) load(ctx context.Context) error {
	hint := e.opts.Now().Add(-e.opts.Window - e.opts.Window/time.Duration(dedupe.DefaultOptions().Buckets))
	seq, err := e.loadSince(ctx, hint)
	if err != nil {
		return err
	}
	if need := e.idx.KeepSince(); seq > 0 && need.Before(hint) {
		if seq, err = e.loadSince(ctx, need); err != nil {
			return err
		}
	}
	if last := e.log.LastSeq(); seq > last {
		e.opts.Log.Error("dedupe checkpoint is ahead of the event log: records were lost from the log; new records up to the checkpoint will be skipped",
			"checkpoint_seq", seq, "log_last_seq", last)
	}
	e.run.saved = seq
	e.publish(seq)
	e.m.keys.Set(float64(e.idx.Len()))
	return nil
}

func (e *Engine) loadSince(ctx context.Context, keptSince time.Time) (uint64, error) {
	seq, chunks, err := e.st.DedupeCheckpoint(ctx, keptSince)
	if err != nil {
		return 0, fmt.Errorf("engine: load dedupe checkpoint: %w", err)
	}
	if err := e.idx.Load(chunks); err != nil {
		return 0, fmt.Errorf("engine: load dedupe checkpoint at seq %d: %w", seq, err)
	}
	return seq, nil
}

// tail processes the log until ctx is done.
func (e *Engine) tail(ctx context.Context) {
	backoff := newBackoff()
	for ctx.Err() == nil {
		n, err := e.processNext(ctx)
		if err == nil && n == 0 {
			err = e.idle(ctx)
		}
		if err != nil {
			e.opts.Log.Error("dedupe stage cannot read the event log; retrying", "after", e.Processed(), "err", err)
			backoff.wait(ctx)
			continue
		}
		backoff.reset()
		if n == 0 {
			continue
		}
		if e.crash.Load() {
			return
		}
		if e.run.unsaved >= e.opts.CheckpointMaxEvents || time.Since(e.run.lastSave) >= e.opts.CheckpointEvery {
			e.checkpointRetrying(ctx)
		}
	}
}

// Scan callbacks return these to end a batch early.
var (
	errBatchFull = errors.New("batch full")
	errShutdown  = errors.New("shutting down")
)

// processNext dedupes the next batch of records (up to batchSize) and
// publishes the result. The records are read with Scan, which decodes them
// in the log's own reused read buffer: the dedupe stage keeps nothing of a
// record but its key, so copying every record out of the log, as Read does,
// would only make garbage (most of what the server allocated under load).
// It returns how many records it processed; a read error after some of them
// still publishes those.
func (e *Engine) processNext(ctx context.Context) (int, error) {
	last, n := e.Processed(), 0
	err := e.log.Scan(last, func(r eventlog.Record) error {
		if !e.process(ctx, r, &last) {
			return errShutdown
		}
		if n++; n >= e.batchSize {
			return errBatchFull
		}
		return nil
	})
	switch {
	case errors.Is(err, errShutdown):
		return n, nil // the rest is for the next start
	case errors.Is(err, errBatchFull):
		err = nil
	}
	if n > 0 {
		e.publish(last)
		if e.afterBatch != nil {
			e.afterBatch(last)
		}
	}
	return n, err
}

// idle waits for the log to grow. With unsaved work it wakes up in time to
// checkpoint it within CheckpointEvery. It returns an error only if the log
// fails (is closed): not when ctx is done or the log grew.
func (e *Engine) idle(ctx context.Context) error {
	wctx := ctx
	if e.run.unsaved > 0 {
		left := e.opts.CheckpointEvery - time.Since(e.run.lastSave)
		if left <= 0 {
			e.checkpointRetrying(ctx)
			return nil
		}
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, left)
		defer cancel()
	}
	err := e.log.Wait(wctx, e.Processed())
	if err == nil || ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// process dedupes one record, moving *last to its seq. It returns false,
// leaving the record unprocessed, when a checkpoint it needs first could not
// be saved because ctx is done.
func (e *Engine) process(ctx context.Context, r eventlog.Record, last *uint64) bool {
	if r.Seq <= *last {
		return true // the log's contract says this cannot happen; never count twice
	}
	var ev mosaic.Event
	if err := ev.UnmarshalBinary(r.Data); err != nil {
		e.m.corrupt.Inc()
		e.opts.Log.Error("skipping an event log record that is not an event", "seq", r.Seq, "err", err)
		*last = r.Seq
		return true
	}
	if e.idx.MustFlush(ev.ReceivedAt) {
		// A new generation starts: checkpoint first, so that every saved
		// chunk belongs to one generation (see dedupe.Index).
		e.publish(*last)
		if !e.checkpointRetrying(ctx) {
			return false
		}
	}
	dup := e.idx.Seen(dedupe.KeyOf(ev.SourceID, ev.MessageID), ev.ReceivedAt)
	inc := e.run.batchInc[ev.SourceID]
	if dup {
		inc.Duplicates++
		e.run.batchDups = append(e.run.batchDups, r.Seq)
	} else {
		inc.Stored++
	}
	e.run.batchInc[ev.SourceID] = inc
	*last = r.Seq
	return true
}

// publish makes the batch's results visible to readers and moves Processed
// to seq. Duplicates become visible before the position that covers them.
func (e *Engine) publish(seq uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dups = append(e.dups, e.run.batchDups...)
	e.m.duplicates.Add(float64(len(e.run.batchDups)))
	for src, inc := range e.run.batchInc {
		c := e.counts[src]
		c.Stored += inc.Stored
		c.Duplicates += inc.Duplicates
		e.counts[src] = c
		e.run.unsaved += int(inc.Stored + inc.Duplicates)
	}
	e.run.batchDups = e.run.batchDups[:0]
	clear(e.run.batchInc)
	if seq > e.processed.Load() {
		e.processed.Store(seq)
		close(e.advanced)
		e.advanced = make(chan struct{})
	}
}

// checkpointRetrying saves a checkpoint, retrying with backoff until it is
// saved or ctx is done, and reports whether it was saved. Processing waits
// meanwhile: the keys pending in the index must reach the store before more
// are added.
func (e *Engine) checkpointRetrying(ctx context.Context) bool {
	backoff := newBackoff()
	for {
		err := e.checkpoint(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		e.m.checkpointErrors.Inc()
		e.opts.Log.Error("dedupe checkpoint failed; retrying", "seq", e.Processed(), "err", err)
		backoff.wait(ctx)
	}
}

// checkpoint saves what was processed since the last checkpoint in one
// store transaction. On failure the commit is kept, so the next call saves
// it, with anything processed since, under the same terms.
func (e *Engine) checkpoint(ctx context.Context) error {
	seq := e.Processed()
	if seq <= e.run.saved {
		return nil
	}
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	c := e.pendingCommit(seq)
	start := time.Now()
	if err := e.st.SaveDedupe(ctx, c); err != nil {
		e.idx.Restore(c.Chunk)
		return err
	}
	e.m.checkpointSeconds.Observe(time.Since(start).Seconds())
	e.m.keys.Set(float64(e.idx.Len()))
	e.mu.Lock()
	e.dups = nil
	clear(e.counts)
	e.mu.Unlock()
	e.run.saved, e.run.lastSave, e.run.unsaved = seq, time.Now(), 0
	return nil
}

// pendingCommit assembles the commit for everything up to seq. The caller
// holds saveMu.
func (e *Engine) pendingCommit(seq uint64) *store.DedupeCommit {
	e.mu.Lock()
	defer e.mu.Unlock()
	return &store.DedupeCommit{
		Seq:          seq,
		Chunk:        e.idx.Pending(),
		Duplicates:   append([]uint64(nil), e.dups...),
		Counts:       maps.Clone(e.counts),
		ExpireBefore: e.idx.KeepSince(),
	}
}

// backoff doubles a delay from 50ms up to maxBackoff.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: 50 * time.Millisecond} }

func (b *backoff) reset() { b.d = 50 * time.Millisecond }

// wait sleeps for the current delay or until ctx is done, then doubles it.
func (b *backoff) wait(ctx context.Context) {
	t := time.NewTimer(b.d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	b.d = min(2*b.d, maxBackoff)
}
