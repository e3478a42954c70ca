package btyd

import (
	"context"
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mathext"

	"github.com/mosaic-cdp/mosaic/predict"
)

// cdnowModel is the published BG/NBD fit on CDNOW (Fader, Hardie & Lee 2005).
var cdnowModel = BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}

func TestBGNBDRecoversParameters(t *testing.T) {
	tests := []struct {
		name string
		pop  population
	}{
		{"cdnow-like", population{bg: cdnowModel, gg: GammaGamma{6, 4, 15}, tMin: 26, tMax: 78}},
		{"frequent buyers", population{bg: BGNBD{R: 1.5, Alpha: 6, A: 1.8, B: 6}, gg: GammaGamma{6, 4, 15}, tMin: 10, tMax: 52}},
		{"dated by day", population{bg: cdnowModel, gg: GammaGamma{6, 4, 15}, tMin: 26, tMax: 78, dayGrid: true}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := summaries(tt.pop.draw(uint64(i+1), 20000))
			_, rep, err := FitBGNBD(context.Background(), data, FitOptions{})
			if err != nil {
				t.Fatalf("FitBGNBD: %v", err)
			}
			checkRecovered(t, rep, tt.pop.bg.Params())
		})
	}
}

// checkRecovered fails when a fitted parameter is further from its true
// value than four of its standard errors, or than 30%: either means the fit
// does not recover the model the data came from.
func checkRecovered(t *testing.T, rep predict.ModelReport, want map[string]float64) {
	t.Helper()
	for name, w := range want {
		got, se := rep.Params[name], rep.Quality["se_"+name]
		if !(se > 0) || math.Abs(got-w) > 4*se || math.Abs(got-w) > 0.3*w {
			t.Errorf("fitted %s = %.4f (se %.4f), want %.4f", name, got, se, w)
		}
	}
	if rep.Quality["converged"] != 1 {
		t.Errorf("Quality[converged] = %v, want 1 (gradient norm %g)", rep.Quality["converged"], rep.Quality["gradient_norm"])
	}
}

func TestBGNBDGradient(t *testing.T) {
	tp := groupSummaries(summaries(population{bg: cdnowModel, gg: GammaGamma{6, 4, 15}, tMin: 5, tMax: 60}.draw(7, 3000)),
		func(predict.Summary) bool { return true })
	for _, lp := range [][]float64{{-1.4, 1.5, -0.2, 0.9}, {0.3, -0.5, 1.1, 2}, {-3, 3, -2, -1}} {
		got := make([]float64, 4)
		tp.bgnbdMeanLL(lp, got, 1)
		want := fd.Gradient(nil, func(x []float64) float64 { return tp.bgnbdMeanLL(x, nil, 1) }, lp,
			&fd.Settings{Formula: fd.Central})
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
				t.Errorf("gradient at %v [%d] = %.9g, finite differences say %.9g", lp, i, got[i], want[i])
			}
		}
	}
}

func TestBGNBDLogLikelihoodMatchesFit(t *testing.T) {
	data := summaries(population{bg: cdnowModel, tMin: 20, tMax: 40, gg: GammaGamma{6, 4, 15}}.draw(3, 500))
	tp := groupSummaries(data, func(predict.Summary) bool { return true })
	var want float64
	for _, s := range data {
		want += cdnowModel.LogLikelihood(s.X, s.Tx, s.T)
	}
	lp := []float64{math.Log(cdnowModel.R), math.Log(cdnowModel.Alpha), math.Log(cdnowModel.A), math.Log(cdnowModel.B)}
	if got := tp.bgnbdMeanLL(lp, nil, 1) * tp.n; math.Abs(got-want) > 1e-8*math.Abs(want) {
		t.Errorf("grouped log-likelihood = %.10g, sum of LogLikelihood = %.10g", got, want)
	}
}

// paperExpectation is equation (10) of the paper as printed, with ₂F₁ of
// the untransformed parameters, to check the Euler-transformed form.
func paperExpectation(m BGNBD, t float64, x int, tx, T float64) float64 {
	xf := float64(x)
	z := t / (m.Alpha + T + t)
	f := mathext.Hypergeo(m.R+xf, m.B+xf, m.A+m.B+xf-1, z)
	num := (m.A + m.B + xf - 1) / (m.A - 1) * (1 - math.Pow((m.Alpha+T)/(m.Alpha+T+t), m.R+xf)*f)
	return num * m.PAlive(x, tx, T)
}

func TestBGNBDExpectedPurchases(t *testing.T) {
	tests := []struct {
		name      string
		m         BGNBD
		t, tx, T  float64
		x         int
		tolerance float64
	}{
		{"paper example", cdnowModel, 39, 30.43, 38.86, 2, 1e-9},
		{"one-time buyer", cdnowModel, 52, 0, 20, 0, 1e-9},
		{"frequent buyer", cdnowModel, 13, 38, 39, 25, 1e-7},
		{"long horizon", cdnowModel, 520, 5, 6, 3, 1e-7},
		{"a above one", BGNBD{R: 1.2, Alpha: 3, A: 2.5, B: 7}, 26, 12, 30, 6, 1e-9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.m.ExpectedPurchases(tt.t, tt.x, tt.tx, tt.T)
			want := paperExpectation(tt.m, tt.t, tt.x, tt.tx, tt.T)
			if math.Abs(got-want) > tt.tolerance*math.Max(1, want) {
				t.Errorf("ExpectedPurchases(%g, %d, %g, %g) = %.12g, equation (10) gives %.12g", tt.t, tt.x, tt.tx, tt.T, got, want)
			}
		})
	}
}

