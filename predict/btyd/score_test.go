package btyd

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mosaic-cdp/mosaic/predict"
	"github.com/mosaic-cdp/mosaic/predict/internal/cdnow"
)

var cdnowSpend = GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}

func TestScoreComponents(t *testing.T) {
	opt := DefaultScoreOptions()
	opt.CLVPeriods, opt.AnnualDiscountRate = 1, 0
	s, err := NewScorer(cdnowModel, cdnowSpend, opt)
	if err != nil {
		t.Fatalf("NewScorer: %v", err)
	}
	c := predict.Summary{X: 4, Tx: 30, T: 39, MeanRepeatSpend: 27}
	got := s.Score(c)
	spend := cdnowSpend.ExpectedSpend(4, 27)
	want := Score{
		PAlive:        cdnowModel.PAlive(4, 30, 39),
		Purchases:     cdnowModel.ExpectedPurchases(90.0/7, 4, 30, 39),
		ExpectedSpend: spend,
		// Undiscounted over one period, CLV is spend times purchases.
		CLV:         spend * cdnowModel.ExpectedPurchases(365.0/7, 4, 30, 39),
		PNoPurchase: cdnowModel.PNoPurchase(365.0/7, 4, 30, 39),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(approx)); diff != "" {
		t.Errorf("Score(%+v) mismatch (-want +got):\n%s", c, diff)
	}
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(a)) }

func TestScoreDiscounting(t *testing.T) {
	c := predict.Summary{X: 4, Tx: 30, T: 39, MeanRepeatSpend: 27}
	clv := func(rate float64, periods int) float64 {
		opt := DefaultScoreOptions()
		opt.AnnualDiscountRate, opt.CLVPeriods = rate, periods
		s, err := NewScorer(cdnowModel, cdnowSpend, opt)
		if err != nil {
			t.Fatalf("NewScorer: %v", err)
		}
		return s.Score(c).CLV
	}
	flat, monthly, steep := clv(0, 12), clv(0.1, 12), clv(0.5, 12)
	if !(steep < monthly && monthly < flat) {
		t.Errorf("CLV at 50%%, 10%%, 0%% discount = %.3f, %.3f, %.3f; want increasing", steep, monthly, flat)
	}
	if one := clv(0, 1); !approx(one, flat) {
		t.Errorf("undiscounted CLV over 1 period = %.9f, over 12 = %.9f; want equal", one, flat)
	}
}

// TestScoreMatchesLifetimes reproduces the CLV table of lifetimes'
// documentation, which fits the rounded CDNOW summary and calls
// customer_lifetime_value(time=12, discount_rate=0.01) with its default
// freq="D". That default makes each "month" 30 of the data's units (weeks
// here), discounted by 1% each: a 360-week horizon in 12 periods at an
// annual rate of 1.01^(365/210) − 1.
func TestScoreMatchesLifetimes(t *testing.T) {
	rows := cdnow.PublishedSummary(t)
	sums := make([]predict.Summary, len(rows))
	for i, r := range rows {
		sums[i] = predict.Summary{X: r.X, Tx: r.Tx, T: r.T, MeanRepeatSpend: r.MeanSum}
	}
	bg, _, err := FitBGNBD(context.Background(), sums, FitOptions{})
	if err != nil {
		t.Fatalf("FitBGNBD: %v", err)
	}
	gg, _, err := FitGammaGamma(context.Background(), sums, FitOptions{})
	if err != nil {
		t.Fatalf("FitGammaGamma: %v", err)
	}
	opt := DefaultScoreOptions()
	opt.CLVHorizon = 360 * predict.Week
	opt.AnnualDiscountRate = math.Pow(1.01, 365.0/210) - 1
	s, err := NewScorer(bg, gg, opt)
	if err != nil {
		t.Fatalf("NewScorer: %v", err)
	}
	tests := []struct{ spend, clv float64 }{{24.658616, 140.096218}, {18.911480, 18.943466}, {35.171003, 38.180575}}
	for i, want := range tests {
		got := s.Score(sums[i])
		if math.Abs(got.ExpectedSpend-want.spend) > 1e-4 || math.Abs(got.CLV-want.clv) > 1e-4 {
			t.Errorf("customer %s: expected spend %.6f, CLV %.6f; lifetimes gives %.6f and %.6f",
				rows[i].ID, got.ExpectedSpend, got.CLV, want.spend, want.clv)
		}
	}
}

func TestScoreAllMatchesScore(t *testing.T) {
	pop := population{bg: cdnowModel, gg: cdnowSpend, tMin: 1, tMax: 80, dayGrid: true}
	data := summaries(pop.draw(21, 30000))
	s, err := NewScorer(cdnowModel, cdnowSpend, DefaultScoreOptions())
	if err != nil {
		t.Fatalf("NewScorer: %v", err)
	}
	got := make([]Score, len(data))
	s.ScoreAll(data, got, 2)
	for i, c := range data {
		if want := s.Score(c); want != got[i] {
			t.Fatalf("ScoreAll[%d] = %+v, Score = %+v", i, got[i], want)
		}
	}
}

func TestScoreOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ScoreOptions)
	}{
		{"no unit", func(o *ScoreOptions) { o.Unit = 0 }},
		{"no horizon", func(o *ScoreOptions) { o.CLVHorizon = -time.Hour }},
		{"no period", func(o *ScoreOptions) { o.CLVPeriods = 0 }},
		{"negative rate", func(o *ScoreOptions) { o.AnnualDiscountRate = -0.1 }},
		{"NaN rate", func(o *ScoreOptions) { o.AnnualDiscountRate = math.NaN() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := DefaultScoreOptions()
			tt.change(&opt)
			if _, err := NewScorer(cdnowModel, cdnowSpend, opt); err == nil {
				t.Errorf("NewScorer(%+v) succeeded, want an error", opt)
			}
		})
	}
	if err := DefaultScoreOptions().Validate(); err != nil {
		t.Errorf("DefaultScoreOptions().Validate() = %v, want nil", err)
	}
}

func TestBacktestNeedsOneCountPerSummary(t *testing.T) {
	if _, err := cdnowModel.Backtest([]predict.Summary{{T: 3}}, nil, 10); err == nil {
		t.Error("Backtest with 1 summary and 0 counts succeeded, want an error")
	}
}
