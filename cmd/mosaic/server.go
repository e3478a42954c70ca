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
	"github.com/mosaic-cdp/mosaic/collect"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/imports"
	"github.com/mosaic-cdp/mosaic/respond"
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
	Log      *eventlog.Log
	Engine   *engine.Engine
	Profiles *engine.Profiles
	Activate *activate.Service
	Segments *segment.Segments

	registry   *prometheus.Registry
	listener   net.Listener
	httpServer *http.Server
	engineStop context.CancelFunc
	engineDone chan error // one result per stage
	closeOnce  sync.Once
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
	logOpts := eventlog.DefaultOptions()
	logOpts.Logger = m.Logger.With("part", "eventlog")
	logOpts.OnCommit = commitMetrics(m.registry)
	if m.Log, err = eventlog.Open(filepath.Join(m.Config.Data, "log"), logOpts); err != nil {
		return fmt.Errorf("open event log in %s: %w", m.Config.Data, err)
	}
	tokenHash, err := adminTokenHash(ctx, m.Store, m.Config.AdminToken, m.stderr)
	if err != nil {
		return err
	}
	registerLogMetrics(m.registry, m.Log)
	m.Engine = engine.New(m.Log, m.Store, engine.Options{
		Log: m.Logger.With("part", "engine"), Window: m.Config.DedupeWindow, Registerer: m.registry,
	})
	m.Segments = segment.New(m.Store, m.Engine, segment.Options{Log: m.Logger.With("part", "segments")})
	m.Profiles, err = engine.NewProfiles(m.Engine, m.Store, engine.ProfileOptions{
		Log: m.Logger.With("part", "profiles"), Extract: identity.ExtractConfig{DefaultRegion: m.Config.DefaultRegion},
		Append:    m.Log.Append,
		Observers: []engine.ProfileObserver{m.Segments},
	})
	if err != nil {
		return err
	}
	var forward *activate.Forwarder
	var audiences *activate.AudienceDelivery
	m.Activate, forward, audiences = m.openActivation()
	m.Segments.Attach(m.Profiles)
	engineCtx, stop := context.WithCancel(context.Background())
	m.engineStop, m.engineDone = stop, make(chan error, 6)
	go func() { m.engineDone <- m.Engine.Run(engineCtx) }()
	go func() { m.engineDone <- m.Profiles.Run(engineCtx) }()
	go func() { m.engineDone <- m.Segments.Run(engineCtx) }()
	go func() { m.engineDone <- m.Activate.Run(engineCtx) }()
	go func() { m.engineDone <- forward.Run(engineCtx) }()
	go func() { m.engineDone <- audiences.Run(engineCtx) }()
	h, err := m.handler(tokenHash)
	if err != nil {
		return err
	}
	return m.serve(h)
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

func registerLogMetrics(reg prometheus.Registerer, log *eventlog.Log) {
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mosaic_eventlog_bytes", Help: "Size of the event log on disk.",
		}, func() float64 { return float64(log.Size()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mosaic_eventlog_last_seq", Help: "Sequence number of the newest durable event.",
		}, func() float64 { return float64(log.LastSeq()) }),
	)
}

func (m *Main) handler(tokenHash [32]byte) (http.Handler, error) {
	sources := collect.NewSourceCache(m.Store, collect.DefaultCacheTTL)
	copts := collect.DefaultOptions()
	copts.Log, copts.Registerer, copts.MaxInFlight = m.Logger.With("part", "collect"), m.registry, m.Config.MaxInFlight
	copts.IsNoSpace = func(err error) bool { return errors.Is(err, eventlog.ErrNoSpace) }
	violations := &clean.Violations{}
	cleaner := clean.New(clean.Options{DefaultRegion: m.Config.DefaultRegion, Settings: m.Store,
		Log: m.Logger.With("part", "clean"), Violations: violations})
	copts.Cleaner = cleaner
	tracking := collect.NewHandler(m.Log, sources, m.Store, copts)
	importer, err := imports.NewManager(tracking, m.Store, imports.Options{
		Dir: filepath.Join(m.Config.Data, "imports"), Log: m.Logger.With("part", "imports")})
	if err != nil {
		return nil, err
	}
	admin := api.New(m.Store, m.Engine, api.Options{
		Log: m.Logger.With("part", "api"), TokenHash: tokenHash, Profiles: m.Profiles, Identity: m.Profiles, EventReader: m.Engine, Destinations: m.Activate, Segments: m.Segments,
		SourceDeleted: func(src *mosaic.Source) { sources.Invalidate(src.WriteKey) },
		Imports:       importer, Quality: cleaner, Violations: violations,
	})
	browser := ajs.NewHandler(sources, ajs.Options{PublicURL: m.Config.PublicURL})

	mux := http.NewServeMux()
	mux.Handle("/v1/", tracking)
	mux.Handle("/v1/projects/", browser)
	mux.Handle("/analytics.js/", browser)
	mux.Handle("/analytics-next/", browser)
	mux.Handle("/api/v1/", admin)
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

func (m *Main) serve(h http.Handler) error {
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server running there? change --addr)", m.Config.Addr, err)
	}
	m.listener = ln
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
	return nil
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
		if m.engineStop != nil {
			m.engineStop()
			for range cap(m.engineDone) {
				if err := <-m.engineDone; err != nil {
					errs = append(errs, fmt.Errorf("stop engine: %w", err))
				}
			}
		}
		if m.Log != nil {
			if err := m.Log.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close event log: %w", err))
			}
		}
		if m.Store != nil {
			if err := m.Store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close database: %w", err))
			}
		}
	})
	return errors.Join(errs...)
}