func TestBGNBDExpectedPurchasesNewMatchesSimulation(t *testing.T) {
	// Equation (9) against the mean repeat count of simulated customers, all
	// observed for 52 weeks: the model's own definition of E[X(t)].
	pop := population{bg: cdnowModel, gg: GammaGamma{6, 4, 15}, tMin: 52, tMax: 52}
	cs := pop.draw(11, 200000)
	var sum, sumSq float64
	for _, c := range cs {
		sum += float64(c.X)
		sumSq += float64(c.X * c.X)
	}
	n := float64(len(cs))
	mean := sum / n
	se := math.Sqrt((sumSq/n - mean*mean) / n)
	if got := cdnowModel.ExpectedPurchasesNew(52); math.Abs(got-mean) > 4*se {
		t.Errorf("ExpectedPurchasesNew(52) = %.4f, simulated mean %.4f ± %.4f", got, mean, se)
	}
}

func TestBGNBDContinuousAtAEqualsOne(t *testing.T) {
	at := func(a float64) float64 {
		return BGNBD{R: 0.5, Alpha: 4, A: a, B: 3}.ExpectedPurchases(39, 3, 20, 39)
	}
	for _, a := range []float64{1, 1 + 5e-8, 1 - 5e-8} {
		if got, near := at(a), (at(1-1e-4)+at(1+1e-4))/2; math.Abs(got-near) > 1e-6 {
			t.Errorf("ExpectedPurchases with a = %v is %.9f, want %.9f as on both sides of a = 1", a, got, near)
		}
	}
}

func TestBGNBDPAlive(t *testing.T) {
	m := cdnowModel
	tests := []struct {
		name         string
		x            int
		tx, T        float64
		lower, upper float64
	}{
		{"never repeated", 0, 0, 38.86, 1, 1},
		{"bought recently", 5, 38, 38.86, 0.85, 1},
		{"silent for long", 5, 2, 38.86, 0, 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.PAlive(tt.x, tt.tx, tt.T); got < tt.lower || got > tt.upper {
				t.Errorf("PAlive(%d, %g, %g) = %.4f, want in [%g, %g]", tt.x, tt.tx, tt.T, got, tt.lower, tt.upper)
			}
		})
	}
	if a, b := m.PAlive(3, 10, 20), m.PAlive(3, 10, 30); !(b < a) {
		t.Errorf("PAlive(3, 10, 30) = %.4f, want below PAlive(3, 10, 20) = %.4f: silence lowers it", b, a)
	}
}

func TestFitBGNBDRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		data []predict.Summary
	}{
		{"empty", nil},
		{"recency after age", []predict.Summary{{X: 1, Tx: 5, T: 3}}},
		{"negative count", []predict.Summary{{X: -1, T: 3}}},
		{"NaN age", []predict.Summary{{X: 0, T: math.NaN()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := FitBGNBD(context.Background(), tt.data, FitOptions{}); err == nil {
				t.Errorf("FitBGNBD(%v) succeeded, want an error", tt.data)
			}
		})
	}
}

func TestFitBGNBDStopsWhenCancelled(t *testing.T) {
	data := summaries(population{bg: cdnowModel, gg: GammaGamma{6, 4, 15}, tMin: 20, tMax: 40}.draw(5, 2000))
	ctx, cancel := context.WithCancel(context.Background())
	var calls int
	_, _, err := FitBGNBD(ctx, data, FitOptions{Progress: func(Progress) {
		if calls++; calls == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("FitBGNBD after cancel = %v, want context.Canceled", err)
	}
	if calls > 4 {
		t.Errorf("Progress called %d times after cancelling at the 3rd, want the fit to stop", calls)
	}
}

func TestBGNBDPNoPurchase(t *testing.T) {
	m := cdnowModel
	// A one-time buyer is "alive" for BG/NBD whatever their silence, but
	// their chance of not buying grows with it.
	if a, b := m.PNoPurchase(52, 0, 0, 5), m.PNoPurchase(52, 0, 0, 60); !(a < b) {
		t.Errorf("PNoPurchase(52, 0, 0, T) = %.3f at T=5 and %.3f at T=60, want growing with silence", a, b)
	}
	// Over a very long horizon only having left keeps a customer silent.
	if got, want := m.PNoPurchase(1e9, 4, 10, 39), 1-m.PAlive(4, 10, 39); math.Abs(got-want) > 1e-3 {
		t.Errorf("PNoPurchase(∞, 4, 10, 39) = %.4f, want 1 − P(alive) = %.4f", got, want)
	}
}

// TestBGNBDHoldoutMatchesSimulation checks the conditional predictions
// against the model's own world: customers observed for 39 weeks, then 26
// more.
func TestBGNBDHoldoutMatchesSimulation(t *testing.T) {
	m := cdnowModel
	pop := population{bg: m, gg: GammaGamma{6, 4, 15}, tMin: 65, tMax: 65, keepTimes: true}
	cs := pop.draw(17, 100000)
	var silentP, silent, expected, bought float64
	for _, c := range cs {
		cal := pop.calibration(c, 39)
		silentP += m.PNoPurchase(26, cal.X, cal.Tx, cal.T)
		expected += m.ExpectedPurchases(26, cal.X, cal.Tx, cal.T)
		bought += float64(c.X - cal.X)
		if c.X == cal.X {
			silent++
		}
	}
	n := float64(len(cs))
	if math.Abs(silentP-silent)/n > 0.01 {
		t.Errorf("mean PNoPurchase(26 weeks) = %.4f, simulated share silent = %.4f", silentP/n, silent/n)
	}
	if math.Abs(expected-bought)/bought > 0.03 {
		t.Errorf("mean ExpectedPurchases(26 weeks) = %.4f, simulated mean = %.4f", expected/n, bought/n)
	}
}
