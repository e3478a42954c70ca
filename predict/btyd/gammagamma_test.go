package btyd

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/mosaic-cdp/mosaic/predict"
)

func TestGammaGammaRecoversParameters(t *testing.T) {
	tests := []struct {
		name string
		gg   GammaGamma
	}{
		{"cdnow-like", GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}},
		{"varied spenders", GammaGamma{P: 2, Q: 5, Gamma: 100}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pop := population{bg: BGNBD{R: 1, Alpha: 5, A: 0.8, B: 3}, gg: tt.gg, tMin: 30, tMax: 60}
			data := summaries(pop.draw(uint64(100+i), 30000))
			_, rep, err := FitGammaGamma(context.Background(), data, FitOptions{})
			if err != nil {
				t.Fatalf("FitGammaGamma: %v", err)
			}
			checkRecovered(t, rep, tt.gg.Params())
			if c := rep.Quality["frequency_spend_corr"]; math.Abs(c) > 0.05 {
				t.Errorf("frequency_spend_corr = %.3f on independent data, want about 0", c)
			}
		})
	}
}

func TestGammaGammaGradient(t *testing.T) {
	pop := population{bg: BGNBD{R: 1, Alpha: 5, A: 0.8, B: 3}, gg: GammaGamma{6, 4, 15}, tMin: 30, tMax: 60}
	sp := newSpends(summaries(pop.draw(9, 3000)))
	for _, lp := range [][]float64{{1.8, 1.3, 2.7}, {0, 0, 0}, {3, -0.5, 5}} {
		got := make([]float64, 3)
		sp.meanLL(lp, got, 1)
		want := fd.Gradient(nil, func(x []float64) float64 { return sp.meanLL(x, nil, 1) }, lp,
			&fd.Settings{Formula: fd.Central})
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
				t.Errorf("gradient at %v [%d] = %.9g, finite differences say %.9g", lp, i, got[i], want[i])
			}
		}
	}
}

func TestGammaGammaLogLikelihoodMatchesFit(t *testing.T) {
	m := GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	data := []predict.Summary{{X: 1, MeanRepeatSpend: 12}, {X: 4, MeanRepeatSpend: 40.5}, {X: 0}, {X: 2, MeanRepeatSpend: 0}}
	sp := newSpends(data)
	want := m.LogLikelihood(1, 12) + m.LogLikelihood(4, 40.5)
	lp := []float64{math.Log(m.P), math.Log(m.Q), math.Log(m.Gamma)}
	if got := sp.meanLL(lp, nil, 1) * sp.n; math.Abs(got-want) > 1e-10 {
		t.Errorf("log-likelihood of the repeat buyers = %.12g, want %.12g (others left out)", got, want)
	}
}

func TestGammaGammaExpectedSpend(t *testing.T) {
	m := GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	tests := []struct {
		name     string
		x        int
		mx, want float64
	}{
		{"no repeat: population mean", 0, 0, m.MeanSpend()},
		{"weighted average", 3, 50, (m.Q-1)/(3*m.P+m.Q-1)*m.MeanSpend() + 3*m.P/(3*m.P+m.Q-1)*50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.ExpectedSpend(tt.x, tt.mx); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("ExpectedSpend(%d, %g) = %.6f, want %.6f", tt.x, tt.mx, got, tt.want)
			}
		})
	}
	// With many purchases the customer's own mean dominates.
	if got := m.ExpectedSpend(1000, 80); math.Abs(got-80) > 0.1 {
		t.Errorf("ExpectedSpend(1000, 80) = %.3f, want about 80", got)
	}
}

func TestFitGammaGammaNeedsRepeatBuyers(t *testing.T) {
	_, _, err := FitGammaGamma(context.Background(), []predict.Summary{{X: 0, T: 5}}, FitOptions{})
	if err == nil {
		t.Fatal("FitGammaGamma without repeat buyers succeeded, want ErrNoData")
	}
}
