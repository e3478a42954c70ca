package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/activate"
	"github.com/mosaic-cdp/mosaic/api"
	"github.com/mosaic-cdp/mosaic/cluster"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/predict/live"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/schema"
	"github.com/mosaic-cdp/mosaic/segment"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/postgres"
)

// stagesLease names the lease of the sequential stages (dedupe, identity,
// profiles) in the database.
const stagesLease = "stages"

// eventLog is the event log as the server uses it: the embedded segment log
// or, with --postgres, the log table in PostgreSQL.
type eventLog interface {
	engine.Log
	Append(ctx context.Context, records [][]byte) (uint64, error)
	Close() error
}

// term is one run of the sequential stages on this node: for the whole
// life of an embedded server, or for one lease term with PostgreSQL. The
// admin API is made per term because its reads come from the stages'
// memory.
type term struct {
	engine   *engine.Engine
	profiles *engine.Profiles
	segments *segment.Segments
	activate *activate.Service
	schema   *schema.Stage
	predict  *live.Service
	consent  *privacy.Service
	admin    *api.Server
	metrics  *termMetrics
	st       store.Store // the term's store: fenced by its lease with PostgreSQL
	stop     context.CancelFunc
	done     chan error // one result per stage

	closeOnce sync.Once
	closeErr  error
}

// openLog opens the event log: in PostgreSQL with --postgres, else in the
// data directory.
func (m *Main) openLog(ctx context.Context) (eventLog, error) {
	if pg, ok := m.Store.(*postgres.DB); ok {
		l, err := pg.OpenLog(ctx, postgres.LogOptions{Logger: m.Logger.With("part", "eventlog")})
		if err != nil {
			return nil, fmt.Errorf("open the event log in PostgreSQL: %w", err)
		}
		return l, nil
	}
	logOpts := eventlog.DefaultOptions()
	logOpts.Logger = m.Logger.With("part", "eventlog")
	logOpts.OnCommit = commitMetrics(m.registry)
	l, err := eventlog.Open(filepath.Join(m.Config.Data, "log"), logOpts)
	if err != nil {
		return nil, fmt.Errorf("open event log in %s: %w", m.Config.Data, err)
	}
	return l, nil
}

// startStages runs the sequential stages: at once on an embedded server;
// with PostgreSQL whenever this node holds their lease.
func (m *Main) startStages(ctx context.Context) error {
	pg, ok := m.Store.(*postgres.DB)
	if !ok {
		t, err := m.startTerm(m.Store)
		if err != nil {
			return err
		}
		m.term.Store(t)
		return nil
	}
	m.nodeID = m.Config.NodeID
	if m.nodeID == "" {
		host, _ := os.Hostname()
		suffix := make([]byte, 4)
		rand.Read(suffix)
		m.nodeID = host + "-" + hex.EncodeToString(suffix)
	}
	m.pg = pg
	m.node = cluster.New(pg, func(token int64) func() {
		return m.leaseTerm(pg.Fenced(stagesLease, token))
	}, cluster.Options{
		ID: m.nodeID, URL: m.advertiseURL(), Lease: stagesLease, LeaseTime: m.Config.LeaseTime,
		Status: m.nodeStatus, Log: m.Logger.With("part", "cluster"),
	})
	m.node.Step(ctx)
	nctx, cancel := context.WithCancel(context.Background())
	m.nodeStop, m.nodeDone = cancel, make(chan struct{})
	go func() { defer close(m.nodeDone); m.node.Run(nctx) }()
	return nil
}

// leaseTerm starts a term on the fenced store and returns its stop
// function. A term that cannot start, or whose stage ends by itself, gives
// the lease up so that this node or another starts afresh.
func (m *Main) leaseTerm(st *postgres.DB) func() {
	t, err := m.startTerm(st)
	if err != nil {
		m.Logger.Error("cannot start the sequential stages; giving up the lease", "err", err)
		m.node.Fail()
		return func() {}
	}
	m.term.Store(t)
	return func() {
		// The current term: an erasure may have replaced t with a new
		// term on the same lease.
		cur := m.term.Swap(nil)
		if cur == nil {
			cur = t
		}
		if err := cur.close(); err != nil && !errors.Is(err, postgres.ErrFenced) {
			m.Logger.Warn("stopping the sequential stages", "err", err)
		}
	}
}

