package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/predict/btyd"
	"github.com/mosaic-cdp/mosaic/predict/live"
	"github.com/mosaic-cdp/mosaic/store"
)

// PredictCmd groups the prediction commands.
type PredictCmd struct {
	Fit    PredictFitCmd    `cmd:"" help:"Fit the prediction models now and write predicted traits to every profile."`
	Models PredictModelsCmd `cmd:"" help:"Show the latest fit's models: parameters, log-likelihood and quality figures."`
}

// PredictFitCmd starts a fit on the server and follows its progress.
type PredictFitCmd struct {
	ClientFlags
	AsOf string `help:"Fit as of this date (1997-09-30) or time (RFC 3339): use only data up to it and treat it as now, for backtests. Default: now."`
}

// Run starts the fit and prints its stages until it ends.
func (c *PredictFitCmd) Run(g *Globals) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var run live.Run
	if err := c.call(ctx, "POST", "/api/v1/predictions/fit", map[string]string{"as_of": c.AsOf}, &run); err != nil {
		return err
	}
	fmt.Fprintf(g.Stderr, "fit %d as of %s started\n", run.Version, run.AsOf.Format(time.RFC3339))
	stage := ""
	for run.State == "running" {
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped following fit %d; it goes on in the server (GET /api/v1/predictions/fit)", run.Version)
		case <-time.After(200 * time.Millisecond):
		}
		if err := c.call(ctx, "GET", "/api/v1/predictions/fit", nil, &run); err != nil {
			return err
		}
		if run.Stage != stage && run.State == "running" {
			stage = run.Stage
			fmt.Fprintf(g.Stderr, "  %s (%d profiles)\n", stage, run.Total)
		}
	}
	if run.State == "failed" {
		return fmt.Errorf("fit %d failed: %s", run.Version, run.Error)
	}
	fmt.Fprintf(g.Stdout, "fit %d done: predicted traits for %d profiles, as of %s\n", run.Version, run.Profiles, run.AsOf.Format(time.RFC3339))
	return nil
}

// PredictModelsCmd prints the latest fit's models.
type PredictModelsCmd struct {
	ClientFlags
}

// Run prints one block per model.
func (c *PredictModelsCmd) Run(g *Globals) error {
	var out struct {
		Models []live.ModelInfo `json:"models"`
	}
	if err := c.call(context.Background(), "GET", "/api/v1/predictions/models", nil, &out); err != nil {
		return err
	}
	if len(out.Models) == 0 {
		fmt.Fprintln(g.Stdout, "no fit yet: run 'mosaic predict fit'")
	}
	for _, m := range out.Models {
		fmt.Fprintf(g.Stdout, "%s (fit %d, %s, as of %s, n=%d)", m.Name, m.Version, m.Status, m.AsOf.Format(time.DateOnly), m.N)
		if m.Error != "" {
			fmt.Fprintf(g.Stdout, ": %s", m.Error)
		}
		fmt.Fprintln(g.Stdout)
		for _, sec := range []struct {
			name string
			vals map[string]float64
		}{{"params", m.Params}, {"quality", m.Quality}} {
			if len(sec.vals) > 0 {
				fmt.Fprintf(g.Stdout, "  %s: %s\n", sec.name, formatFigures(sec.vals))
			}
		}
	}
	return nil
}

func formatFigures(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.4g", k, m[k])
	}
	return strings.Join(parts, " ")
}

// openPredictions makes the prediction observer and service of a term of
// the stages, on its store.
func (m *Main) openPredictions(ctx context.Context, st store.Store, fitted func()) (*live.Observer, *live.Service, error) {
	obs := live.NewObserver(st, live.ObserverOptions{
		OrderEvent: m.Config.PredictOrderEvent, RevenueProperty: m.Config.PredictRevenueProperty,
	})
	score := btyd.DefaultScoreOptions()
	score.PurchaseHorizon = m.Config.PredictPurchaseHorizon
	svc, err := live.NewService(obs, st, live.Options{
		Log: m.Logger.With("part", "predict"), Every: m.Config.PredictEvery, Score: score, Fitted: fitted,
	})
	if err != nil {
		return nil, nil, err
	}
	if err := svc.Load(ctx); err != nil {
		return nil, nil, err
	}
	return obs, svc, nil
}

var _ engine.ProfileObserver = (*live.Observer)(nil)
