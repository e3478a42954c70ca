package activate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// worker drains one destination's outbox. One worker per destination runs
// at a time, so a claimed message is never sent twice concurrently.
type worker struct {
	svc    *Service
	dest   *Destination
	sender Sender
	wake   chan struct{}
	flush  chan struct{}
	stop   context.CancelFunc
	done   chan struct{}
	pace   *pacer // nil without a rate limit
	down   outage
	// draining is set when a destination comes back after an outage and
	// cleared once a round finds less than a full claim: the backlog is
	// sent at most Options.DrainRate messages a second, leaving CPU to
	// ingestion.
	draining bool
	drain    *pacer
	rec      *recording // the previous round's outcomes being written; nil if none
}

// outage is a worker's view of a destination that stopped answering: a
// whole round failed. While it lasts the worker sends one message at a
// time (a probe) instead of walking the backlog, spaced by a backoff that
// is capped low (Options.ProbeCap) so that a destination coming back after
// hours is found within seconds; the first probe that gets through
// releases every held profile at once.
type outage struct {
	fails int       // consecutive failed rounds and probes; 0: not down
	since time.Time // when the first round failed
	next  time.Time // when the next probe may go, on the service's clock
}

// pacer spaces requests evenly to keep a destination's rate limit: the
// receiver's limit is what matters, and it usually counts per second, so
// no burst is allowed beyond the spacing.
type pacer struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newPacer(perSecond int) *pacer {
	if perSecond <= 0 {
		return nil
	}
	return &pacer{every: time.Second / time.Duration(perSecond)}
}

// wait blocks until the next request, carrying n units, may go.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.every * time.Duration(n))
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	defer w.sender.Close()
	defer func() { _ = w.settle() }() // unrecorded messages are sent again after a restart
	for ctx.Err() == nil {
		wait, err := w.round(ctx)
		if err != nil && ctx.Err() == nil {
			w.svc.opts.Log.Error("delivery round failed; retrying", "destination", w.dest.ID, "err", err)
			wait = w.svc.opts.RetryBase
		}
		if wait > 0 {
			w.sleep(ctx, wait)
		}
	}
}

// sleep waits for d, a wake-up or a flush.
func (w *worker) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-w.wake:
	case <-w.flush:
		w.flushing()
	}
}

// flushing re-arms a flush so the next round sends without waiting.
func (w *worker) flushing() {
	select {
	case w.flush <- struct{}{}:
	default:
	}
}

// round claims due messages, sends them and records the outcome. It
// returns how long to wait before the next round.
func (w *worker) round(ctx context.Context) (time.Duration, error) {
	o := w.svc.opts
	if w.down.fails > 0 {
		return w.probe(ctx)
	}
	batch, wait := w.dest.Settings.Int("batch_size"), w.dest.Settings.Duration("batch_wait")
	limit := max(o.ClaimLimit, batch)
	claimed, err := w.svc.st.ClaimDue(ctx, w.dest.ID, o.Now(), limit+w.rec.inFlight())
	if err != nil {
		return 0, err
	}
	rows := w.rec.fresh(claimed)
	if len(rows) == 0 {
		if len(claimed) > 0 {
			return 0, w.settle() // all being recorded: claim again after
		}
		w.draining = false
		return o.Poll, w.settle()
	}
	if len(rows) < limit {
		w.draining = false // caught up: this round takes the rest
	}
	if len(rows) < batch && wait > 0 && !w.takeFlush() {
		if due := rows[0].CreatedAt.Add(wait).Sub(o.Now()); due > 0 {
			return min(due, o.Poll), w.settle()
		}
	}
	updates, ok, failed, err := w.gate(ctx, rows)
	if err != nil {
		return 0, errors.Join(err, w.settle())
	}
	var gone *SendError
	if batch > 1 {
		gone = w.sendBatches(ctx, ok, batch, &updates, &failed)
	} else {
		gone = w.sendLanes(ctx, ok, &updates, &failed)
	}
	if err := w.settle(); err != nil {
		return 0, err // this round's messages stay pending: sent again
	}
	allFailed := failed > 0 && failed == len(updates)
	if gone == nil && !allFailed && batch == 1 {
		// Record in the background while the next round claims and
		// sends: one message per request, the two overlap for a fifth
		// more throughput. Batches gain less than the next claim's
		// rows left out cost, so they record in line.
		w.record(ctx, updates)
		return 0, nil
	}
	if err := w.finish(ctx, updates); err != nil {
		return 0, err
	}
	if gone != nil {
		return 0, w.svc.disable(ctx, w.dest.ID, gone)
	}
	if allFailed {
		// Nothing got through: the receiver is likely down. Probe it
		// rather than walk the whole backlog.
		w.down = outage{since: o.Now()}
		w.failedProbe(0)
		o.Log.Warn("destination is not answering; probing it with one message at a time", "destination", w.dest.ID,
			"failed", failed)
		return w.untilProbe(), nil
	}
	return 0, nil
}

