package btyd

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// BGNBD is a fitted beta-geometric/negative-binomial model (Fader, Hardie &
// Lee 2005). While active, a customer buys at a Poisson rate λ, which is
// gamma-distributed across customers with shape R and rate Alpha; after
// each repeat purchase the customer drops out for good with probability p,
// which is beta-distributed with parameters A and B. Time is in the unit of
// the summaries it was fitted on (weeks by default).
type BGNBD struct {
	R, Alpha, A, B float64
}

// Params returns the parameters under their names in the literature.
func (m BGNBD) Params() map[string]float64 {
	return map[string]float64{"r": m.R, "alpha": m.Alpha, "a": m.A, "b": m.B}
}

// LogLikelihood is the log of the probability of a customer's (x, t_x, T)
// under the model, equation (6) of the paper, computed in log space.
func (m BGNBD) LogLikelihood(x int, tx, T float64) float64 {
	r, alpha, a, b, xf := m.R, m.Alpha, m.A, m.B, float64(x)
	ll := lgamma(r+xf) - lgamma(r) + r*math.Log(alpha) +
		lgamma(a+b) + lgamma(b+xf) - lgamma(b) - lgamma(a+b+xf)
	u := -(r + xf) * math.Log(alpha+T)
	if x == 0 {
		return ll + u
	}
	v := math.Log(a) - math.Log(b+xf-1) - (r+xf)*math.Log(alpha+tx)
	return ll + logAddExp(u, v)
}

// PAlive is the probability that a customer with x repeat purchases, the
// last at t_x, observed for T, is still active: equation (11) of the paper.
// A customer who never repeated is certainly active in this model, since
// dropping out can only happen right after a repeat purchase.
func (m BGNBD) PAlive(x int, tx, T float64) float64 {
	if x == 0 {
		return 1
	}
	xf := float64(x)
	logOdds := math.Log(m.A) - math.Log(m.B+xf-1) + (m.R+xf)*(math.Log(m.Alpha+T)-math.Log(m.Alpha+tx))
	return 1 / (1 + math.Exp(logOdds))
}

// ExpectedPurchases is the expected number of purchases in the next t units
// of a customer with x repeat purchases, the last at t_x, observed for T:
// equation (10) of the paper.
func (m BGNBD) ExpectedPurchases(t float64, x int, tx, T float64) float64 {
	return m.growth(t, float64(x), T) * m.PAlive(x, tx, T)
}

// PNoPurchase is the probability that a customer with x repeat purchases,
// the last at t_x, observed for T, makes no purchase in the next t units:
// either they have dropped out, or they are active but their rate λ, whose
// posterior is Gamma(r+x, α+T), brings no purchase in time t:
//
//	P = 1 − P(alive) + P(alive)·((α+T)/(α+T+t))^(r+x)
//
// As t grows it tends to 1 − P(alive). Unlike 1 − P(alive), which is 0 for
// every customer who never repeated (BG/NBD customers only drop out after a
// repeat purchase), it grows as a one-time buyer stays silent.
func (m BGNBD) PNoPurchase(t float64, x int, tx, T float64) float64 {
	alive := m.PAlive(x, tx, T)
	quiet := math.Exp((m.R + float64(x)) * (math.Log(m.Alpha+T) - math.Log(m.Alpha+T+t)))
	return 1 - alive + alive*quiet
}

// ExpectedPurchasesNew is the expected number of repeat purchases in the
// first t units after a customer's first purchase, before anything else is
// known about them: E[X(t)], equation (9) of the paper.
func (m BGNBD) ExpectedPurchasesNew(t float64) float64 {
	return m.growth(t, 0, 0)
}

// growth is the numerator of equation (10): the expected purchases in the
// next t units of a customer known to be active, with x repeat purchases in
// T. With x = T = 0 it is equation (9).
//
// The paper writes it with ₂F₁(r+x, b+x; a+b+x−1; z) times
// ((α+T)/(α+T+t))^{r+x}, z = t/(α+T+t). Euler's transformation
// ₂F₁(A,B;C;z) = (1−z)^{C−A−B} ₂F₁(C−A, C−B; C; z) turns that product into
// (1−z)^{a−1} ₂F₁(a+b−1−r, a−1; a+b+x−1; z), whose upper parameters do not
// grow with x: the series then converges fast and without the huge
// cancelling factors frequent buyers would otherwise bring.
func (m BGNBD) growth(t, x, T float64) float64 {
	if t <= 0 {
		return 0
	}
	a := m.A
	// The formula divides by a−1; at a = 1 the limit exists and equals the
	// mean of both sides, which is accurate to about 1e-10 here.
	if math.Abs(a-1) < 1e-7 {
		lo, hi := m, m
		lo.A, hi.A = 1-2e-7, 1+2e-7
		return (lo.growth(t, x, T) + hi.growth(t, x, T)) / 2
	}
	z := t / (m.Alpha + T + t)
	f := mathext.Hypergeo(a+m.B-1-m.R, a-1, a+m.B+x-1, z)
	pow := math.Exp((a - 1) * math.Log1p(-z))
	return (a + m.B + x - 1) / (a - 1) * (1 - pow*f)
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}
