package btyd

import (
	"math"
	"math/rand/v2"

	"github.com/mosaic-cdp/mosaic/predict"
)

// population draws synthetic customers from known BG/NBD and Gamma-Gamma
// parameters, the way the models say customers behave.
type population struct {
	bg         BGNBD
	gg         GammaGamma
	tMin, tMax float64 // observation length T, uniform in [tMin, tMax] weeks
	// dayGrid rounds purchase times to days and combines same-day
	// purchases, as summaries built from dated orders are.
	dayGrid bool
	// keepTimes keeps each customer's repeat purchase times.
	keepTimes bool
}

// customer is one simulated customer with what really happened after T.
type customer struct {
	predict.Summary
	lambda, p float64
	alive     bool      // still active at T
	times     []float64 // repeat purchase times, when kept
}

// draw returns n customers from a generator seeded with seed.
func (pop population) draw(seed uint64, n int) []customer {
	rng := newRand(seed)
	out := make([]customer, n)
	for i := range out {
		T := pop.tMin + (pop.tMax-pop.tMin)*rng.Float64()
		if pop.dayGrid {
			T = math.Round(T*7) / 7
		}
		c := customer{
			lambda: gammaVariate(rng, pop.bg.R) / pop.bg.Alpha,
			p:      betaVariate(rng, pop.bg.A, pop.bg.B),
		}
		c.X, c.Tx, c.alive, c.times = pop.purchases(rng, c.lambda, c.p, T)
		c.T = T
		if c.X > 0 {
			// The mean of x Gamma(p, ν) values is Gamma(px, xν).
			nu := gammaVariate(rng, pop.gg.Q) / pop.gg.Gamma
			c.MeanRepeatSpend = gammaVariate(rng, pop.gg.P*float64(c.X)) / (nu * float64(c.X))
		}
		out[i] = c
	}
	return out
}

// purchases plays one customer's repeat purchases in (0, T]: exponential
// gaps at rate λ, and after each purchase a drop-out with probability p.
func (pop population) purchases(rng *rand.Rand, lambda, p, T float64) (x int, tx float64, alive bool, times []float64) {
	t, lastDay := 0.0, 0.0
	for {
		t += rng.ExpFloat64() / lambda
		if t > T {
			return x, tx, true, times
		}
		if !pop.dayGrid {
			x, tx = x+1, t
		} else if day := math.Floor(t * 7); day > lastDay {
			x, tx, lastDay = x+1, day/7, day
		}
		if pop.keepTimes {
			times = append(times, tx)
		}
		if rng.Float64() < p {
			return x, tx, false, times
		}
	}
}

// calibration is the summary of a customer (drawn with keepTimes) as of
// time cut, as if observation had stopped there.
func (pop population) calibration(c customer, cut float64) predict.Summary {
	s := predict.Summary{T: cut}
	for _, t := range c.times {
		if t <= cut && (s.X == 0 || t > s.Tx) {
			s.X, s.Tx = s.X+1, t
		}
	}
	return s
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 2)) }

func summaries(cs []customer) []predict.Summary {
	out := make([]predict.Summary, len(cs))
	for i, c := range cs {
		out[i] = c.Summary
	}
	return out
}

// gammaVariate draws from Gamma(shape, 1) by Marsaglia & Tsang (2000),
// boosting shapes below 1 with a uniform power.
func gammaVariate(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gammaVariate(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		z := rng.NormFloat64()
		v := 1 + c*z
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*z*z+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

func betaVariate(rng *rand.Rand, a, b float64) float64 {
	x := gammaVariate(rng, a)
	return x / (x + gammaVariate(rng, b))
}
