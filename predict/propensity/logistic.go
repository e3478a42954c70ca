package propensity

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
)

// Example is one customer at one cutoff: features and whether they bought
// in the following horizon (1) or not (0).
type Example struct {
	X []float64
	Y float64
}

// Model is a fitted logistic regression. Features are standardised with
// the training data's mean and standard deviation, so that the L2 penalty
// treats them alike and the weights compare: a weight is the change in
// log-odds for one standard deviation of its feature.
type Model struct {
	Names     []string
	Mean      []float64
	Scale     []float64
	Weights   []float64
	Intercept float64
}

// Predict returns the probability of a purchase for features x.
func (m *Model) Predict(x []float64) float64 {
	z := m.Intercept
	for j, v := range x {
		z += m.Weights[j] * (v - m.Mean[j]) / m.Scale[j]
	}
	return sigmoid(z)
}

// Contributions returns each feature's share of the log-odds of x against
// an average customer: the inputs that made this prediction, for
// explanations. Their sum plus the intercept is the log-odds.
func (m *Model) Contributions(x []float64) []float64 {
	out := make([]float64, len(x))
	for j, v := range x {
		out[j] = m.Weights[j] * (v - m.Mean[j]) / m.Scale[j]
	}
	return out
}

// ErrOneClass is returned when the training examples are all positive or
// all negative: nothing separates buyers from others.
var ErrOneClass = errors.New("training examples are all of one class")

// Fit fits a logistic regression with an L2 penalty of strength l2 on the
// weights (not the intercept), minimising the mean log-loss plus
// (l2/2)·|w|² with L-BFGS and the analytic gradient.
func Fit(ctx context.Context, names []string, train []Example, l2 float64) (*Model, error) {
	if len(train) == 0 {
		return nil, errors.New("propensity: fit: no training example")
	}
	dim := len(train[0].X)
	if len(names) != dim {
		return nil, fmt.Errorf("propensity: fit: %d names for %d features", len(names), dim)
	}
	var pos float64
	for _, e := range train {
		if len(e.X) != dim {
			return nil, fmt.Errorf("propensity: fit: examples have %d and %d features; build all with Features", dim, len(e.X))
		}
		pos += e.Y
	}
	if pos == 0 || pos == float64(len(train)) {
		return nil, fmt.Errorf("propensity: fit: %w (%d examples)", ErrOneClass, len(train))
	}
	m := standardiser(names, train)
	xs := m.standardise(train)
	start := make([]float64, dim+1)
	base := pos / float64(len(train))
	start[0] = math.Log(base / (1 - base))
	res, err := optimize.Minimize(optimize.Problem{
		Func: func(w []float64) float64 { return objective(w, xs, train, l2, nil) },
		Grad: func(g, w []float64) { objective(w, xs, train, l2, g) },
	}, start, &optimize.Settings{
		GradientThreshold: 1e-7,
		MajorIterations:   1000,
		Recorder:          ctxRecorder{ctx},
	}, &optimize.LBFGS{})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if res == nil {
		return nil, fmt.Errorf("propensity: fit: %w", err)
	}
	m.Intercept, m.Weights = res.X[0], res.X[1:]
	return m, nil
}

// objective is the mean log-loss plus the L2 penalty at w = (intercept,
// weights); with g not nil it writes the gradient there.
func objective(w []float64, xs [][]float64, train []Example, l2 float64, g []float64) float64 {
	for i := range g {
		g[i] = 0
	}
	var loss float64
	for i, x := range xs {
		z := w[0]
		for j, v := range x {
			z += w[j+1] * v
		}
		y := train[i].Y
		// log(1+e^z) − y·z, computed without overflow for large |z|.
		loss += math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - y*z
		if g != nil {
			d := sigmoid(z) - y
			g[0] += d
			for j, v := range x {
				g[j+1] += d * v
			}
		}
	}
	n := float64(len(xs))
	loss /= n
	for j := 1; j < len(w); j++ {
		loss += l2 / 2 * w[j] * w[j]
		if g != nil {
			g[j] = g[j]/n + l2*w[j]
		}
	}
	if g != nil {
		g[0] /= n
	}
	return loss
}

// standardiser returns a model holding the training features' means and
// standard deviations (1 for a constant feature).
func standardiser(names []string, train []Example) *Model {
	dim := len(names)
	m := &Model{Names: names, Mean: make([]float64, dim), Scale: make([]float64, dim)}
	col := make([]float64, len(train))
	for j := range dim {
		for i, e := range train {
			col[i] = e.X[j]
		}
		mean, sd := stat.MeanStdDev(col, nil)
		if !(sd > 1e-12) {
			sd = 1
		}
		m.Mean[j], m.Scale[j] = mean, sd
	}
	return m
}

func (m *Model) standardise(es []Example) [][]float64 {
	out := make([][]float64, len(es))
	for i, e := range es {
		row := make([]float64, len(e.X))
		for j, v := range e.X {
			row[j] = (v - m.Mean[j]) / m.Scale[j]
		}
		out[i] = row
	}
	return out
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// ctxRecorder stops the optimiser when the context is done.
type ctxRecorder struct{ ctx context.Context }

// Init implements optimize.Recorder.
func (r ctxRecorder) Init() error { return r.ctx.Err() }

// Record implements optimize.Recorder.
func (r ctxRecorder) Record(*optimize.Location, optimize.Operation, *optimize.Stats) error {
	return r.ctx.Err()
}