// probe sends one message to a destination that is down: the first due,
// else the one whose profile's hold ends first, so that a message the
// receiver rejects for itself does not stand for the destination probe
// after probe. If it gets through, every held profile is released.
func (w *worker) probe(ctx context.Context) (time.Duration, error) {
	o, st := w.svc.opts, w.svc.st
	if err := w.settle(); err != nil {
		return 0, err
	}
	if d := w.untilProbe(); d > 0 {
		w.takeFlush() // a flush cannot hurry a destination that is down
		return d, nil // woken by new messages; they wait for the probe
	}
	rows, err := st.ClaimDue(ctx, w.dest.ID, o.Now(), 1)
	if err == nil && len(rows) == 0 {
		var next time.Time
		if next, err = st.NextHold(ctx, w.dest.ID); err == nil && !next.IsZero() {
			rows, err = st.ClaimDue(ctx, w.dest.ID, next, 1)
		}
	}
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		w.down = outage{} // nothing left to send: nothing to learn
		return o.Poll, nil
	}
	updates, ok, _, err := w.gate(ctx, rows)
	if err != nil || len(ok) == 0 {
		return 0, errors.Join(err, w.finish(ctx, updates)) // blocked by consent: probe with the next one
	}
	sendErr := w.send(ctx, ok)
	if err := w.finish(ctx, append(updates, w.outcome(ok[0], sendErr))); err != nil {
		return 0, err
	}
	if sendErr != nil {
		se := asSendError(sendErr)
		if se.Gone {
			return 0, w.svc.disable(ctx, w.dest.ID, se)
		}
		w.failedProbe(se.RetryAfter)
		return w.untilProbe(), nil
	}
	n, err := st.ReleaseHolds(ctx, w.dest.ID)
	if err != nil {
		return 0, err // still down for the worker: the next probe releases them
	}
	o.Log.Info("destination answers again; sending its backlog", "destination", w.dest.ID,
		"down_for", o.Now().Sub(w.down.since).Round(time.Second), "probes", w.down.fails, "released", n)
	w.down, w.draining = outage{}, true
	w.drain = newPacer(o.DrainRate)
	return 0, nil
}

// failedProbe counts a failed round or probe and schedules the next probe:
// RetryBase doubling up to ProbeCap, with jitter, or later if the receiver
// asked (Retry-After).
func (w *worker) failedProbe(retryAfter time.Duration) {
	o := w.svc.opts
	d := o.RetryBase
	for i := 0; i < w.down.fails && d < o.ProbeCap; i++ {
		d *= 2
	}
	w.down.fails++
	w.down.next = o.Now().Add(max(jitter(min(d, o.ProbeCap)), retryAfter))
}

// untilProbe is how long until the next probe may go.
func (w *worker) untilProbe() time.Duration {
	d := w.down.next.Sub(w.svc.opts.Now())
	if d <= 0 {
		return 0
	}
	// Sleep in steps of at most Poll: the clock may be a test's, which
	// moves without the timer knowing.
	return min(d, w.svc.opts.Poll)
}

func (w *worker) takeFlush() bool {
	select {
	case <-w.flush:
		return true
	default:
		return false
	}
}

// finish records updates, retrying: once messages are sent, losing their
// outcome would send them again.
func (w *worker) finish(ctx context.Context, updates []store.DeliveryUpdate) error {
	var err error
	for i := range 5 {
		if err = w.svc.st.FinishDeliveries(context.WithoutCancel(ctx), updates); err == nil {
			return nil
		}
		time.Sleep(time.Duration(i+1) * 100 * time.Millisecond)
	}
	return err
}

// gate checks consent at send time: messages for profiles that did not
// grant the destination's purposes are blocked, counted per purpose.
func (w *worker) gate(ctx context.Context, rows []store.Delivery) (updates []store.DeliveryUpdate, ok []store.Delivery, failed int, err error) {
	cache := map[string][]string{}
	for _, r := range rows {
		missing, seen := cache[r.ProfileKey]
		if !seen {
			if missing, err = missingPurposes(ctx, w.svc.opts.Consent, r.ProfileKey, w.dest.Purposes); err != nil {
				return nil, nil, 0, fmt.Errorf("consent of %s: %w", r.ProfileKey, err)
			}
			cache[r.ProfileKey] = missing
		}
		if len(missing) > 0 {
			now := w.svc.opts.Now()
			updates = append(updates, store.DeliveryUpdate{Seq: r.Seq, DestinationID: r.DestinationID, ProfileKey: r.ProfileKey,
				Status: store.DeliveryBlocked, Attempts: r.Attempts, NextAt: r.NextAt, DoneAt: now, Blocked: missing,
				LastError: "consent not granted for " + strings.Join(missing, ", ")})
			continue
		}
		ok = append(ok, r)
	}
	return updates, ok, 0, nil
}

