package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/store"
)

// stages is one generation of the engine's stages. An erasure stops the
// generation, redacts the log and starts a new one that rebuilds all
// derived state from the log; readers reach whichever is current through
// Main's methods.
type stages struct {
	engine   *engine.Engine
	profiles *engine.Profiles
	consent  *privacy.Service
	metrics  *prometheus.Registry
	stop     context.CancelFunc
	done     chan error // one result per stage
}

// startStages makes and starts a generation over the store's saved state.
func (m *Main) startStages() (*stages, error) {
	g := &stages{metrics: prometheus.NewRegistry(), done: make(chan error, 2)}
	g.engine = engine.New(m.Log, m.Store, engine.Options{
		Log: m.Logger.With("part", "engine"), Window: m.Config.DedupeWindow, Registerer: g.metrics,
	})
	obs, observers, err := consentObserver(m.Store)
	if err != nil {
		return nil, err
	}
	g.profiles, err = engine.NewProfiles(g.engine, m.Store, engine.ProfileOptions{
		Log: m.Logger.With("part", "profiles"), Extract: identity.ExtractConfig{DefaultRegion: m.Config.DefaultRegion},
		Observers: observers,
	})
	if err != nil {
		return nil, err
	}
	g.consent = privacy.NewService(obs, g.profiles, m.Log, nil)
	ctx, stop := context.WithCancel(context.Background())
	g.stop = stop
	go func() { g.done <- g.engine.Run(ctx) }()
	go func() { g.done <- g.profiles.Run(ctx) }()
	return g, nil
}

// stopStages stops a generation; its final checkpoints are saved.
func (g *stages) stopStages() error {
	g.stop()
	var errs []error
	for range cap(g.done) {
		if err := <-g.done; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// use makes g the current generation.
func (m *Main) use(g *stages) {
	m.live.Lock()
	m.gen, m.Engine, m.Profiles, m.Consent = g, g.engine, g.profiles, g.consent
	m.live.Unlock()
}

func (m *Main) current() *stages {
	m.live.RLock()
	defer m.live.RUnlock()
	return m.gen
}

// stageMetrics gathers the current generation's metrics.
func (m *Main) stageMetrics() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return m.current().metrics.Gather() })
}

