package propensity

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mosaic-cdp/mosaic/predict"
)

// logisticExamples draws n examples from a known logistic model over
// standard normal features.
func logisticExamples(rng *rand.Rand, n int, intercept float64, w []float64) []Example {
	out := make([]Example, n)
	for i := range out {
		x := make([]float64, len(w))
		z := intercept
		for j := range x {
			x[j] = rng.NormFloat64()
			z += w[j] * x[j]
		}
		var y float64
		if rng.Float64() < sigmoid(z) {
			y = 1
		}
		out[i] = Example{X: x, Y: y}
	}
	return out
}

var threeNames = []string{"a", "b", "c"}

func TestFitRecoversWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	want := []float64{1.2, -0.7, 0}
	m, err := Fit(context.Background(), threeNames, logisticExamples(rng, 40000, -1, want), 1e-6)
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	// Features are standard normal, so standardised weights are close to
	// the raw ones.
	for j, w := range want {
		if got := m.Weights[j] / m.Scale[j]; math.Abs(got-w) > 0.06 {
			t.Errorf("weight of %s = %.3f, want %.2f", threeNames[j], got, w)
		}
	}
	if got := m.Intercept - sumProducts(m.Weights, m.Mean, m.Scale); math.Abs(got+1) > 0.06 {
		t.Errorf("intercept on the raw scale = %.3f, want -1", got)
	}
}

func sumProducts(w, mean, scale []float64) float64 {
	var s float64
	for j := range w {
		s += w[j] * mean[j] / scale[j]
	}
	return s
}

// TestPlantedSignal checks the holdout figures on data with a planted
// signal, and that the same data with shuffled labels score as guessing.
func TestPlantedSignal(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	data := logisticExamples(rng, 20000, -0.5, []float64{1, 0.5, 0})
	train, test := data[:10000], data[10000:]
	m, err := Fit(context.Background(), threeNames, train, 0.001)
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	q := Evaluate(m, test, 10)
	if q.AUC < 0.7 || q.Brier >= q.BrierBaseline || q.ECE > 0.03 {
		t.Errorf("planted signal: AUC %.3f, Brier %.4f (baseline %.4f), ECE %.4f; want AUC > 0.7, Brier below baseline, ECE < 0.03",
			q.AUC, q.Brier, q.BrierBaseline, q.ECE)
	}
	shuffled := make([]Example, len(data))
	copy(shuffled, data)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i].Y, shuffled[j].Y = shuffled[j].Y, shuffled[i].Y })
	m, err = Fit(context.Background(), threeNames, shuffled[:10000], 0.001)
	if err != nil {
		t.Fatalf("Fit(shuffled): %v", err)
	}
	if q := Evaluate(m, shuffled[10000:], 10); math.Abs(q.AUC-0.5) > 0.03 {
		t.Errorf("shuffled labels: AUC %.3f, want about 0.5", q.AUC)
	}
}

// world generates customers' activity up to end. Customers arrive at a
// steady pace over the year before end, so every cutoff sees a similar mix
// of old and new ones. With signal, each customer's engagement level drives
// both their sessions, views and opens and their purchase rate; without,
// everyone buys at one rate, whatever they do.
func world(seed uint64, n int, end time.Time, signal bool) []Activity {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]Activity, n)
	for i := range out {
		life := 365 * rng.Float64() // days from arrival to end
		start := end.Add(-time.Duration(life * float64(day)))
		events := func(perDay float64) []time.Time {
			var ts []time.Time
			for t := rng.ExpFloat64() / perDay; t < life; t += rng.ExpFloat64() / perDay {
				ts = append(ts, start.Add(time.Duration(t*float64(day))))
			}
			return ts
		}
		level := math.Exp(rng.NormFloat64())
		buy := 0.02 * level
		if !signal {
			buy = 0.02
		}
		var orders []predict.Order
		for _, t := range events(buy) {
			orders = append(orders, predict.Order{Time: t, Revenue: 20 + 10*rng.Float64()})
		}
		out[i] = Activity{
			Orders:       orders,
			Sessions:     append([]time.Time{start}, events(0.2*level)...),
			EmailOpens:   events(0.05 * level),
			EmailClicks:  events(0.01 * level),
			ProductViews: events(0.3 * level),
		}
	}
	return out
}

func TestFitWithHoldout(t *testing.T) {
	end := time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	fitAt := time.Date(2024, 7, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name            string
		signal          bool
		aucLow, aucHigh float64
	}{
		{"planted signal", true, 0.7, 1},
		{"no signal", false, 0.45, 0.55},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := FitWithHoldout(context.Background(), world(uint64(10+i), 4000, end, tt.signal), end,
				Options{Now: func() time.Time { return fitAt }})
			if err != nil {
				t.Fatalf("FitWithHoldout: %v", err)
			}
			q := res.Report.Quality
			if q["auc"] < tt.aucLow || q["auc"] > tt.aucHigh {
				t.Errorf("holdout AUC = %.3f, want in [%g, %g]", q["auc"], tt.aucLow, tt.aucHigh)
			}
			if q["ece"] > 0.05 {
				t.Errorf("holdout ECE = %.3f, want < 0.05: the probabilities should be calibrated", q["ece"])
			}
			rep := res.Report
			if rep.Name != "purchase_propensity" || !rep.AsOf.Equal(end) || !rep.FitAt.Equal(fitAt) || rep.N != int(q["train_n"]+q["holdout_n"]) {
				t.Errorf("report = %q as of %v at %v, N %d; want purchase_propensity as of %v at %v, N = train + holdout",
					rep.Name, rep.AsOf, rep.FitAt, rep.N, end, fitAt)
			}
			if _, ok := rep.Params["w_log_sessions_30d"]; !ok || len(rep.Params) != len(FeatureNames)+1 {
				t.Errorf("report params = %v, want the intercept and a w_ weight per feature", rep.Params)
			}
		})
	}
}

