package eventlog

import (
	"context"
	"slices"
	"sync"
)

// request is one Append waiting for the writer.
type request struct {
	records [][]byte
	size    int  // framed bytes
	queued  bool // in queue.pending; guarded by queue.mu
	first   uint64
	err     error
	done    chan struct{} // receives once the writer has answered
}

var requests = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

func getRequest(records [][]byte, size int) *request {
	r := requests.Get().(*request)
	r.records, r.size, r.first, r.err = records, size, 0, nil
	return r
}

func putRequest(r *request) {
	r.records, r.err = nil, nil
	requests.Put(r)
}

// queue hands Appends to the writer. Producers block when maxBytes are
// pending, which pushes back on them when the disk is the bottleneck.
type queue struct {
	mu           sync.Mutex
	pending      []*request
	bytes        int
	maxBytes     int
	space        chan struct{} // closed when the writer takes the queue and someone waits
	spaceWaiting bool
	closing      bool

	wake       chan struct{} // capacity 1: "there is work"
	closed     chan struct{} // closed by close()
	writerDone chan struct{} // closed when the writer has drained and exited
}

func (q *queue) init(maxBytes int) {
	q.maxBytes = maxBytes
	q.space = make(chan struct{})
	q.wake = make(chan struct{}, 1)
	q.closed = make(chan struct{})
	q.writerDone = make(chan struct{})
}

// push enqueues r, waiting for space while ctx allows.
func (q *queue) push(ctx context.Context, r *request) error {
	for {
		q.mu.Lock()
		if q.closing {
			q.mu.Unlock()
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			q.mu.Unlock()
			return err
		}
		// An empty queue takes any request, so one larger than maxBytes
		// still gets through on its own.
		if q.bytes == 0 || q.bytes+r.size <= q.maxBytes {
			q.pending = append(q.pending, r)
			q.bytes += r.size
			r.queued = true
			q.mu.Unlock()
			select {
			case q.wake <- struct{}{}:
			default:
			}
			return nil
		}
		space := q.space
		q.spaceWaiting = true
		q.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		case <-q.closed:
			return ErrClosed
		}
	}
}

// withdraw removes r if the writer has not taken it yet, and reports whether
// it did. A request the writer took must be waited for: it is being written.
func (q *queue) withdraw(r *request) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !r.queued {
		return false
	}
	if i := slices.Index(q.pending, r); i >= 0 {
		q.pending = slices.Delete(q.pending, i, i+1)
	}
	q.bytes -= r.size
	r.queued = false
	return true
}

// take hands every pending request to the writer, swapping in spare (an
// emptied slice from the previous round) so that no allocation is needed.
func (q *queue) take(spare []*request) []*request {
	q.mu.Lock()
	defer q.mu.Unlock()
	batch := q.pending
	q.pending = spare[:0]
	for _, r := range batch {
		r.queued = false
	}
	q.bytes = 0
	if q.spaceWaiting {
		close(q.space)
		q.space = make(chan struct{})
		q.spaceWaiting = false
	}
	return batch
}

// close stops new pushes; it reports false if the queue was already closed.
func (q *queue) close() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing {
		return false
	}
	q.closing = true
	close(q.closed)
	return true
}
