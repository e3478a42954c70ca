package btyd

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"

	"github.com/mosaic-cdp/mosaic/predict"
)

// FitBGNBD fits a BG/NBD model to customer summaries by maximum likelihood.
// Every summary counts, one-time buyers included: they carry most of the
// information about the purchase rate. The report's Quality holds
// "ll_per_customer", "iterations", "gradient_norm", the standard errors
// "se_r", "se_alpha", "se_a", "se_b", and the in-sample check
// of the paper's Figure 2: "repeats_actual" (Σx) against "repeats_expected"
// (Σ E[X(T)]) and their relative difference "repeats_error".
func FitBGNBD(ctx context.Context, data []predict.Summary, opt FitOptions) (BGNBD, predict.ModelReport, error) {
	if err := validate(data); err != nil {
		return BGNBD{}, predict.ModelReport{}, fmt.Errorf("btyd: fit BG/NBD: %w", err)
	}
	tp := groupSummaries(data, func(predict.Summary) bool { return true })
	if tp.n == 0 {
		return BGNBD{}, predict.ModelReport{}, fmt.Errorf("btyd: fit BG/NBD: %w", ErrNoData)
	}
	sub := tp.subsample(20000)
	p := problem{
		eval:   negLL(func(x, grad []float64) float64 { return tp.bgnbdMeanLL(x, grad, opt.Workers) }),
		coarse: func(x []float64) float64 { return -sub.bgnbdMeanLL(x, nil, opt.Workers) },
	}
	sol, err := minimize(ctx, p, bgnbdStart(tp), opt)
	if err != nil {
		return BGNBD{}, predict.ModelReport{}, fmt.Errorf("btyd: fit BG/NBD on %d customers: %w", int(tp.n), err)
	}
	v := expAll(sol.x)
	m := BGNBD{R: v[0], Alpha: v[1], A: v[2], B: v[3]}
	rep := predict.ModelReport{
		Name: "bgnbd", Params: m.Params(), LogLikelihood: -sol.f * tp.n,
		FitAt: opt.now(), AsOf: opt.AsOf, N: int(tp.n),
		Quality: convergenceQuality(sol),
	}
	addStandardErrors(rep.Quality, []string{"r", "alpha", "a", "b"}, standardErrors(p.eval, sol.x, tp.n))
	actual, expected := m.repeats(tp)
	rep.Quality["repeats_actual"] = actual
	rep.Quality["repeats_expected"] = expected
	rep.Quality["repeats_error"] = (expected - actual) / math.Max(actual, 1)
	return m, rep, nil
}

// bgnbdStart is the starting point in log-parameters: r = 1 and α set so
// that the mean purchase rate r/α matches the data's, a = b = 1.
func bgnbdStart(tp tuples) []float64 {
	var purchases, exposure float64
	for i := range tp.x {
		purchases += tp.w[i] * tp.x[i]
		exposure += tp.w[i] * tp.t[i]
	}
	alpha := 1.0
	if purchases > 0 && exposure > 0 {
		alpha = exposure / purchases
	}
	return []float64{0, math.Log(alpha), 0, 0}
}

// repeats returns the actual and the model's expected number of repeat
// purchases in the calibration period, summed over customers.
func (m BGNBD) repeats(tp tuples) (actual, expected float64) {
	byT := make(map[float64]float64)
	for i := range tp.x {
		actual += tp.w[i] * tp.x[i]
		byT[tp.t[i]] += tp.w[i]
	}
	for T, w := range byT {
		expected += w * m.ExpectedPurchasesNew(T)
	}
	return actual, expected
}

// bgnbdMeanLL is the mean log-likelihood at log-parameters lp; when grad is
// not nil it receives the gradient with respect to lp.
func (tp *tuples) bgnbdMeanLL(lp, grad []float64, workers int) float64 {
	r, alpha, a, b := math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2]), math.Exp(lp[3])
	k := newBGNBDTerms(tp.xs, r, alpha, a, b, grad != nil)
	k.logAge, k.invAge = make([]float64, len(tp.ages)), make([]float64, len(tp.ages))
	for i, v := range tp.ages {
		k.logAge[i], k.invAge[i] = math.Log(alpha+v), 1/(alpha+v)
	}
	sum, g := parallelSum(len(tp.x), 4, workers, func(lo, hi int, g []float64) float64 {
		return tp.bgnbdRange(lo, hi, k, g, grad != nil)
	})
	if grad != nil {
		// Chain rule to log-parameters: ∂ℓ/∂log θ = θ ∂ℓ/∂θ.
		for i, theta := range []float64{r, alpha, a, b} {
			grad[i] = g[i] * theta / tp.n
		}
	}
	return sum / tp.n
}

