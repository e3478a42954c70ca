package propensity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mosaic-cdp/mosaic/predict"
)

// Options controls FitWithHoldout.
type Options struct {
	// Horizon is the window a purchase is predicted in. Default: 30 days.
	Horizon time.Duration
	// L2 is the strength of the penalty on the weights. Default: 0.001,
	// enough to keep weights finite when a feature separates the classes.
	L2 float64
	// Bins is the number of reliability bins. Default: 10.
	Bins int
	// Now tells the fit time for the report. Default: time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Horizon <= 0 {
		o.Horizon = 30 * day
	}
	if o.L2 <= 0 {
		o.L2 = 0.001
	}
	if o.Bins <= 0 {
		o.Bins = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Result is a fitted propensity model with its holdout quality.
type Result struct {
	// Model is the model to score with, fitted on both periods.
	Model *Model
	// Holdout is the quality of a model fitted on the first period only,
	// measured on the second, which it never saw.
	Holdout Quality
	// Report describes the fit (name "purchase_propensity"); its Quality
	// holds the holdout figures (see docs/predictions.md).
	Report predict.ModelReport
}

// FitWithHoldout trains and checks a purchase-propensity model on history
// up to asOf, split by time so that the check is honest: with horizon h,
// a model is trained on features as of asOf−2h labelled by purchases in
// (asOf−2h, asOf−h], and measured on features as of asOf−h labelled by
// purchases in (asOf−h, asOf]. The model returned is then refitted on both
// sets, so that it learns from the most recent behaviour too; score it on
// features as of asOf.
func FitWithHoldout(ctx context.Context, customers []Activity, asOf time.Time, opt Options) (Result, error) {
	opt = opt.withDefaults()
	trainCut, holdCut := asOf.Add(-2*opt.Horizon), asOf.Add(-opt.Horizon)
	train, holdout := Examples(customers, trainCut, opt.Horizon), Examples(customers, holdCut, opt.Horizon)
	if len(train) == 0 || len(holdout) == 0 {
		return Result{}, fmt.Errorf("propensity: %d training and %d holdout examples; need history covering two horizons before %s",
			len(train), len(holdout), asOf.Format(time.DateOnly))
	}
	first, err := Fit(ctx, FeatureNames, train, opt.L2)
	if err != nil {
		return Result{}, err
	}
	q := Evaluate(first, holdout, opt.Bins)
	all := append(append([]Example(nil), train...), holdout...)
	final, err := Fit(ctx, FeatureNames, all, opt.L2)
	if errors.Is(err, ErrOneClass) {
		final, err = first, nil
	}
	if err != nil {
		return Result{}, err
	}
	return Result{Model: final, Holdout: q, Report: report(final, q, all, len(train), asOf, opt)}, nil
}

// Examples builds one example per customer active by cutoff: features as
// of cutoff, labelled by a purchase in (cutoff, cutoff+horizon].
func Examples(customers []Activity, cutoff time.Time, horizon time.Duration) []Example {
	out := make([]Example, 0, len(customers))
	for _, a := range customers {
		if x, ok := Features(a, cutoff); ok {
			out = append(out, Example{X: x, Y: Label(a, cutoff, horizon)})
		}
	}
	return out
}

func report(m *Model, q Quality, all []Example, nTrain int, asOf time.Time, opt Options) predict.ModelReport {
	params := map[string]float64{"intercept": m.Intercept}
	for j, name := range m.Names {
		params["w_"+name] = m.Weights[j]
	}
	var ll float64
	for _, e := range all {
		p := math.Min(math.Max(m.Predict(e.X), 1e-15), 1-1e-15)
		ll += e.Y*math.Log(p) + (1-e.Y)*math.Log(1-p)
	}
	quality := map[string]float64{
		"auc": q.AUC, "brier": q.Brier, "brier_baseline": q.BrierBaseline,
		"log_loss": q.LogLoss, "ece": q.ECE, "base_rate": q.BaseRate,
		"holdout_n": float64(q.N), "train_n": float64(nTrain),
	}
	for i, b := range q.Bins {
		prefix := "bin_" + strconv.Itoa(i) + "_"
		quality[prefix+"n"], quality[prefix+"predicted"], quality[prefix+"observed"] = float64(b.N), b.MeanPredicted, b.Observed
	}
	return predict.ModelReport{
		Name: "purchase_propensity", Params: params, LogLikelihood: ll,
		FitAt: opt.Now(), AsOf: asOf, N: len(all), Quality: quality,
	}
}
