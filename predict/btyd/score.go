package btyd

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic/predict"
)

// ScoreOptions says which horizons and which discounting the scores use.
type ScoreOptions struct {
	// Unit is the time unit of the models' summaries. Default: predict.Week.
	Unit time.Duration
	// PurchaseHorizon is the window of the expected purchases
	// (predicted.purchases_90d). Default: 90 days.
	PurchaseHorizon time.Duration
	// CLVHorizon is the window of the customer lifetime value
	// (predicted.clv_365d). Default: 365 days.
	CLVHorizon time.Duration
	// CLVPeriods is how many equal periods the CLV horizon is cut into for
	// discounting. Default: 12 (monthly for a year).
	CLVPeriods int
	// ChurnHorizon is the window of the purchase side of churn risk:
	// Score.PNoPurchase is the probability of no purchase in it. Default:
	// 365 days; longer windows approach 1 − P(alive).
	ChurnHorizon time.Duration
	// AnnualDiscountRate discounts future revenue: a purchase one year out
	// is worth 1/(1+rate) of one today. Default: 0.10; 0 means no
	// discounting.
	AnnualDiscountRate float64
}

// DefaultScoreOptions returns the defaults documented on ScoreOptions.
func DefaultScoreOptions() ScoreOptions {
	return ScoreOptions{
		Unit:               predict.Week,
		PurchaseHorizon:    90 * 24 * time.Hour,
		CLVHorizon:         365 * 24 * time.Hour,
		CLVPeriods:         12,
		ChurnHorizon:       365 * 24 * time.Hour,
		AnnualDiscountRate: 0.10,
	}
}

// Validate reports the first option that cannot work.
func (o ScoreOptions) Validate() error {
	switch {
	case o.Unit <= 0:
		return errors.New("score options: Unit must be positive (the models' time unit, e.g. one week)")
	case o.PurchaseHorizon <= 0 || o.CLVHorizon <= 0 || o.ChurnHorizon <= 0:
		return errors.New("score options: PurchaseHorizon, CLVHorizon and ChurnHorizon must be positive")
	case o.CLVPeriods < 1:
		return fmt.Errorf("score options: CLVPeriods is %d; want at least 1", o.CLVPeriods)
	case !(o.AnnualDiscountRate >= 0):
		return fmt.Errorf("score options: AnnualDiscountRate is %g; want 0 or more", o.AnnualDiscountRate)
	}
	return nil
}

// Score is what the models predict for one customer.
type Score struct {
	// PAlive is the probability that the customer is still active
	// (predicted.p_alive).
	PAlive float64
	// Purchases is the expected number of purchases in the purchase
	// horizon (predicted.purchases_90d).
	Purchases float64
	// ExpectedSpend is the expected value of one future order.
	ExpectedSpend float64
	// CLV is the discounted expected revenue over the CLV horizon
	// (predicted.clv_365d).
	CLV float64
	// PNoPurchase is the probability of no purchase in the churn horizon,
	// the purchase side of churn risk (see predict.ChurnRisk).
	PNoPurchase float64
}

// Scorer turns summaries into scores with one BG/NBD and one Gamma-Gamma
// model. It is safe for concurrent use.
type Scorer struct {
	bg       BGNBD
	gg       GammaGamma
	horizon  float64   // purchase horizon in units
	churn    float64   // churn horizon in units
	times    []float64 // end of each CLV period, in units
	discount []float64 // discount factor of each CLV period
}

// NewScorer prepares scoring with the given models and options.
func NewScorer(bg BGNBD, gg GammaGamma, opt ScoreOptions) (*Scorer, error) {
	if err := opt.Validate(); err != nil {
		return nil, fmt.Errorf("btyd: %w", err)
	}
	unit := float64(opt.Unit)
	s := &Scorer{bg: bg, gg: gg, horizon: float64(opt.PurchaseHorizon) / unit, churn: float64(opt.ChurnHorizon) / unit}
	year := float64(365 * 24 * time.Hour)
	for i := 1; i <= opt.CLVPeriods; i++ {
		end := float64(opt.CLVHorizon) * float64(i) / float64(opt.CLVPeriods)
		s.times = append(s.times, end/unit)
		s.discount = append(s.discount, math.Pow(1+opt.AnnualDiscountRate, -end/year))
	}
	return s, nil
}

// Score scores one customer. The CLV is
//
//	CLV = E[spend] · Σᵢ (E[Y(tᵢ)] − E[Y(tᵢ₋₁)]) / (1+d)^(tᵢ / 1 year)
//
// over the ends tᵢ of the CLV periods, t₀ = 0: each period's expected
// purchases (BG/NBD, conditional on the customer's history) times the
// expected order value (Gamma-Gamma), discounted from the period's end, as
// lifetimes' customer_lifetime_value does.
func (s *Scorer) Score(c predict.Summary) Score {
	var g [32]float64
	return s.score(c, s.growths(c, g[:0]))
}

// ScoreAll scores every summary into out (which must be as long), on
// workers goroutines (GOMAXPROCS when 0). Customers with the same x and T
// share the costly part of the computation, which makes this much faster
// than calling Score in a loop when summaries are built from dates.
func (s *Scorer) ScoreAll(data []predict.Summary, out []Score, workers int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := len(data)*w/workers, len(data)*(w+1)/workers
		wg.Go(func() {
			cache := make(map[tupleKey][]float64)
			for i := lo; i < hi; i++ {
				k := tupleKey{x: data[i].X, t: data[i].T}
				g, ok := cache[k]
				if !ok {
					if len(cache) >= maxCache {
						// Data not on a day grid rarely repeat a key.
						clear(cache)
					}
					g = s.growths(data[i], nil)
					cache[k] = g
				}
				out[i] = s.score(data[i], g)
			}
		})
	}
	wg.Wait()
}

// maxCache bounds each ScoreAll worker's cache of growths.
const maxCache = 1 << 16

// growths appends the expected purchases of an active customer with the
// summary's x and T over the purchase horizon and then up to the end of each
// CLV period: everything costly in a score, and independent of t_x.
func (s *Scorer) growths(c predict.Summary, g []float64) []float64 {
	x := float64(c.X)
	g = append(g, s.bg.growth(s.horizon, x, c.T))
	for _, t := range s.times {
		g = append(g, s.bg.growth(t, x, c.T))
	}
	return g
}

func (s *Scorer) score(c predict.Summary, g []float64) Score {
	alive := s.bg.PAlive(c.X, c.Tx, c.T)
	spend := s.gg.ExpectedSpend(c.X, c.MeanRepeatSpend)
	var value, prev float64
	for i, cum := range g[1:] {
		value += (cum - prev) * s.discount[i]
		prev = cum
	}
	return Score{
		PAlive: alive, Purchases: g[0] * alive, ExpectedSpend: spend, CLV: spend * alive * value,
		PNoPurchase: s.bg.PNoPurchase(s.churn, c.X, c.Tx, c.T),
	}
}