// startTerm builds the stages and the admin API on st and runs them: the
// sequential stages, and what must run exactly once in an installation
// (audience timers, deliveries, event forwarding), since it follows them.
func (m *Main) startTerm(st store.Store) (*term, error) {
	t := &term{metrics: &termMetrics{reg: m.registry}, st: st}
	t.engine = engine.New(m.Log, st, engine.Options{
		Log: m.Logger.With("part", "engine"), Window: m.Config.DedupeWindow, Registerer: t.metrics,
		Enrich: m.enrich(),
	})
	// Audiences read predicted traits, and are evaluated again after each
	// fit; the two are made in that order, so the callback finds them.
	var segments *segment.Segments
	predictObs, predict, err := m.openPredictions(context.Background(), st, func() {
		if err := segments.PredictionsChanged(context.Background()); err != nil {
			m.Logger.Warn("audiences on predicted traits not evaluated again after a fit", "err", err)
		}
	})
	if err != nil {
		return nil, err
	}
	t.predict = predict
	// Audience changes go out as soon as they are saved: the profile
	// stage and the segment engine's own saves wake audience delivery,
	// made further down (before any stage runs).
	var audiences *activate.AudienceDelivery
	changesSaved := func() {
		if audiences != nil {
			audiences.Notify()
		}
	}
	consentObs, consentObservers, err := consentObserver(context.Background(), st, m.Config.ConsentDefault == "grant")
	if err != nil {
		return nil, err
	}
	// The condition consent(...) reads the privacy consent model, so its
	// observers come before the segment engine's in Observers.
	segments = segment.New(st, t.engine, segment.Options{Log: m.Logger.With("part", "segments"), Predicted: predict.Predicted, Consent: consentObs,
		ChangesSaved: changesSaved})
	t.segments = segments
	t.profiles, err = engine.NewProfiles(t.engine, st, engine.ProfileOptions{
		Log: m.Logger.With("part", "profiles"), Extract: identity.ExtractConfig{DefaultRegion: m.Config.DefaultRegion},
		Append:     m.Log.Append,
		Redact:     m.redact(),
		Observers:  append(consentObservers, t.segments, predictObs),
		Partitions: m.Config.ProfilePartitions,
		Saved:      func(uint64) { changesSaved() },
		Registerer: t.metrics,
	})
	if err != nil {
		return nil, err
	}
	t.segments.Attach(t.profiles)
	t.consent = privacy.NewService(consentObs, t.profiles, m.Log, nil)
	var forward *activate.Forwarder
	t.activate, forward, audiences = m.openActivation(st, t.engine, t.profiles, t.segments, t.consent)
	t.schema = schema.New(t.engine, st, schema.Options{Log: m.Logger.With("part", "schema")})
	opts := m.adminOpts
	opts.Profiles, opts.Identity, opts.EventReader = t.profiles, t.profiles, t.engine
	opts.Destinations, opts.Segments, opts.Schema, opts.Predictions = t.activate, t.segments, t.schema, t.predict
	opts.Consent = t.consent
	opts.Purposes = privacy.NewCatalog(st, consentObs, m.Config.ConsentDefault == "grant", nil)
	t.admin = api.New(st, t.engine, opts)
	m.Engine, m.Profiles, m.Activate, m.Segments, m.Schema, m.Predictions = t.engine, t.profiles, t.activate, t.segments, t.schema, t.predict
	m.Consent = t.consent
	ctx, stop := context.WithCancel(context.Background())
	t.stop = stop
	schedule := func(ctx context.Context) error { t.predict.Schedule(ctx); return nil }
	runs := []func(context.Context) error{t.engine.Run, t.profiles.Run, t.segments.Run, t.activate.Run, forward.Run, audiences.Run, t.schema.Run, schedule}
	t.done = make(chan error, len(runs))
	for _, run := range runs {
		go func() {
			err := run(ctx)
			if err != nil && ctx.Err() == nil && m.node != nil {
				m.Logger.Error("a sequential stage stopped; giving up the lease", "err", err)
				m.node.Fail()
			}
			t.done <- err
		}()
	}
	return t, nil
}

// close stops the term's stages with their final checkpoints. Calling it
// again returns the first call's outcome.
func (t *term) close() error {
	t.closeOnce.Do(func() {
		t.stop()
		t.predict.Close() // fits under way
		var errs []error
		for range cap(t.done) {
			if err := <-t.done; err != nil {
				errs = append(errs, err)
			}
		}
		t.metrics.unregisterAll()
		t.closeErr = errors.Join(errs...)
	})
	return t.closeErr
}

// stopStages stops the stages and, with PostgreSQL, releases their lease.
func (m *Main) stopStages() error {
	if m.nodeStop != nil {
		m.nodeStop()
		<-m.nodeDone
		return nil
	}
	if t := m.term.Swap(nil); t != nil {
		return t.close()
	}
	return nil
}

