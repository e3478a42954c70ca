package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/activate"
	"github.com/mosaic-cdp/mosaic/ajs"
	"github.com/mosaic-cdp/mosaic/api"
	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/cluster"
	"github.com/mosaic-cdp/mosaic/collect"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/imports"
	"github.com/mosaic-cdp/mosaic/predict/live"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/schema"
	"github.com/mosaic-cdp/mosaic/segment"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/postgres"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// Main is a running Mosaic server: it wires the parts together. End-to-end
// tests boot it on port 0 with a temporary data directory.
type Main struct {
	Config ServeCmd
	Logger *slog.Logger
	stderr io.Writer

	Store    store.Store
	Log      eventLog
	Engine   *engine.Engine    // of the latest term of the stages
	Profiles *engine.Profiles  // of the latest term of the stages
	Activate *activate.Service // of the latest term of the stages
	Segments *segment.Segments // of the latest term of the stages
	Schema   *schema.Stage     // of the latest term of the stages
	// Predictions fits the prediction models and keeps predicted traits;
	// of the latest term of the stages.
	Predictions *live.Service

	violations *clean.Violations
	cleaner    *clean.Cleaner     // standardises events on the way in, enriches them on the way out of the log
	geo        *clean.GeoDB       // --geoip-db; nil without
	agents     *clean.UserAgents  // the user-agent parser, shared by every term
	bgStop     context.CancelFunc // node-level background work (violation counts)
	bgDone     chan error
	Consent    *privacy.Service // of the latest term of the stages
	Audit      *privacy.Auditor
	Requests   *privacy.Requests

	erasing     sync.Mutex // one erasure at a time
	privacyStop context.CancelFunc
	privacyDone chan struct{}

	registry   *prometheus.Registry
	listener   net.Listener
	httpServer *http.Server
	closeOnce  sync.Once

	// The sequential stages run in terms (see stages.go); with PostgreSQL
	// a term lasts while this node holds their lease.
	term      atomic.Pointer[term]
	adminOpts api.Options
	baseAdmin *api.Server // the admin routes that need no stages
	pg        *postgres.DB
	node      *cluster.Node
	nodeID    string
	nodeStop  context.CancelFunc
	nodeDone  chan struct{}
	leader    leaderCache
}

// NewMain returns a Main for the configuration; Open starts it.
func NewMain(cfg ServeCmd, stderr io.Writer) *Main {
	return &Main{Config: cfg, stderr: stderr, Logger: newLogger(cfg, stderr)}
}

func newLogger(cfg ServeCmd, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Open opens storage, recovers the log, starts the engine and starts serving
// HTTP. On error everything opened so far is closed again.
func (m *Main) Open(ctx context.Context) (err error) {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			m.Close(context.Background())
		}
	}()
	if err := os.MkdirAll(m.Config.Data, 0o750); err != nil {
		return fmt.Errorf("create data directory %s: %w", m.Config.Data, err)
	}
	if m.Store, err = openStore(ctx, m.Config); err != nil {
		return err
	}
	m.registry = prometheus.NewRegistry()
	if m.Log, err = m.openLog(ctx); err != nil {
		return err
	}
	tokenHash, err := adminTokenHash(ctx, m.Store, m.Config.AdminToken, m.stderr)
	if err != nil {
		return err
	}
	registerLogMetrics(m.registry, m.Log)
	m.violations = &clean.Violations{Store: m.Store, Log: m.Logger.With("part", "clean")}
	bgCtx, bgStop := context.WithCancel(context.Background())
	m.bgStop, m.bgDone = bgStop, make(chan error, 1)
	go func() { m.bgDone <- m.violations.Run(bgCtx, 2*time.Second) }()
	if err := m.startPrivacy(ctx); err != nil {
		return err
	}
	h, err := m.handler(tokenHash)
	if err != nil {
		return err
	}
	if err := m.listen(); err != nil {
		return err
	}
	if err := m.startStages(ctx); err != nil {
		return err
	}
	m.serve(h)
	return nil
}

// openStore opens PostgreSQL if configured, else the embedded SQLite
// database in the data directory.
func openStore(ctx context.Context, cfg ServeCmd) (store.Store, error) {
	if cfg.Postgres != "" {
		db, err := postgres.Open(ctx, cfg.Postgres, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL (--postgres): %w", err)
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.Data, "mosaic.db"), sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open database in %s: %w", cfg.Data, err)
	}
	return db, nil
}

// commitMetrics returns the event log's commit hook, which records how long
// each group commit (one write and one fdatasync) took and how much it held.
func commitMetrics(reg prometheus.Registerer) func(records, bytes int, took time.Duration) {
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "mosaic_eventlog_commit_seconds", Help: "Duration of group commits (write + fdatasync).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	size := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "mosaic_eventlog_commit_records", Help: "Records per group commit.",
		Buckets: prometheus.ExponentialBuckets(1, 4, 10),
	})
	written := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mosaic_eventlog_written_bytes_total", Help: "Bytes written to the event log.",
	})
	reg.MustRegister(latency, size, written)
	return func(records, bytes int, took time.Duration) {
		latency.Observe(took.Seconds())
		size.Observe(float64(records))
		written.Add(float64(bytes))
	}
}

