package activate

import (
	"context"

	"github.com/mosaic-cdp/mosaic/store"
)

// recording is one round's outcomes being written to the store while the
// worker claims and sends the next round. Until it is written, the store
// still shows its messages pending and its failed profiles unheld, so the
// next round leaves out those messages and every message of those
// profiles: nothing is sent twice by a live worker, and no profile's later
// message overtakes an earlier one that failed. A crash meanwhile sends
// the messages of up to two rounds again, with the same webhook-id.
type recording struct {
	done chan struct{}
	err  error
	seqs map[int64]bool  // messages whose outcome is being written
	held map[string]bool // profiles with a failure being written
}

// record starts writing updates in the background. The previous
// recording must be settled: holds are set and released in round order.
func (w *worker) record(ctx context.Context, updates []store.DeliveryUpdate) {
	r := &recording{done: make(chan struct{}), seqs: make(map[int64]bool, len(updates)), held: map[string]bool{}}
	for _, u := range updates {
		r.seqs[u.Seq] = true
		if u.Status == store.DeliveryPending {
			r.held[u.ProfileKey] = true
		}
	}
	w.rec = r
	go func() {
		defer close(r.done)
		r.err = w.finish(ctx, updates)
	}()
}

// settle waits until the recording in progress, if any, is written. On
// error its messages are still pending and will be sent again.
func (w *worker) settle() error {
	r := w.rec
	if r == nil {
		return nil
	}
	<-r.done
	w.rec = nil
	return r.err
}

// inFlight is how many messages are being recorded.
func (r *recording) inFlight() int {
	if r == nil {
		return 0
	}
	return len(r.seqs)
}

// fresh returns the rows that the recording in progress does not cover.
func (r *recording) fresh(rows []store.Delivery) []store.Delivery {
	if r == nil {
		return rows
	}
	out := make([]store.Delivery, 0, len(rows))
	for _, d := range rows {
		if !r.seqs[d.Seq] && !r.held[d.ProfileKey] {
			out = append(out, d)
		}
	}
	return out
}
