// Package cluster lets several Mosaic nodes that share one PostgreSQL form
// one installation. Every node accepts ingestion and API traffic; the
// stages that must run over the whole log in order (dedupe, identity
// resolution and the profile fold) run on one node at a time, the holder of
// a lease kept in the database.
//
// The holder renews the lease every third of the lease time. A node that
// cannot renew within the lease time stops its stages; the others try to
// take the lease at the same pace, so when the holder dies the stages run
// again elsewhere within about 4/3 of the lease time. Each acquisition gets
// a higher fencing token, and every checkpoint write of the stages checks
// it in its own transaction (see postgres.DB.Fenced): a node that was
// paused past its lease and wakes up can never write again, whatever it
// believes.
package cluster

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Coordinator is what a Node needs of the database; *postgres.DB has it.
// Times are the database server's.
type Coordinator interface {
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (token int64, ok bool, err error)
	RenewLease(ctx context.Context, name, holder string, token int64, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string, token int64) error
	ReportNode(ctx context.Context, id, url string, started time.Time, status any, forgetAfter time.Duration) error
}

// Options configure a Node.
type Options struct {
	// ID names the node, unique in the installation.
	ID string
	// URL is where the other nodes reach this node's HTTP server.
	URL string
	// Lease is the name of the lease of the sequential stages.
	Lease string
	// LeaseTime is how long a lease lasts without renewal: the longest a
	// dead holder keeps the stages from running elsewhere. Default 6s.
	LeaseTime time.Duration
	// Status returns what the node reports about itself with each
	// heartbeat (positions, role), shown by GET /api/v1/cluster.
	Status func() any
	Log    *slog.Logger
}

// Start starts the stages for a lease term with its fencing token and
// returns the function that stops them and waits until they stopped.
type Start func(token int64) (stop func())

// Node takes part in the cluster: it reports itself and runs the stages
// while it holds their lease.
type Node struct {
	opts    Options
	db      Coordinator
	start   Start
	started time.Time

	mu    sync.Mutex
	token int64 // of the running term; 0 when not holding the lease

	first  func()        // the stop function of a term Step started
	failed chan struct{} // see Fail
}

// New returns a node; Run makes it take part.
func New(db Coordinator, start Start, opts Options) *Node {
	if opts.LeaseTime <= 0 {
		opts.LeaseTime = 6 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Status == nil {
		opts.Status = func() any { return struct{}{} }
	}
	return &Node{opts: opts, db: db, start: start, started: time.Now(), failed: make(chan struct{}, 1)}
}

// Fail tells Run that the running term cannot go on (a stage stopped by
// itself): Run stops it and gives the lease up, to take it anew with a new
// term (and token) or let another node have it.
func (n *Node) Fail() {
	select {
	case n.failed <- struct{}{}:
	default:
	}
}

// Token returns the fencing token of the term this node runs, 0 if it does
// not hold the lease.
func (n *Node) Token() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.token
}

// Step makes one attempt to take the lease (when not holding it), so that
// a node starting up runs the stages at once if they are free. Call it
// before Run.
func (n *Node) Step(ctx context.Context) {
	n.heartbeat(ctx)
	n.first = n.acquire(ctx)
}

// Run heartbeats, renews or takes the lease every third of the lease time,
// and stops the stages when the lease is lost, until ctx ends. It then
// stops the stages and releases the lease, so another node takes over at
// once.
func (n *Node) Run(ctx context.Context) {
	tick := time.NewTicker(n.opts.LeaseTime / 3)
	defer tick.Stop()
	stop, lastRenew := n.first, time.Now()
	for {
		select {
		case <-ctx.Done():
			n.resign(stop)
			return
		case <-n.failed:
			n.resign(stop)
			stop = nil
			continue
		case <-tick.C:
		}
		n.heartbeat(ctx)
		if stop == nil {
			if stop = n.acquire(ctx); stop != nil {
				lastRenew = time.Now()
			}
			continue
		}
		sent := time.Now()
		rctx, cancel := context.WithTimeout(ctx, n.opts.LeaseTime/3)
		ok, err := n.db.RenewLease(rctx, n.opts.Lease, n.opts.ID, n.Token(), n.opts.LeaseTime)
		cancel()
		switch {
		case err == nil && ok:
			lastRenew = sent
		case err == nil:
			n.opts.Log.Warn("lost the lease of the sequential stages to another node; stopping them", "lease", n.opts.Lease)
			n.stopTerm(stop)
			stop = nil
		case time.Since(lastRenew) >= n.opts.LeaseTime:
			n.opts.Log.Warn("cannot renew the lease of the sequential stages within the lease time; stopping them", "lease", n.opts.Lease, "err", err)
			n.stopTerm(stop)
			stop = nil
		default:
			n.opts.Log.Warn("cannot renew the lease; retrying", "lease", n.opts.Lease, "err", err)
		}
	}
}

// acquire tries to take the lease and starts a term if it did, returning
// the term's stop function.
func (n *Node) acquire(ctx context.Context) func() {
	actx, cancel := context.WithTimeout(ctx, n.opts.LeaseTime/3)
	token, ok, err := n.db.AcquireLease(actx, n.opts.Lease, n.opts.ID, n.opts.LeaseTime)
	cancel()
	if err != nil {
		n.opts.Log.Warn("cannot try to take the lease of the sequential stages", "lease", n.opts.Lease, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	n.opts.Log.Info("took the lease of the sequential stages; running them", "lease", n.opts.Lease, "token", token)
	stop := n.start(token)
	n.mu.Lock()
	n.token = token
	n.mu.Unlock()
	return stop
}

// stopTerm stops the running term.
func (n *Node) stopTerm(stop func()) {
	stop()
	n.mu.Lock()
	n.token = 0
	n.mu.Unlock()
}

// resign stops the term, if any, and releases its lease.
func (n *Node) resign(stop func()) {
	token := n.Token()
	if stop == nil {
		return
	}
	n.stopTerm(stop)
	ctx, cancel := context.WithTimeout(context.Background(), n.opts.LeaseTime/3)
	defer cancel()
	if err := n.db.ReleaseLease(ctx, n.opts.Lease, n.opts.ID, token); err != nil {
		n.opts.Log.Warn("cannot release the lease; another node takes it when it expires", "err", err)
	}
}

// heartbeat reports the node; a node not seen for a day is forgotten.
func (n *Node) heartbeat(ctx context.Context) {
	hctx, cancel := context.WithTimeout(ctx, n.opts.LeaseTime/3)
	defer cancel()
	if err := n.db.ReportNode(hctx, n.opts.ID, n.opts.URL, n.started, n.opts.Status(), 24*time.Hour); err != nil {
		n.opts.Log.Warn("cannot report this node to the cluster", "err", err)
	}
}
