package btyd

import (
	"math"
	"runtime"
	"sync"

	"github.com/mosaic-cdp/mosaic/predict"
)

// tuples is a set of customer summaries with identical ones grouped: the
// likelihood of a model is a weighted sum over distinct (x, t_x, T).
type tuples struct {
	x, tx, t, w []float64
	// xi indexes each tuple's x into xs, the distinct x values, so that
	// terms that depend on x alone (log-gammas, digammas) are computed once
	// per distinct x rather than once per customer. ti and txi do the same
	// for T and t_x into ages, the distinct values of both: data dated by
	// day have a few hundred, so log(α+T) costs nothing per customer.
	xi, ti, txi []int32
	xs, ages    []float64
	n           float64 // total weight: the number of customers
}

type tupleKey struct {
	x     int
	tx, t float64
}

// groupSummaries builds the tuples of the summaries keep accepts.
func groupSummaries(data []predict.Summary, keep func(predict.Summary) bool) tuples {
	index := make(map[tupleKey]int32)
	xIndex, ageIndex := make(map[int]int32), make(map[float64]int32)
	var tp tuples
	age := func(v float64) int32 {
		i, ok := ageIndex[v]
		if !ok {
			i = int32(len(tp.ages))
			ageIndex[v] = i
			tp.ages = append(tp.ages, v)
		}
		return i
	}
	for _, s := range data {
		if !keep(s) {
			continue
		}
		tp.n++
		k := tupleKey{s.X, s.Tx, s.T}
		if i, ok := index[k]; ok {
			tp.w[i]++
			continue
		}
		xi, ok := xIndex[s.X]
		if !ok {
			xi = int32(len(tp.xs))
			xIndex[s.X] = xi
			tp.xs = append(tp.xs, float64(s.X))
		}
		index[k] = int32(len(tp.x))
		tp.x, tp.tx, tp.t = append(tp.x, float64(s.X)), append(tp.tx, s.Tx), append(tp.t, s.T)
		tp.w, tp.xi = append(tp.w, 1), append(tp.xi, xi)
		tp.ti, tp.txi = append(tp.ti, age(s.T)), append(tp.txi, age(s.Tx))
	}
	return tp
}

// subsample returns about n tuples, every k-th, with weights scaled so the
// total weight is kept: a cheap stand-in for the full data while Nelder-Mead
// looks for the basin.
func (tp tuples) subsample(n int) tuples {
	if len(tp.x) <= n {
		return tp
	}
	step := len(tp.x) / n
	s := tuples{xs: tp.xs, ages: tp.ages}
	for i := 0; i < len(tp.x); i += step {
		s.x, s.tx, s.t = append(s.x, tp.x[i]), append(s.tx, tp.tx[i]), append(s.t, tp.t[i])
		s.w, s.xi = append(s.w, tp.w[i]), append(s.xi, tp.xi[i])
		s.ti, s.txi = append(s.ti, tp.ti[i]), append(s.txi, tp.txi[i])
		s.n += tp.w[i]
	}
	scale := tp.n / s.n
	for i := range s.w {
		s.w[i] *= scale
	}
	s.n = tp.n
	return s
}

// parallelSum splits [0, n) into one range per worker, runs term on each and
// adds their results (a value and a gradient of dim entries). Small inputs
// run on the calling goroutine: starting goroutines costs more than it saves.
func parallelSum(n, dim, workers int, term func(lo, hi int, grad []float64) float64) (float64, []float64) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if n < 20000 || workers == 1 {
		grad := make([]float64, dim)
		return term(0, n, grad), grad
	}
	values := make([]float64, workers)
	grads := make([][]float64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		grads[w] = make([]float64, dim)
		wg.Go(func() {
			values[w] = term(n*w/workers, n*(w+1)/workers, grads[w])
		})
	}
	wg.Wait()
	total, grad := 0.0, make([]float64, dim)
	for w := range workers {
		total += values[w]
		for i := range grad {
			grad[i] += grads[w][i]
		}
	}
	return total, grad
}

// logAddExp returns log(exp(a) + exp(b)) without overflow.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}
