package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/predict/live"
	"github.com/mosaic-cdp/mosaic/store/postgres"
)

// replaySnapshotEvery keeps a replay from saving the identity graph before
// its final checkpoint. A snapshot only shortens a restart, and an
// interrupted replay starts over; each one stops the profile stage while the
// graph is written (at a million people, 8 of a replay's 120 seconds went to
// snapshots nobody would read). A server started after an interrupted replay
// still comes up right: it resolves the log again from the last snapshot.
const replaySnapshotEvery = 1000 * time.Hour

// ReplayCmd rebuilds everything derived from the event log.
type ReplayCmd struct {
	Data              string        `help:"The server's data directory." default:"./mosaic-data" placeholder:"DIR"`
	Postgres          string        `help:"PostgreSQL URL, if the server keeps its database there." placeholder:"URL" env:"MOSAIC_POSTGRES_URL"`
	DefaultRegion     string        `help:"Region of phone numbers without a country code (as for serve)."`
	ProfilePartitions int           `help:"Workers that fold events into profiles in parallel (as for serve). 0: one more than the CPUs." default:"0"`
	DedupeWindow      time.Duration `help:"How long a messageId is remembered (as for serve)." default:"168h"`

	PredictOrderEvent      string `help:"Track event that records a purchase (as for serve)." default:"Order Completed"`
	PredictRevenueProperty string `help:"Property of the order event that holds its value (as for serve)." default:"revenue"`
	Purposes               string `help:"The consent purposes, as for serve: empty keeps the stored list (what serve and the purposes API set); a changed list replaces it. Consent signals for other purposes are dropped." placeholder:"LIST"`
}

// Run deletes the derived state, replays the whole log through the engine
// and reports how long it took. The server must be stopped: the log is
// locked by the process that has it open.
func (c *ReplayCmd) Run(g *Globals) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := openStore(ctx, ServeCmd{Data: c.Data, Postgres: c.Postgres})
	if err != nil {
		return err
	}
	defer st.Close()
	var lg eventLog
	if pg, ok := st.(*postgres.DB); ok {
		lg, err = pg.OpenLog(ctx, postgres.LogOptions{})
	} else {
		lg, err = eventlog.Open(filepath.Join(c.Data, "log"), eventlog.DefaultOptions())
	}
	if err != nil {
		return fmt.Errorf("open the event log (stop the servers first; replay needs the log to itself): %w", err)
	}
	defer lg.Close()
	if err := st.ResetDerived(ctx); err != nil {
		return fmt.Errorf("delete derived state: %w", err)
	}
	// Profiles keep the browser, OS and device of the events' user agents
	// (derived traits), so the replay enriches events as the server does.
	agents, err := clean.NewUserAgents(0)
	if err != nil {
		return err
	}
	enricher := clean.New(clean.Options{Settings: st, UserAgents: agents})
	e := engine.New(lg, st, engine.Options{Window: c.DedupeWindow, Enrich: enricher.AppendEnriched})
	// The observers rebuild each profile's orders and engagement (for the
	// predictions) and its consent.
	obs := live.NewObserver(st, live.ObserverOptions{OrderEvent: c.PredictOrderEvent, RevenueProperty: c.PredictRevenueProperty})
	if err := seedPurposes(ctx, st, c.Purposes); err != nil {
		return err
	}
	_, consent, err := consentObserver(ctx, st, false) // defaults apply when reading, not to what is kept
	if err != nil {
		return err
	}
	p, err := engine.NewProfiles(e, st, engine.ProfileOptions{Extract: identity.ExtractConfig{DefaultRegion: c.DefaultRegion},
		Partitions: c.ProfilePartitions, Observers: append([]engine.ProfileObserver{obs}, consent...),
		SnapshotEvery: replaySnapshotEvery})
	if err != nil {
		return err
	}
	return replay(ctx, g, lg.LastSeq(), e, p)
}

func replay(ctx context.Context, g *Globals, last uint64, e *engine.Engine, p *engine.Profiles) error {
	start := time.Now()
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- e.Run(runCtx) }()
	go func() { done <- p.Run(runCtx) }()
	fmt.Fprintf(g.Stdout, "Replaying %d events...\n", last)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	reached := waitCh(runCtx, p, last)
wait:
	for {
		select {
		case <-tick.C:
			fmt.Fprintf(g.Stdout, "  %d of %d events (%.0f/s)\n", p.Processed(), last, float64(p.Processed())/time.Since(start).Seconds())
		case <-ctx.Done():
			break wait
		case <-reached:
			break wait
		}
	}
	cancel()
	var errs []error
	for range 2 {
		if err := <-done; err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("replay: %v", errs)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("replay interrupted at event %d of %d; run it again to start over", p.Processed(), last)
	}
	took := time.Since(start)
	fmt.Fprintf(g.Stdout, "Replayed %d events in %s (%.0f events/s).\n", last, took.Round(time.Millisecond), float64(last)/took.Seconds())
	return nil
}

// waitCh is closed when the profiles reach seq.
func waitCh(ctx context.Context, p *engine.Profiles, seq uint64) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		_ = p.WaitProcessed(ctx, seq)
		close(ch)
	}()
	return ch
}
