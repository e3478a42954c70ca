package btyd

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mathext"

	"github.com/mosaic-cdp/mosaic/predict"
)

// ParetoNBD is a fitted Pareto/NBD model (Schmittlein, Morrison & Colombo
// 1987), the original buy-till-you-die model. While active a customer buys
// at a Poisson rate λ ~ Gamma(R, Alpha); their lifetime is exponential with
// rate μ ~ Gamma(S, Beta), so they can drop out at any moment, not only
// after a purchase as in BG/NBD. The formulas follow Fader & Hardie (2005),
// "A note on deriving the Pareto/NBD model and related expressions".
type ParetoNBD struct {
	R, Alpha, S, Beta float64
}

// Params returns the parameters under their names in the literature.
func (m ParetoNBD) Params() map[string]float64 {
	return map[string]float64{"r": m.R, "alpha": m.Alpha, "s": m.S, "beta": m.Beta}
}

// LogLikelihood is the log of the probability of a customer's (x, t_x, T).
func (m ParetoNBD) LogLikelihood(x int, tx, T float64) float64 {
	r, alpha, s, beta, xf := m.R, m.Alpha, m.S, m.Beta, float64(x)
	a1 := lgamma(r+xf) - lgamma(r) + r*math.Log(alpha) + s*math.Log(beta)
	alive := -(r+xf)*math.Log(alpha+T) - s*math.Log(beta+T)
	dead := math.Log(s) - math.Log(r+s+xf) + m.logA0(xf, tx, T)
	return a1 + logAddExp(alive, dead)
}

// logA0 is the log of the note's A₀, the integral over the customer having
// dropped out between t_x and T, written so that ₂F₁'s argument
// |α−β|/(max(α,β)+t) stays in [0, 1).
func (m ParetoNBD) logA0(x, tx, T float64) float64 {
	r, s := m.R, m.S
	hi, lo, b := m.Alpha, m.Beta, s+1
	if m.Alpha < m.Beta {
		hi, lo, b = m.Beta, m.Alpha, r+x
	}
	rsx := r + s + x
	term := func(t float64) float64 {
		f := mathext.Hypergeo(rsx, b, rsx+1, (hi-lo)/(hi+t))
		return math.Log(f) - rsx*math.Log(hi+t)
	}
	at, aT := term(tx), term(T)
	if !(at > aT) {
		return math.Inf(-1)
	}
	// log(e^at − e^aT) without cancelling to zero.
	return at + math.Log(-math.Expm1(aT-at))
}

// PAlive is the probability that the customer is still active.
func (m ParetoNBD) PAlive(x int, tx, T float64) float64 {
	xf := float64(x)
	logOdds := math.Log(m.S) - math.Log(m.R+m.S+xf) + (m.R+xf)*math.Log(m.Alpha+T) +
		m.S*math.Log(m.Beta+T) + m.logA0(xf, tx, T)
	return 1 / (1 + math.Exp(logOdds))
}

// ExpectedPurchases is the expected number of purchases in the next t units
// of a customer with x repeat purchases, the last at t_x, observed for T.
func (m ParetoNBD) ExpectedPurchases(t float64, x int, tx, T float64) float64 {
	r, alpha, s, beta, xf := m.R, m.Alpha, m.S, m.Beta, float64(x)
	// E[Y(t) | alive] = (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)];
	// at s = 1 the bracket over (s−1) tends to log((β+T+t)/(β+T)).
	ratio := math.Log(beta+T) - math.Log(beta+T+t)
	var horizon float64
	if math.Abs(s-1) < 1e-9 {
		horizon = -ratio
	} else {
		horizon = -math.Expm1((s-1)*ratio) / (s - 1)
	}
	active := (r + xf) * (beta + T) / (alpha + T) * horizon
	return active * m.PAlive(x, tx, T)
}

// FitParetoNBD fits a Pareto/NBD model by maximum likelihood. Each
// likelihood term needs two ₂F₁ evaluations and the gradient is taken by
// finite differences, so this fit is much slower than FitBGNBD; it is
// offered for comparison on data sets of moderate size. The report's Quality
// holds the convergence figures and the standard errors "se_r",
// "se_alpha", "se_s", "se_beta".
func FitParetoNBD(ctx context.Context, data []predict.Summary, opt FitOptions) (ParetoNBD, predict.ModelReport, error) {
	if err := validate(data); err != nil {
		return ParetoNBD{}, predict.ModelReport{}, fmt.Errorf("btyd: fit Pareto/NBD: %w", err)
	}
	tp := groupSummaries(data, func(predict.Summary) bool { return true })
	if tp.n == 0 {
		return ParetoNBD{}, predict.ModelReport{}, fmt.Errorf("btyd: fit Pareto/NBD: %w", ErrNoData)
	}
	value := func(lp []float64) float64 { return -tp.paretoMeanLL(lp, opt.Workers) }
	p := problem{eval: func(x, grad []float64) float64 {
		if grad != nil {
			fd.Gradient(grad, value, x, &fd.Settings{Formula: fd.Central})
		}
		return value(x)
	}}
	start := bgnbdStart(tp)
	sol, err := minimize(ctx, p, []float64{start[0], start[1], 0, start[1]}, opt)
	if err != nil {
		return ParetoNBD{}, predict.ModelReport{}, fmt.Errorf("btyd: fit Pareto/NBD on %d customers: %w", int(tp.n), err)
	}
	v := expAll(sol.x)
	m := ParetoNBD{R: v[0], Alpha: v[1], S: v[2], Beta: v[3]}
	rep := predict.ModelReport{
		Name: "pareto_nbd", Params: m.Params(), LogLikelihood: -sol.f * tp.n,
		FitAt: opt.now(), AsOf: opt.AsOf, N: int(tp.n),
		Quality: convergenceQuality(sol),
	}
	addStandardErrors(rep.Quality, []string{"r", "alpha", "s", "beta"}, standardErrors(p.eval, sol.x, tp.n))
	return m, rep, nil
}

// paretoMeanLL is the mean log-likelihood at log-parameters lp. A point
// where some term is not finite (₂F₁ overflowing far from the optimum)
// gets −Inf, which the optimisers treat as a wall.
func (tp *tuples) paretoMeanLL(lp []float64, workers int) float64 {
	m := ParetoNBD{R: math.Exp(lp[0]), Alpha: math.Exp(lp[1]), S: math.Exp(lp[2]), Beta: math.Exp(lp[3])}
	sum, _ := parallelSum(len(tp.x), 0, workers, func(lo, hi int, _ []float64) float64 {
		var s float64
		for i := lo; i < hi; i++ {
			s += tp.w[i] * m.LogLikelihood(int(tp.x[i]), tp.tx[i], tp.t[i])
		}
		return s
	})
	if math.IsNaN(sum) {
		return math.Inf(-1)
	}
	return sum / tp.n
}
