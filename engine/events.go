package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/eventlog"
)

// Limits of one Events call.
const (
	// DefaultEventsLimit is the page size when EventQuery.Limit is 0.
	DefaultEventsLimit = 100
	// MaxEventsLimit caps EventQuery.Limit.
	MaxEventsLimit = 1000
	// MaxEventsScan is how many log records one call examines at most. A
	// filter on a rare source then returns a short or empty page with a
	// next position to continue from, instead of reading the whole log in
	// one request.
	MaxEventsScan = 10_000
)

// EventQuery selects events to read.
type EventQuery struct {
	After    uint64 // only events with a greater seq
	SourceID string // only this source's events, if set
	Limit    int    // at most this many; 0 means DefaultEventsLimit, capped at MaxEventsLimit
	// System includes system records (mosaic.SystemSourceID: splits, rule
	// changes), which only the profile stage reads.
	System bool
	// Plain leaves the events as stored, without Options.Enrich: for
	// readers that do not look at what enrichment adds (the schema reads
	// properties and traits), which spares them its cost.
	Plain bool
}

// Events returns stored events in sequence order: each message once (no
// duplicates), only those the engine has processed. next is the seq to pass
// as After for the following page: the last one examined, which is q.After
// when there was nothing to examine. A page may hold fewer than Limit events
// (even none) while more follow, when MaxEventsScan records were examined;
// callers page until next stops moving.
func (e *Engine) Events(ctx context.Context, q EventQuery) (events []mosaic.Event, next uint64, err error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultEventsLimit
	}
	limit = min(limit, MaxEventsLimit)
	upto := e.Processed()
	next = q.After
	for scanned := 0; len(events) < limit && next < upto && scanned < MaxEventsScan; {
		want := MaxEventsScan - scanned
		if q.SourceID == "" {
			want = limit - len(events)
		}
		recs, err := e.log.Read(next, min(want, readBatch), readBytes)
		if err != nil {
			return nil, 0, fmt.Errorf("engine: read events after seq %d: %w", next, err)
		}
		recs = recordsUpTo(recs, upto)
		if len(recs) == 0 {
			break
		}
		dups, err := e.duplicates(ctx, next, recs[len(recs)-1].Seq)
		if err != nil {
			return nil, 0, err
		}
		for _, r := range recs {
			scanned++
			next = r.Seq
			if ev, ok := e.visible(r, dups, q); ok {
				events = append(events, ev)
				if len(events) == limit {
					break
				}
			}
		}
	}
	return events, next, nil
}

// recordsUpTo returns the prefix of recs with Seq <= upto.
func recordsUpTo(recs []eventlog.Record, upto uint64) []eventlog.Record {
	n, _ := slices.BinarySearchFunc(recs, upto+1, func(r eventlog.Record, seq uint64) int {
		switch {
		case r.Seq < seq:
			return -1
		case r.Seq > seq:
			return 1
		}
		return 0
	})
	return recs[:n]
}

// visible decodes r and reports whether it belongs in the answer: not a
// duplicate, a valid event, from the source asked for.
func (e *Engine) visible(r eventlog.Record, dups map[uint64]bool, q EventQuery) (mosaic.Event, bool) {
	var ev mosaic.Event
	if dups[r.Seq] {
		return ev, false
	}
	if err := ev.UnmarshalBinary(r.Data); err != nil {
		return ev, false // counted and logged by the dedupe stage
	}
	if (q.SourceID != "" && ev.SourceID != q.SourceID) || (!q.System && ev.IsSystem()) {
		return ev, false
	}
	ev.Seq = r.Seq
	if e.opts.Enrich != nil && !q.Plain {
		e.opts.Enrich(&ev)
	}
	return ev, true
}

// duplicates returns the seqs in (after, upto] found to be duplicates. It
// reads the memory before the store: a checkpoint moves duplicates from the
// first to the second only after the store has them, so each is in at least
// one of the two reads.
func (e *Engine) duplicates(ctx context.Context, after, upto uint64) (map[uint64]bool, error) {
	e.mu.Lock()
	lo, _ := slices.BinarySearch(e.dups, after+1)
	hi, _ := slices.BinarySearch(e.dups, upto+1)
	mem := slices.Clone(e.dups[lo:hi])
	e.mu.Unlock()
	dups, err := e.st.Duplicates(ctx, after, upto)
	if err != nil {
		return nil, fmt.Errorf("engine: duplicates in seq %d..%d: %w", after+1, upto, err)
	}
	if dups == nil {
		dups = make(map[uint64]bool, len(mem))
	}
	for _, seq := range mem {
		dups[seq] = true
	}
	return dups, nil
}

// Stats returns a source's counters: the store's, as of the last
// checkpoint, plus what the engine processed since.
func (e *Engine) Stats(ctx context.Context, sourceID string) (*mosaic.SourceStats, error) {
	// Hold off checkpoints, which move increments from memory to the store,
	// so both reads see the same side of the move.
	e.saveMu.RLock()
	defer e.saveMu.RUnlock()
	e.mu.Lock()
	inc := e.counts[sourceID]
	e.mu.Unlock()
	st, err := e.st.Stats(ctx, sourceID)
	if err != nil {
		return nil, fmt.Errorf("engine: stats of source %s: %w", sourceID, err)
	}
	st.Stored += inc.Stored
	st.Duplicates += inc.Duplicates
	st.Received += inc.Stored + inc.Duplicates
	return st, nil
}

// Event returns the stored event at seq.
func (e *Engine) Event(seq uint64) (mosaic.Event, error) {
	recs, err := e.log.Read(seq-1, 1, 0)
	if err != nil {
		return mosaic.Event{}, err
	}
	if len(recs) == 0 || recs[0].Seq != seq {
		return mosaic.Event{}, mosaic.Errorf(mosaic.ENOTFOUND, "No event %d in the log (retention may have removed it).", seq)
	}
	var ev mosaic.Event
	if err := ev.UnmarshalBinary(recs[0].Data); err != nil {
		return mosaic.Event{}, fmt.Errorf("event %d: %w", seq, err)
	}
	ev.Seq = seq
	if e.opts.Enrich != nil {
		e.opts.Enrich(&ev)
	}
	return ev, nil
}