// Settle implements privacy.Env: it waits until the stages have processed
// every durable event and saved their state, so reads of the store (trait
// history, timelines) are complete.
func (m *Main) Settle(ctx context.Context) error {
	g := m.current()
	if err := g.profiles.WaitProcessed(ctx, m.Log.LastSeq()); err != nil {
		return err
	}
	target := g.profiles.Processed()
	for {
		seq, _, _, err := m.Store.ProfileCheckpoint(ctx)
		if err != nil || seq >= target {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// EraseEvents implements privacy.Env: it stops the stages (saving their
// final state), asks find for the records to erase, overwrites them in the
// log with tombstones of the same size, deletes all derived state, starts
// new stages that rebuild it from the log, waits until they reach the end
// of the log, and compacts the store's files. Erasures run one at a time.
func (m *Main) EraseEvents(ctx context.Context, find func(context.Context) ([]uint64, error)) (int, error) {
	m.erasing.Lock()
	defer m.erasing.Unlock()
	if err := m.current().stopStages(); err != nil {
		m.Logger.Warn("erasure: stopping the stages", "err", err)
	}
	seqs, err := find(ctx)
	if err != nil {
		return 0, m.restart(err)
	}
	if _, err := m.Log.Redact(seqs, tombstone); err != nil {
		return 0, m.restart(fmt.Errorf("redact the event log: %w", err))
	}
	if err := m.Store.ResetDerived(ctx); err != nil {
		return 0, m.restart(fmt.Errorf("reset derived state: %w", err))
	}
	g, err := m.startStages()
	if err != nil {
		return 0, fmt.Errorf("restart the engine: %w", err)
	}
	m.use(g)
	if err := m.Settle(ctx); err != nil {
		return 0, err
	}
	return len(seqs), m.Store.Compact(ctx)
}

// restart starts a generation again after a failed erasure, so the server
// keeps working; err is returned.
func (m *Main) restart(err error) error {
	g, serr := m.startStages()
	if serr != nil {
		return errors.Join(err, serr)
	}
	m.use(g)
	return err
}

// tombstone replaces an erased record: an event of type "erased" with no
// identifier and no content, padded to the record's size with spaces
// after its JSON.
func tombstone(seq uint64, old []byte) []byte {
	for _, ev := range []mosaic.Event{
		{SourceID: "mosaic:erased", MessageID: "erased", Type: "erased"},
		{}, // for records too small for the names
	} {
		ev.Message = []byte(`{}`)
		b, _ := ev.MarshalBinary()
		if len(b) <= len(old) {
			for len(b) < len(old) {
				b = append(b, ' ')
			}
			return b
		}
	}
	return make([]byte, len(old)) // never: every event record is larger
}

// The readers privacy needs, on the current generation.

// Profile implements privacy.Env.
func (m *Main) Profile(ref string) (*engine.ProfileView, error) {
	return m.current().profiles.Profile(ref)
}

// Identity implements privacy.Env.
func (m *Main) Identity(ref string) (*engine.IdentityView, error) {
	return m.current().profiles.Identity(ref)
}

// Timeline implements privacy.Env.
func (m *Main) Timeline(ctx context.Context, ref string, before time.Time, beforeSeq uint64, limit int) ([]store.TimelineRow, error) {
	return m.current().profiles.Timeline(ctx, ref, before, beforeSeq, limit)
}

// TraitHistory implements privacy.Env.
func (m *Main) TraitHistory(ctx context.Context, profileID uint64, groupID, name string, limit int) ([]store.TraitRow, error) {
	return m.Store.TraitHistory(ctx, profileID, groupID, name, limit)
}

// Event implements privacy.Env.
func (m *Main) Event(seq uint64) (mosaic.Event, error) { return m.current().engine.Event(seq) }

// ConsentView implements privacy.Env.
func (m *Main) ConsentView(ctx context.Context, ref string, at time.Time) (*privacy.View, error) {
	return m.current().consent.View(ctx, ref, at)
}

// Granted is the consent gate on the current generation (see
// privacy.Service.Granted).
func (m *Main) Granted(ctx context.Context, profileID uint64, purposes []string) (bool, error) {
	return m.current().consent.Granted(ctx, profileID, purposes)
}

// newRequests returns the data subject request service.
func (m *Main) newRequests(ctx context.Context, secret []byte) (*privacy.Requests, error) {
	r, err := privacy.NewRequests(m.Store, m, secret, privacy.RequestOptions{
		Log: m.Logger.With("part", "privacy"), Extract: identity.ExtractConfig{DefaultRegion: m.Config.DefaultRegion},
		ExportDir: filepath.Join(m.Config.Data, "exports"),
	})
	if err != nil {
		return nil, err
	}
	return r, r.LoadSuppressions(ctx)
}

// liveProfiles, liveEvents and liveConsent serve the API from the current
// generation.
type (
	liveProfiles struct{ m *Main }
	liveEvents   struct{ m *Main }
	liveConsent  struct{ m *Main }
)

func (l liveProfiles) Profile(ref string) (*engine.ProfileView, error) {
	return l.m.current().profiles.Profile(ref)
}
func (l liveProfiles) Identity(ref string) (*engine.IdentityView, error) {
	return l.m.current().profiles.Identity(ref)
}
func (l liveProfiles) Timeline(ctx context.Context, ref string, before time.Time, beforeSeq uint64, limit int) ([]store.TimelineRow, error) {
	return l.m.current().profiles.Timeline(ctx, ref, before, beforeSeq, limit)
}
func (l liveProfiles) Search(q, after string, limit int) ([]*engine.ProfileView, string, error) {
	return l.m.current().profiles.Search(q, after, limit)
}
func (l liveProfiles) Rules() identity.Rules { return l.m.current().profiles.Rules() }

func (l liveEvents) Events(ctx context.Context, q engine.EventQuery) ([]mosaic.Event, uint64, error) {
	return l.m.current().engine.Events(ctx, q)
}
func (l liveEvents) Stats(ctx context.Context, sourceID string) (*mosaic.SourceStats, error) {
	return l.m.current().engine.Stats(ctx, sourceID)
}
func (l liveEvents) WaitProcessed(ctx context.Context, seq uint64) error {
	return l.m.current().engine.WaitProcessed(ctx, seq)
}
func (l liveEvents) Processed() uint64                      { return l.m.current().engine.Processed() }
func (l liveEvents) Event(seq uint64) (mosaic.Event, error) { return l.m.current().engine.Event(seq) }

func (l liveConsent) View(ctx context.Context, ref string, at time.Time) (*privacy.View, error) {
	return l.m.current().consent.View(ctx, ref, at)
}
func (l liveConsent) Set(ctx context.Context, ref string, req privacy.SetRequest, actor string) (*privacy.View, error) {
	return l.m.current().consent.Set(ctx, ref, req, actor)
}
func (l liveConsent) Config() *privacy.Config { return l.m.current().consent.Config() }

// Expired implements privacy.Env. Records are appended in time order, so
// the scan stops at the first record received after the latest cutoff;
// erased records (tombstones) have no source and are skipped.
func (m *Main) Expired(ctx context.Context, cutoffs map[string]time.Time) ([]uint64, error) {
	var latest time.Time
	for _, c := range cutoffs {
		if c.After(latest) {
			latest = c
		}
	}
	var seqs []uint64
	errDone := errors.New("done")
	err := m.Log.Scan(0, func(rec eventlog.Record) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ev mosaic.Event
		if ev.UnmarshalBinary(rec.Data) != nil {
			return nil
		}
		if !ev.ReceivedAt.Before(latest) {
			return errDone
		}
		if c, ok := cutoffs[ev.SourceID]; ok && ev.ReceivedAt.Before(c) {
			seqs = append(seqs, rec.Seq)
		}
		return nil
	})
	if errors.Is(err, errDone) {
		err = nil
	}
	return seqs, err
}