// advertiseURL is where other nodes reach this one.
func (m *Main) advertiseURL() string {
	if m.Config.AdvertiseURL != "" {
		return m.Config.AdvertiseURL
	}
	return m.URL()
}

// nodeStatus is what this node reports with each heartbeat.
func (m *Main) nodeStatus() any {
	s := map[string]any{"role": "follower", "log_last_seq": m.Log.LastSeq()}
	if t := m.term.Load(); t != nil {
		s["role"] = "leader"
		s["dedupe_processed"] = t.engine.Processed()
		s["profiles_processed"] = t.profiles.Processed()
		s["token"] = m.node.Token()
	}
	return s
}

// serveAdmin answers the admin API: from this node's stages while it runs
// them; otherwise the cluster route here and everything else proxied to
// the node that runs them, since profiles, identity and deduplicated
// events are read from the stages' memory.
func (m *Main) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if t := m.term.Load(); t != nil {
		t.admin.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/api/v1/cluster" || r.URL.Path == "/api/v1/openapi.json" {
		m.baseAdmin.ServeHTTP(w, r)
		return
	}
	leader, err := m.leaderURL(r.Context())
	if err == nil && (leader == nil || r.Header.Get(forwardedHeader) != "") {
		err = errors.New("no node runs the sequential stages at the moment")
	}
	if err != nil {
		w.Header().Set("Retry-After", "2")
		respond.Error(w, r, m.Logger, mosaic.Errorf(mosaic.EUNAVAILABLE,
			"This node cannot answer now: %v. Another node takes over within the lease time (%s); retry.", err, m.Config.LeaseTime))
		return
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(leader)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(forwardedHeader, m.nodeID)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Retry-After", "2")
			respond.Error(w, r, m.Logger, mosaic.Errorf(mosaic.EUNAVAILABLE,
				"The node that runs the sequential stages did not answer; retry. Another node takes over within the lease time (%s).", m.Config.LeaseTime))
		},
	}
	proxy.ServeHTTP(w, r)
}

// forwardedHeader marks a request one node proxied to another, so that
// two nodes that both believe the other leads answer 503, not loop.
const forwardedHeader = "X-Mosaic-Forwarded-By"

// leaderCache keeps the leader's URL for a second.
type leaderCache struct {
	mu  sync.Mutex
	at  time.Time
	url *url.URL
}

// leaderURL returns the URL of the node holding the stages' lease, nil if
// none holds an unexpired one.
func (m *Main) leaderURL(ctx context.Context) (*url.URL, error) {
	c := &m.leader
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < time.Second {
		return c.url, nil
	}
	leases, err := m.pg.Leases(ctx)
	if err != nil {
		return nil, err
	}
	nodes, now, err := m.pg.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	c.url, c.at = nil, time.Now()
	for _, l := range leases {
		if l.Name != stagesLease || !l.ExpiresAt.After(now) || l.Holder == m.nodeID {
			continue
		}
		for _, n := range nodes {
			if n.ID == l.Holder {
				if c.url, err = url.Parse(n.URL); err != nil {
					return nil, fmt.Errorf("node %s reported a bad URL %q: %w", n.ID, n.URL, err)
				}
			}
		}
	}
	return c.url, nil
}

// Cluster implements api.Cluster.
func (m *Main) Cluster(ctx context.Context) (any, error) {
	if m.pg == nil {
		return map[string]any{"mode": "embedded", "node": "local", "status": m.nodeStatus()}, nil
	}
	leases, err := m.pg.Leases(ctx)
	if err != nil {
		return nil, err
	}
	nodes, now, err := m.pg.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"mode": "postgres", "node": m.nodeID, "now": now, "lease_time": m.Config.LeaseTime.String(),
		"nodes": nodes, "leases": leases, "status": m.nodeStatus()}, nil
}

// termMetrics registers a term's metrics with the server's registry and
// unregisters them when the term ends, so that the next term can register
// its own under the same names.
type termMetrics struct {
	reg        prometheus.Registerer
	mu         sync.Mutex
	collectors []prometheus.Collector
}

func (r *termMetrics) Register(c prometheus.Collector) error {
	if err := r.reg.Register(c); err != nil {
		return err
	}
	r.mu.Lock()
	r.collectors = append(r.collectors, c)
	r.mu.Unlock()
	return nil
}

func (r *termMetrics) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

func (r *termMetrics) Unregister(c prometheus.Collector) bool { return r.reg.Unregister(c) }

// unregisterAll removes the term's metrics.
func (r *termMetrics) unregisterAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.collectors {
		r.reg.Unregister(c)
	}
	r.collectors = nil
}
