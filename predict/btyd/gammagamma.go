package btyd

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat"

	"github.com/mosaic-cdp/mosaic/predict"
)

// GammaGamma is a fitted Gamma-Gamma spend model (Fader, Hardie & Lee 2005,
// "RFM and CLV"). A customer's order values are gamma-distributed with shape
// P around their own mean; the scale parameter ν of that distribution is
// itself gamma-distributed across customers with shape Q and rate Gamma.
// Spend is assumed independent of how often a customer buys; the fit
// reports the correlation between the two so that this can be checked.
type GammaGamma struct {
	P, Q, Gamma float64
}

// Params returns the parameters under their names in the literature.
func (m GammaGamma) Params() map[string]float64 {
	return map[string]float64{"p": m.P, "q": m.Q, "gamma": m.Gamma}
}

// LogLikelihood is the log-likelihood of a customer's mean spend m_x over x
// repeat purchases (x > 0, m_x > 0): the density of the mean of x values,
// as in the paper's equation (3) and lifetimes' implementation.
func (m GammaGamma) LogLikelihood(x int, meanSpend float64) float64 {
	xf := float64(x)
	px := m.P * xf
	return lgamma(px+m.Q) - lgamma(px) - lgamma(m.Q) + m.Q*math.Log(m.Gamma) +
		(px-1)*math.Log(meanSpend) + px*math.Log(xf) - (px+m.Q)*math.Log(m.Gamma+meanSpend*xf)
}

// ExpectedSpend is the expected value of a customer's future orders given
// the mean m_x of their x repeat purchases: equation (5) of the paper,
// a weighted average of the population mean and the customer's own mean
// whose weight on the latter grows with x. With x = 0 it is the population
// mean.
func (m GammaGamma) ExpectedSpend(x int, meanSpend float64) float64 {
	xf := float64(x)
	return m.P * (m.Gamma + xf*meanSpend) / (m.P*xf + m.Q - 1)
}

// MeanSpend is the population's mean order value, pγ/(q−1); infinite when
// q ≤ 1, where the model has no mean.
func (m GammaGamma) MeanSpend() float64 {
	if m.Q <= 1 {
		return math.Inf(1)
	}
	return m.P * m.Gamma / (m.Q - 1)
}

// FitGammaGamma fits the spend model by maximum likelihood on the repeat
// buyers (X > 0 and MeanRepeatSpend > 0); other summaries are left out, as
// the model is defined on repeat purchases. The report's Quality holds
// "ll_per_customer", "iterations", "gradient_norm", the standard errors
// "se_p", "se_q", "se_gamma", "mean_spend_observed"
// (mean of m_x), "mean_spend_model" (pγ/(q−1)) and "frequency_spend_corr",
// the Pearson correlation between x and m_x, which should be near 0 for the
// model's independence assumption to hold.
func FitGammaGamma(ctx context.Context, data []predict.Summary, opt FitOptions) (GammaGamma, predict.ModelReport, error) {
	sp := newSpends(data)
	if len(sp.m) == 0 {
		return GammaGamma{}, predict.ModelReport{}, fmt.Errorf("btyd: fit Gamma-Gamma: %w: no repeat buyer with positive spend", ErrNoData)
	}
	sub := sp.subsample(20000)
	p := problem{
		eval:   negLL(func(x, grad []float64) float64 { return sp.meanLL(x, grad, opt.Workers) }),
		coarse: func(x []float64) float64 { return -sub.meanLL(x, nil, opt.Workers) },
	}
	sol, err := minimize(ctx, p, []float64{0, 0, math.Log(sp.mean())}, opt)
	if err != nil {
		return GammaGamma{}, predict.ModelReport{}, fmt.Errorf("btyd: fit Gamma-Gamma on %d repeat buyers: %w", len(sp.m), err)
	}
	v := expAll(sol.x)
	m := GammaGamma{P: v[0], Q: v[1], Gamma: v[2]}
	rep := predict.ModelReport{
		Name: "gamma_gamma", Params: m.Params(), LogLikelihood: -sol.f * sp.n,
		FitAt: opt.now(), AsOf: opt.AsOf, N: len(sp.m),
		Quality: convergenceQuality(sol),
	}
	rep.Quality["mean_spend_observed"] = sp.mean()
	rep.Quality["mean_spend_model"] = m.MeanSpend()
	rep.Quality["frequency_spend_corr"] = stat.Correlation(sp.x, sp.m, nil)
	addStandardErrors(rep.Quality, []string{"p", "q", "gamma"}, standardErrors(p.eval, sol.x, sp.n))
	return m, rep, nil
}