// sendBatches sends rows in batches, in order, stopping at the first
// failure so no later message of a profile overtakes an earlier one.
func (w *worker) sendBatches(ctx context.Context, rows []store.Delivery, size int, updates *[]store.DeliveryUpdate, failed *int) *SendError {
	for start := 0; start < len(rows); start += size {
		chunk := rows[start:min(start+size, len(rows))]
		err := w.send(ctx, chunk)
		for _, r := range chunk {
			*updates = append(*updates, w.outcome(r, err))
		}
		if err != nil {
			*failed += len(chunk)
			if se := asSendError(err); se.Gone {
				return se
			}
			return nil
		}
	}
	return nil
}

// sendLanes sends one message per request: profiles in parallel, each
// profile's messages one after the other, stopping at its first failure.
func (w *worker) sendLanes(ctx context.Context, rows []store.Delivery, updates *[]store.DeliveryUpdate, failed *int) *SendError {
	lanes := map[string][]store.Delivery{}
	var order []string
	for _, r := range rows {
		if _, ok := lanes[r.ProfileKey]; !ok {
			order = append(order, r.ProfileKey)
		}
		lanes[r.ProfileKey] = append(lanes[r.ProfileKey], r)
	}
	var mu sync.Mutex
	var gone *SendError
	sem := make(chan struct{}, w.svc.opts.Concurrency)
	var wg sync.WaitGroup
	for _, key := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, r := range lanes[key] {
				err := w.send(ctx, []store.Delivery{r})
				u := w.outcome(r, err)
				mu.Lock()
				*updates = append(*updates, u)
				if err != nil {
					*failed++
					if se := asSendError(err); se.Gone {
						gone = se
					}
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return gone
}

// send delivers rows with the destination's timeout.
func (w *worker) send(ctx context.Context, rows []store.Delivery) error {
	msgs := make([]Message, len(rows))
	for i, r := range rows {
		msgs[i] = Message{ID: r.ID, Type: r.Type, ProfileKey: r.ProfileKey, Payload: r.Payload, Time: r.CreatedAt}
	}
	if err := w.pace.wait(ctx, 1); err != nil {
		return err
	}
	if w.draining {
		if err := w.drain.wait(ctx, len(rows)); err != nil {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(ctx, w.dest.Settings.Duration("timeout"))
	defer cancel()
	return w.sender.Send(sctx, msgs)
}

// outcome is the update recording one attempt at r.
func (w *worker) outcome(r store.Delivery, err error) store.DeliveryUpdate {
	now := w.svc.opts.Now()
	u := store.DeliveryUpdate{Seq: r.Seq, DestinationID: r.DestinationID, ProfileKey: r.ProfileKey, Attempts: r.Attempts + 1, NextAt: r.NextAt}
	if err == nil {
		u.Status, u.DoneAt, u.LastCode, u.Latency = store.DeliveryDelivered, now, 200, now.Sub(r.CreatedAt)
		return u
	}
	se := asSendError(err)
	u.LastError, u.LastCode = truncate(se.Error(), 500), se.Code
	u.NextAt = now.Add(w.svc.backoff(u.Attempts, se.RetryAfter))
	switch {
	case se.Gone:
		u.Status = store.DeliveryPending // kept for when the destination is re-enabled
		u.NextAt = now
	case u.NextAt.Sub(r.Since) > w.svc.opts.MaxAge:
		u.Status, u.DoneAt = store.DeliveryDead, now
	default:
		u.Status = store.DeliveryPending
	}
	return u
}

// backoff is the wait before attempt n+1: exponential from RetryBase,
// capped at RetryCap, with jitter; a receiver's Retry-After wins if longer.
func (s *Service) backoff(n int, retryAfter time.Duration) time.Duration {
	d := s.opts.RetryBase
	for i := 1; i < n && d < s.opts.RetryCap; i++ {
		d *= 4
	}
	d = jitter(min(d, s.opts.RetryCap))
	return max(d, retryAfter)
}

// jitter returns a random duration in [d/2, d]: spread out, still growing.
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