func TestFitWithHoldoutNeedsHistory(t *testing.T) {
	end := time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	recent := []Activity{{Sessions: []time.Time{end.Add(-time.Hour)}}}
	if _, err := FitWithHoldout(context.Background(), recent, end, Options{}); err == nil {
		t.Error("FitWithHoldout with one hour of history succeeded, want an error")
	}
}

func TestFeatures(t *testing.T) {
	asOf := time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	ago := func(days float64) time.Time { return asOf.Add(-time.Duration(days * float64(day))) }
	a := Activity{
		Orders: []predict.Order{
			{Time: ago(100), Revenue: 30}, {Time: ago(10), Revenue: 5}, {Time: ago(10).Add(time.Hour), Revenue: 5},
			{Time: asOf.Add(day), Revenue: 1000}, // after asOf: not a feature, the label
		},
		Sessions:     []time.Time{ago(1), ago(2), ago(40)},
		EmailOpens:   []time.Time{ago(200)},
		ProductViews: []time.Time{ago(3), ago(20)},
	}
	got, ok := Features(a, asOf)
	if !ok {
		t.Fatal("Features reported no activity")
	}
	want := []float64{1, math.Log1p(10 - 1.0/24), math.Log1p(2), math.Log1p(1), math.Log1p(20), math.Log1p(200),
		math.Log1p(2), 0, 0, math.Log1p(1), math.Log1p(2)}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("Features mismatch (-want +got):\n%s", diff)
	}
	if y := Label(a, asOf, 30*day); y != 1 {
		t.Errorf("Label = %v, want 1", y)
	}
	if _, ok := Features(a, ago(300)); ok {
		t.Error("Features before any activity reported ok, want false")
	}
	never, _ := Features(Activity{Sessions: []time.Time{ago(5)}}, asOf)
	if never[0] != 0 || never[1] != math.Log1p(noOrderDays) {
		t.Errorf("Features(never ordered) has_ordered, days = %v, %v; want 0, log1p(%d)", never[0], never[1], noOrderDays)
	}
}

func TestAUC(t *testing.T) {
	tests := []struct {
		name           string
		scores, labels []float64
		want           float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []float64{0, 0, 1, 1}, 1},
		{"reversed", []float64{0.9, 0.8, 0.2, 0.1}, []float64{0, 0, 1, 1}, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []float64{0, 1, 0, 1}, 0.5},
		{"one swap", []float64{0.1, 0.3, 0.2, 0.9}, []float64{0, 0, 1, 1}, 0.75},
		{"one class", []float64{0.1, 0.2}, []float64{1, 1}, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AUC(tt.scores, tt.labels)
			if !(got == tt.want || math.IsNaN(got) && math.IsNaN(tt.want)) {
				t.Errorf("AUC(%v, %v) = %v, want %v", tt.scores, tt.labels, got, tt.want)
			}
		})
	}
}

func TestMeasure(t *testing.T) {
	q := Measure([]float64{0.1, 0.1, 0.8, 0.8}, []float64{0, 0, 1, 0}, 2)
	want := Quality{
		AUC: 5.0 / 6, Brier: (0.01 + 0.01 + 0.04 + 0.64) / 4, BrierBaseline: 0.1875,
		LogLoss:  -(2*math.Log(0.9) + math.Log(0.8) + math.Log(0.2)) / 4,
		BaseRate: 0.25, ECE: 0.5*0.1 + 0.5*0.3, N: 4,
		Bins: []Bin{{Lo: 0, Hi: 0.5, N: 2, MeanPredicted: 0.1, Observed: 0}, {Lo: 0.5, Hi: 1, N: 2, MeanPredicted: 0.8, Observed: 0.5}},
	}
	if diff := cmp.Diff(want, q, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("Measure mismatch (-want +got):\n%s", diff)
	}
}

func TestFitRejects(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		data  []Example
	}{
		{"no examples", threeNames, nil},
		{"one class", threeNames, []Example{{X: []float64{1, 2, 3}, Y: 1}, {X: []float64{0, 2, 1}, Y: 1}}},
		{"ragged", threeNames, []Example{{X: []float64{1, 2, 3}, Y: 1}, {X: []float64{0}, Y: 0}}},
		{"names", []string{"a"}, []Example{{X: []float64{1, 2, 3}, Y: 1}, {X: []float64{0, 1, 1}, Y: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Fit(context.Background(), tt.names, tt.data, 0.001); err == nil {
				t.Errorf("Fit(%v) succeeded, want an error", tt.data)
			}
		})
	}
}

func TestContributionsAddUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	m, err := Fit(context.Background(), threeNames, logisticExamples(rng, 2000, 0.3, []float64{0.5, -1, 2}), 0.001)
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	x := []float64{0.3, -1.2, 2}
	z := m.Intercept
	for _, c := range m.Contributions(x) {
		z += c
	}
	if got := m.Predict(x); math.Abs(sigmoid(z)-got) > 1e-12 {
		t.Errorf("sigmoid(intercept + Σ contributions) = %.6f, Predict = %.6f", sigmoid(z), got)
	}
}