// spends are the repeat buyers' (x, m_x), with the logs that do not depend
// on the parameters computed once.
type spends struct {
	x, m, lnX, lnM []float64
	xi             []int32
	xs             []float64
	n              float64
}

func newSpends(data []predict.Summary) spends {
	var sp spends
	xIndex := make(map[int]int32)
	for _, s := range data {
		if s.X <= 0 || !(s.MeanRepeatSpend > 0) || math.IsInf(s.MeanRepeatSpend, 0) {
			continue
		}
		xi, ok := xIndex[s.X]
		if !ok {
			xi = int32(len(sp.xs))
			xIndex[s.X] = xi
			sp.xs = append(sp.xs, float64(s.X))
		}
		x := float64(s.X)
		sp.x, sp.m, sp.xi = append(sp.x, x), append(sp.m, s.MeanRepeatSpend), append(sp.xi, xi)
		sp.lnX, sp.lnM = append(sp.lnX, math.Log(x)), append(sp.lnM, math.Log(s.MeanRepeatSpend))
	}
	sp.n = float64(len(sp.m))
	return sp
}

// subsample returns about n of the repeat buyers, every k-th, for
// Nelder-Mead's search of the basin.
func (sp spends) subsample(n int) spends {
	if len(sp.m) <= n {
		return sp
	}
	step := len(sp.m) / n
	s := spends{xs: sp.xs}
	for i := 0; i < len(sp.m); i += step {
		s.x, s.m, s.xi = append(s.x, sp.x[i]), append(s.m, sp.m[i]), append(s.xi, sp.xi[i])
		s.lnX, s.lnM = append(s.lnX, sp.lnX[i]), append(s.lnM, sp.lnM[i])
	}
	s.n = float64(len(s.m))
	return s
}

func (sp spends) mean() float64 { return stat.Mean(sp.m, nil) }

// meanLL is the mean log-likelihood at log-parameters lp (log p, log q,
// log γ), with its gradient in lp written to grad when not nil.
func (sp spends) meanLL(lp, grad []float64, workers int) float64 {
	p, q, g := math.Exp(lp[0]), math.Exp(lp[1]), math.Exp(lp[2])
	// Per distinct x: the log-gammas and, for the gradient, the digammas.
	c := make([]float64, len(sp.xs))
	dp, dq := make([]float64, len(sp.xs)), make([]float64, len(sp.xs))
	base := -lgamma(q) + q*math.Log(g)
	for i, x := range sp.xs {
		c[i] = base + lgamma(p*x+q) - lgamma(p*x)
		if grad != nil {
			psi := mathext.Digamma(p*x + q)
			dp[i] = x * (psi - mathext.Digamma(p*x))
			dq[i] = psi - mathext.Digamma(q) + math.Log(g)
		}
	}
	sum, d := parallelSum(len(sp.m), 3, workers, func(lo, hi int, d []float64) float64 {
		var s float64
		for i := lo; i < hi; i++ {
			x, xi := sp.x[i], sp.xi[i]
			px := p * x
			lnD := math.Log(g + sp.m[i]*x)
			s += c[xi] + (px-1)*sp.lnM[i] + px*sp.lnX[i] - (px+q)*lnD
			if grad != nil {
				d[0] += dp[xi] + x*(sp.lnM[i]+sp.lnX[i]-lnD)
				d[1] += dq[xi] - lnD
				d[2] += q/g - (px+q)/(g+sp.m[i]*x)
			}
		}
		return s
	})
	if grad != nil {
		for i, theta := range []float64{p, q, g} {
			grad[i] = d[i] * theta / sp.n
		}
	}
	return sum / sp.n
}