func registerLogMetrics(reg prometheus.Registerer, log eventLog) {
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mosaic_eventlog_last_seq", Help: "Sequence number of the newest durable event.",
		}, func() float64 { return float64(log.LastSeq()) }),
	)
	if sized, ok := log.(interface{ Size() int64 }); ok {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mosaic_eventlog_bytes", Help: "Size of the event log on disk.",
		}, func() float64 { return float64(sized.Size()) }))
	}
}

func (m *Main) handler(tokenHash [32]byte) (http.Handler, error) {
	sources := collect.NewSourceCache(m.Store, collect.DefaultCacheTTL)
	copts := collect.DefaultOptions()
	copts.Log, copts.Registerer, copts.MaxInFlight = m.Logger.With("part", "collect"), m.registry, m.Config.MaxInFlight
	copts.IsNoSpace = func(err error) bool { return errors.Is(err, eventlog.ErrNoSpace) }
	if err := m.openEnrichment(); err != nil {
		return nil, err
	}
	cleaner := clean.New(clean.Options{DefaultRegion: m.Config.DefaultRegion, Settings: m.Store,
		Log: m.Logger.With("part", "clean"), Violations: m.violations, Geo: m.geo, UserAgents: m.agents})
	copts.Cleaner = cleaner
	m.cleaner = cleaner
	copts.RecordIP = m.Config.RecordIP
	copts.TrustedProxies, _ = parseCIDRs(m.Config.TrustedProxies) // checked by Validate
	copts.Suppressed = m.Requests.Suppressed
	tracking := collect.NewHandler(m.Log, sources, m.Store, copts)
	importer, err := imports.NewManager(tracking, m.Store, imports.Options{
		Dir: filepath.Join(m.Config.Data, "imports"), Log: m.Logger.With("part", "imports")})
	if err != nil {
		return nil, err
	}
	m.adminOpts = api.Options{
		Log: m.Logger.With("part", "api"), TokenHash: tokenHash,
		Audit: m.Audit, Tokens: m.Store, Users: m.Store, Requests: m.Requests,
		SourceDeleted: func(src *mosaic.Source) { sources.Invalidate(src.WriteKey) },
		Imports:       importer, Quality: cleaner, Violations: m.violations, Cluster: m,
		Latency: api.NewLatency(m.registry),
	}
	admin := api.New(m.Store, nil, m.adminOpts)
	m.baseAdmin = admin
	browser := ajs.NewHandler(sources, ajs.Options{PublicURL: m.Config.PublicURL})

	mux := http.NewServeMux()
	mux.Handle("/v1/", tracking)
	mux.Handle("/v1/projects/", browser)
	mux.Handle("/analytics.js/", browser)
	mux.Handle("/analytics-next/", browser)
	mux.HandleFunc("/api/v1/", m.serveAdmin)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		respond.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", m.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.Handle("/debug/pprof/", admin.Protect(http.HandlerFunc(pprof.Index)))
	mux.Handle("/debug/pprof/profile", admin.Protect(http.HandlerFunc(pprof.Profile)))
	mux.Handle("/debug/pprof/trace", admin.Protect(http.HandlerFunc(pprof.Trace)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		respond.Error(w, r, m.Logger, mosaic.Errorf(mosaic.ENOTFOUND,
			"Nothing at %s. The Tracking API is under /v1/, the admin API under /api/v1/.", r.URL.Path))
	})
	return mux, nil
}

// minFreeBytes is the free disk space below which the server reports not ready.
const minFreeBytes = 64 << 20

// ready answers whether the server can accept writes: the database answers
// and the data directory's disk has room.
func (m *Main) ready(w http.ResponseWriter, r *http.Request) {
	if err := m.Store.Ping(r.Context()); err != nil {
		m.Logger.Warn("not ready: database", "err", err)
		respond.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(m.Config.Data, &fs); err == nil && fs.Bavail*uint64(fs.Bsize) < minFreeBytes {
		w.Header().Set("Retry-After", "30")
		respond.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "disk almost full"})
		return
	}
	respond.JSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// listen opens the listener, before the stages start, so that a node
// knows the URL it reports to the cluster.
func (m *Main) listen() error {
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server running there? change --addr)", m.Config.Addr, err)
	}
	m.listener = ln
	return nil
}

func (m *Main) serve(h http.Handler) {
	ln := m.listener
	m.httpServer = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	}()
}

// URL is the base URL the server listens on.
func (m *Main) URL() string {
	return "http://" + m.listener.Addr().String()
}

// Close stops accepting, waits for in-flight requests until ctx ends, stops
// the engine with a final checkpoint, then closes the log and the database.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	m.closeOnce.Do(func() {
		if m.httpServer != nil {
			if err := m.httpServer.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("finish in-flight requests: %w", err))
			}
		}
		if m.privacyStop != nil {
			m.privacyStop()
			<-m.privacyDone // an erasure in progress finishes first
		}
		if err := m.stopStages(); err != nil {
			errs = append(errs, fmt.Errorf("stop engine: %w", err))
		}
		if m.bgStop != nil {
			m.bgStop()
			if err := <-m.bgDone; err != nil {
				errs = append(errs, fmt.Errorf("save violation counts: %w", err))
			}
		}
		if m.Audit != nil {
			m.Audit.Flush() // reads recorded without waiting
		}
		if m.Log != nil {
			if err := m.Log.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close event log: %w", err))
			}
		}
		if m.geo != nil {
			m.geo.Close()
		}
		if m.Store != nil {
			if err := m.Store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close database: %w", err))
			}
		}
	})
	return errors.Join(errs...)
}
