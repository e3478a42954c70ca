package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Runner sends load to one source of one server for a bounded time.
type Runner struct {
	cfg      *RunConfig
	target   string // base URL the paths are appended to
	client   *http.Client
	auth     string // Authorization header value
	catalog  *Catalog
	recorder *Recorder      // nil without -record
	journeys *journeySource // nil without -journeys
	stats    stats
	pace     *pacer // nil when unlimited
	deadline time.Time
}

// NewRunner prepares a run against the source with writeKey. rec may be
// nil; otherwise every acknowledged messageId is given to it.
func NewRunner(cfg *RunConfig, writeKey string, rec *Recorder) *Runner {
	var js *journeySource
	if cfg.Journeys > 0 {
		js = newJourneySource(cfg)
	}
	return &Runner{
		journeys: js,
		cfg:      cfg,
		target:   cfg.base.String(),
		client:   newClient(cfg.Concurrency, cfg.Timeout),
		auth:     "Basic " + base64.StdEncoding.EncodeToString([]byte(writeKey+":")),
		catalog:  NewCatalog(seedUint64(), 1024),
		recorder: rec,
	}
}

// Run sends until the configured duration is over or ctx ends, waits for
// the requests in flight, and returns the report. Progress lines go to
// progress every cfg.Progress.
func (r *Runner) Run(ctx context.Context, progress io.Writer) *Report {
	start := time.Now()
	r.deadline = start.Add(r.cfg.Duration)
	if r.cfg.Rate > 0 {
		r.pace = &pacer{start: start, interval: time.Duration(float64(time.Second) / r.cfg.Rate)}
	}
	stopProgress := r.startProgress(progress, start)
	hists := make([]*Histogram, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range hists {
		w := r.newWorker()
		hists[i] = &w.hist
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	r.client.CloseIdleConnections()
	var all Histogram
	for _, h := range hists {
		all.Merge(h)
	}
	return r.report(elapsed, &all)
}

// sending reports whether workers should start another request.
func (r *Runner) sending(ctx context.Context) bool {
	return ctx.Err() == nil && time.Now().Before(r.deadline)
}

// startProgress prints a line every cfg.Progress until the returned
// function is called.
func (r *Runner) startProgress(w io.Writer, start time.Time) (stop func()) {
	if r.cfg.Progress <= 0 || w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.cfg.Progress)
		defer t.Stop()
		var last progressSnapshot
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				last = printProgress(w, &r.stats, now.Sub(start), last)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// pacer spaces requests evenly over all workers for -rate: each request
// takes the next slot of a global schedule and waits for it.
type pacer struct {
	start    time.Time
	interval time.Duration
	slot     atomic.Int64
}

// wait sleeps until the next free slot and reports false if that slot is
// past deadline or ctx ended first.
func (p *pacer) wait(ctx context.Context, deadline time.Time) bool {
	at := p.start.Add(time.Duration(p.slot.Add(1)-1) * p.interval)
	if !at.Before(deadline) {
		return false
	}
	return sleepUntil(ctx, at)
}

// sleepUntil sleeps until t and reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// seedUint64 returns a random seed from the system's random source.
func seedUint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}