// bgnbdTerms holds what depends on the parameters and x alone.
type bgnbdTerms struct {
	r, alpha, a, b float64
	c, lnA4        []float64 // constant of each x; log a/(b+x−1)
	dr, da, db     []float64 // their derivatives in r, a, b
	logAge, invAge []float64 // log(α+v) and 1/(α+v) of each distinct T or t_x
}

func newBGNBDTerms(xs []float64, r, alpha, a, b float64, withGrad bool) *bgnbdTerms {
	k := &bgnbdTerms{r: r, alpha: alpha, a: a, b: b,
		c: make([]float64, len(xs)), lnA4: make([]float64, len(xs))}
	base := -lgamma(r) + r*math.Log(alpha) + lgamma(a+b) - lgamma(b)
	for i, x := range xs {
		k.c[i] = base + lgamma(r+x) + lgamma(b+x) - lgamma(a+b+x)
		if x > 0 {
			k.lnA4[i] = math.Log(a) - math.Log(b+x-1)
		}
	}
	if !withGrad {
		return k
	}
	k.dr, k.da, k.db = make([]float64, len(xs)), make([]float64, len(xs)), make([]float64, len(xs))
	psiR, psiAB, psiB := mathext.Digamma(r), mathext.Digamma(a+b), mathext.Digamma(b)
	for i, x := range xs {
		psiABX := mathext.Digamma(a + b + x)
		k.dr[i] = mathext.Digamma(r+x) - psiR + math.Log(alpha)
		k.da[i] = psiAB - psiABX
		k.db[i] = psiAB + mathext.Digamma(b+x) - psiB - psiABX
	}
	return k
}

// bgnbdRange sums the log-likelihood of tuples [lo, hi) and adds its
// gradient in (r, α, a, b) to g. Each customer's likelihood is
// exp(c)·(exp(u) + exp(v)), v present only for repeat buyers; w is the share
// of the second term, which weighs the derivatives of u and v.
func (tp *tuples) bgnbdRange(lo, hi int, k *bgnbdTerms, g []float64, withGrad bool) float64 {
	var sum float64
	for i := lo; i < hi; i++ {
		xi, x, wt := tp.xi[i], tp.x[i], tp.w[i]
		ti, txi := tp.ti[i], tp.txi[i]
		rx := k.r + x
		lnT := k.logAge[ti]
		u := -rx * lnT
		ll, w, lnTx := u, 0.0, 0.0
		if x > 0 {
			lnTx = k.logAge[txi]
			v := k.lnA4[xi] - rx*lnTx
			ll, w = logAddExpShare(u, v)
		}
		sum += wt * (k.c[xi] + ll)
		if !withGrad {
			continue
		}
		g[0] += wt * (k.dr[xi] - (1-w)*lnT - w*lnTx)
		g[1] += wt * (k.r/k.alpha - rx*((1-w)*k.invAge[ti]+w*k.invAge[txi]))
		g[2] += wt * (k.da[xi] + w/k.a)
		if x > 0 {
			g[3] += wt * (k.db[xi] - w/(k.b+x-1))
		} else {
			g[3] += wt * k.db[xi]
		}
	}
	return sum
}

// logAddExpShare returns log(exp(u)+exp(v)) and exp(v)/(exp(u)+exp(v)).
func logAddExpShare(u, v float64) (float64, float64) {
	if d := v - u; d > 0 {
		e := math.Exp(-d)
		return v + math.Log1p(e), 1 / (1 + e)
	} else {
		e := math.Exp(d)
		return u + math.Log1p(e), e / (1 + e)
	}
}

// validate rejects summaries no model can read.
func validate(data []predict.Summary) error {
	for i, s := range data {
		bad := s.X < 0 || !(s.T >= 0) || !(s.Tx >= 0) || s.Tx > s.T || math.IsInf(s.T, 0)
		if bad {
			return fmt.Errorf("summary %d has x=%d t_x=%g T=%g; want x ≥ 0 and 0 ≤ t_x ≤ T (build summaries with predict.Summarize)", i, s.X, s.Tx, s.T)
		}
	}
	return nil
}
