package btyd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// FitOptions controls a model fit.
type FitOptions struct {
	// AsOf is the date the data were cut at; it is only recorded in the
	// report.
	AsOf time.Time
	// Now tells the fit time for the report. Default: time.Now.
	Now func() time.Time
	// Workers is how many goroutines evaluate the likelihood. Default:
	// GOMAXPROCS.
	Workers int
	// Progress, when set, is called after every optimiser iteration.
	Progress func(Progress)
}

// Progress reports how far a fit is.
type Progress struct {
	// Stage is "search" (Nelder-Mead) or "refine" (BFGS).
	Stage string
	// Iteration counts the stage's iterations from 1.
	Iteration int
	// LogLikelihood is the current mean log-likelihood per customer.
	LogLikelihood float64
}

func (o FitOptions) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// ErrNoData is returned by a fit that has no usable customer.
var ErrNoData = errors.New("no customer to fit on")

// problem is a negative mean log-likelihood over log-parameters.
type problem struct {
	// eval returns the objective at x and, when grad is not nil, writes its
	// gradient there.
	eval func(x, grad []float64) float64
	// coarse is a cheaper approximation used by Nelder-Mead to find the
	// basin (a subsample); nil means eval.
	coarse func(x []float64) float64
}

// negLL turns a mean log-likelihood with its gradient into the objective
// the optimisers minimise.
func negLL(meanLL func(x, grad []float64) float64) func(x, grad []float64) float64 {
	return func(x, grad []float64) float64 {
		v := meanLL(x, grad)
		for i := range grad {
			grad[i] = -grad[i]
		}
		return -v
	}
}

// solution is where the optimiser stopped.
type solution struct {
	x          []float64
	f          float64 // objective: negative mean log-likelihood
	gradNorm   float64 // infinity norm of the gradient at x
	iterations int
}

// minimize runs Nelder-Mead from x0 to find the basin (on the coarse
// objective when there is one), then BFGS with the gradient from there.
func minimize(ctx context.Context, p problem, x0 []float64, opt FitOptions) (solution, error) {
	coarse := p.coarse
	if coarse == nil {
		coarse = func(x []float64) float64 { return p.eval(x, nil) }
	}
	nm, err := optimize.Minimize(optimize.Problem{Func: coarse}, x0, &optimize.Settings{
		Converger:       &optimize.FunctionConverge{Absolute: 1e-6, Relative: 1e-6, Iterations: 20},
		MajorIterations: 4000,
		Recorder:        &recorder{ctx: ctx, stage: "search", progress: opt.Progress},
	}, &optimize.NelderMead{SimplexSize: 0.5})
	if err != nil && (nm == nil || ctx.Err() != nil) {
		return solution{}, fmt.Errorf("searching for the maximum: %w", err)
	}
	best := solution{x: nm.X, iterations: nm.MajorIterations}
	best.f = p.eval(best.x, nil)
	bfgs := refine(ctx, p, nm.X, opt)
	if ctx.Err() != nil {
		return solution{}, ctx.Err()
	}
	if bfgs != nil && isFinite(bfgs.X) && bfgs.F <= best.f {
		best.x, best.f = bfgs.X, bfgs.F
		best.iterations += bfgs.MajorIterations
	}
	grad := make([]float64, len(x0))
	p.eval(best.x, grad)
	best.gradNorm = floats.Norm(grad, math.Inf(1))
	if math.IsNaN(best.f) || math.IsInf(best.f, 0) || !isFinite(best.x) {
		return solution{}, errors.New("the likelihood is not finite at any point tried")
	}
	return best, nil
}

