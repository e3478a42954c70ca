package engine

import (
	"context"
	"errors"
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
	// Blocks, if set, lends the memory the events' messages are copied
	// into (see Blocks); nil allocates it.
	Blocks *Blocks
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
	p := eventsPage{e: e, ctx: ctx, q: q, limit: limit, upto: e.Processed(), next: q.After}
	for len(p.events) < limit && p.next < p.upto && p.scanned < MaxEventsScan {
		want := MaxEventsScan - p.scanned
		if q.SourceID == "" {
			want = limit - len(p.events)
		}
		n, err := p.batch(min(want, readBatch))
		if err != nil {
			return nil, 0, err
		}
		if n == 0 {
			break
		}
	}
	return p.events, p.next, nil
}

// eventsPage is one Events call under way. It reads the log through Scan,
// whose records alias a buffer of the log, instead of Read, which copies
// every record: many records are filtered out, and the messages kept are
// copied once, enriched as they are copied.
type eventsPage struct {
	e                   *Engine
	ctx                 context.Context
	q                   EventQuery
	limit               int
	upto                uint64 // e.Processed() when the call began
	events              []mosaic.Event
	next                uint64
	scanned             int
	arena               []byte          // kept messages are copied here
	dups                map[uint64]bool // the duplicates in (dupsAfter, dupsUpto]
	dupsAfter, dupsUpto uint64
	err                 error // of reading duplicates, which ends the Scan
}

// errBatchDone ends a batch's Scan.
var errBatchDone = errors.New("batch done")

// batch examines the records after p.next that one Read of at most max
// records and readBytes bytes would return, up to p.upto, stopping early
// when the page is full: the pages are the same as when Events read
// batches with Read. It returns how many records it examined.
func (p *eventsPage) batch(max int) (int, error) {
	n, bytes, after := 0, 0, p.next
	err := p.e.log.Scan(after, func(r eventlog.Record) error {
		if r.Seq > p.upto || (n > 0 && bytes+len(r.Data) > readBytes) {
			return errBatchDone
		}
		n++
		bytes += len(r.Data)
		if p.err = p.examine(r, max); p.err != nil {
			return errBatchDone
		}
		if len(p.events) == p.limit || n == max {
			return errBatchDone
		}
		return nil
	})
	switch {
	case p.err != nil:
		return n, p.err
	case err != nil && !errors.Is(err, errBatchDone):
		return n, fmt.Errorf("engine: read events after seq %d: %w", after, err)
	}
	return n, nil
}

// examine adds r to the page if it belongs there. The duplicates are read
// for up to max records at a time, as many as a batch may hold.
func (p *eventsPage) examine(r eventlog.Record, max int) error {
	if r.Seq > p.dupsUpto || r.Seq <= p.dupsAfter {
		after := r.Seq - 1
		upto := min(p.upto, after+uint64(max))
		dups, err := p.e.duplicates(p.ctx, after, upto)
		if err != nil {
			return err
		}
		p.dups, p.dupsAfter, p.dupsUpto = dups, after, upto
	}
	p.scanned++
	p.next = r.Seq
	ev, ok := p.e.visible(r, p.dups, p.q)
	if !ok {
		return nil
	}
	ev.Message = p.keep(&ev)
	p.events = append(p.events, ev)
	return nil
}

// enrichRoom is the room keep leaves in its buffer for what enrichment
// adds to a message (a few hundred bytes), so that the enriched message is
// written there directly.
const enrichRoom = 1 << 10

// keep returns ev's message, enriched unless the query is plain, copied out
// of the log's buffer into blocks that grow as Read's do.
func (p *eventsPage) keep(ev *mosaic.Event) []byte {
	msg := ev.Message
	enrich := p.e.opts.Enrich != nil && !p.q.Plain && len(msg) > 0
	need := len(msg)
	if enrich {
		need += enrichRoom
	}
	if need > cap(p.arena)-len(p.arena) {
		if p.q.Blocks != nil {
			p.arena = p.q.Blocks.get(need)
		} else {
			p.arena = make([]byte, 0, max(min(max(2*cap(p.arena), 32<<10), 1<<20), need))
		}
	}
	start := len(p.arena)
	if enrich {
		// Should enrichment add more than the room left, append moves
		// the block: the messages kept before stay in the old one.
		if out, ok := p.e.opts.Enrich(p.arena, ev); ok {
			p.arena = out
			return p.arena[start:len(p.arena):len(p.arena)]
		}
	}
	p.arena = append(p.arena, msg...)
	return p.arena[start:len(p.arena):len(p.arena)]
}

// visible decodes r and reports whether it belongs in the answer: not a
// duplicate, a valid event, from the source asked for. The message aliases
// r.Data, and is not enriched yet.
func (e *Engine) visible(r eventlog.Record, dups map[uint64]bool, q EventQuery) (ev mosaic.Event, ok bool) {
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
		if msg, ok := e.opts.Enrich(nil, &ev); ok {
			ev.Message = msg
		}
	}
	return ev, nil
}