// standardErrors returns the asymptotic standard errors of the parameters
// θ = exp(x) at the maximum x of a mean log-likelihood over n customers: the
// inverse of the observed information n·H, H the Hessian of the negative
// mean log-likelihood in x (central differences of the gradient), mapped to
// θ by the delta method, se(θ) = θ·se(log θ). NaN where H is not invertible.
func standardErrors(eval func(x, grad []float64) float64, x []float64, n float64) []float64 {
	dim := len(x)
	h := mat.NewDense(dim, dim, nil)
	fd.Jacobian(h, func(g, x []float64) { eval(x, g) }, x, &fd.JacobianSettings{Formula: fd.Central})
	sym := mat.NewSymDense(dim, nil)
	for i := range dim {
		for j := i; j < dim; j++ {
			sym.SetSym(i, j, (h.At(i, j)+h.At(j, i))/2)
		}
	}
	se := make([]float64, dim)
	var inv mat.Dense
	if err := inv.Inverse(sym); err != nil {
		for i := range se {
			se[i] = math.NaN()
		}
		return se
	}
	for i := range dim {
		se[i] = math.Exp(x[i]) * math.Sqrt(inv.At(i, i)/n)
	}
	return se
}

// convergenceQuality holds the figures every maximum-likelihood fit
// reports: "converged" is 1 when the gradient of the mean log-likelihood
// (in log-parameters) is below 1e-5, where parameters are good to far
// more digits than anyone reads.
func convergenceQuality(sol solution) map[string]float64 {
	converged := 0.0
	if sol.gradNorm < 1e-5 {
		converged = 1
	}
	return map[string]float64{
		"ll_per_customer": -sol.f,
		"iterations":      float64(sol.iterations),
		"gradient_norm":   sol.gradNorm,
		"converged":       converged,
	}
}

// addStandardErrors records the standard errors as "se_<name>" quality
// figures.
func addStandardErrors(quality map[string]float64, names []string, se []float64) {
	for i, name := range names {
		quality["se_"+name] = se[i]
	}
}

// refine runs BFGS from x0. Its error is dropped on purpose: BFGS's line
// search often "fails" a hair from the optimum, where the objective no
// longer changes in double precision, and the result it returns with that
// error is still its best point, which minimize keeps when it is better.
func refine(ctx context.Context, p problem, x0 []float64, opt FitOptions) *optimize.Result {
	var cache evalCache
	res, _ := optimize.Minimize(optimize.Problem{
		Func: func(x []float64) float64 { return cache.value(p.eval, x) },
		Grad: func(g, x []float64) { copy(g, cache.grad(p.eval, x)) },
	}, x0, &optimize.Settings{
		GradientThreshold: 1e-9,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-14, Relative: 1e-14, Iterations: 20},
		MajorIterations:   500,
		Recorder:          &recorder{ctx: ctx, stage: "refine", progress: opt.Progress},
	}, &optimize.BFGS{})
	return res
}

// evalCache remembers the last evaluation so that gonum's separate Func and
// Grad calls at one point cost one pass over the data.
type evalCache struct {
	x, g []float64
	f    float64
}

func (c *evalCache) update(eval func(x, grad []float64) float64, x []float64) {
	if c.x != nil && floats.Equal(c.x, x) {
		return
	}
	c.x = append(c.x[:0], x...)
	c.g = make([]float64, len(x))
	c.f = eval(x, c.g)
}

func (c *evalCache) value(eval func(x, grad []float64) float64, x []float64) float64 {
	c.update(eval, x)
	return c.f
}

func (c *evalCache) grad(eval func(x, grad []float64) float64, x []float64) []float64 {
	c.update(eval, x)
	return c.g
}

// recorder reports progress and stops the optimiser when ctx is done.
type recorder struct {
	ctx      context.Context
	stage    string
	progress func(Progress)
	n        int
}

// Init implements optimize.Recorder.
func (r *recorder) Init() error { return r.ctx.Err() }

// Record implements optimize.Recorder.
func (r *recorder) Record(loc *optimize.Location, op optimize.Operation, _ *optimize.Stats) error {
	if op == optimize.MajorIteration && r.progress != nil {
		r.n++
		r.progress(Progress{Stage: r.stage, Iteration: r.n, LogLikelihood: -loc.F})
	}
	return r.ctx.Err()
}

// expAll returns exp of each log-parameter.
func expAll(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Exp(v)
	}
	return out
}

func isFinite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
