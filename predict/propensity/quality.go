package propensity

import (
	"math"
	"slices"
)

// Quality measures predicted probabilities against what happened.
type Quality struct {
	// AUC is the probability that a random buyer scores above a random
	// non-buyer: 0.5 is guessing, 1 perfect ranking. NaN with one class.
	AUC float64
	// Brier is the mean squared error of the probabilities; lower is
	// better. BrierBaseline is the Brier score of always predicting the
	// base rate, the bar a useful model must clear.
	Brier, BrierBaseline float64
	// LogLoss is the mean negative log-likelihood of the outcomes.
	LogLoss float64
	// BaseRate is the share of examples that bought.
	BaseRate float64
	// ECE, the expected calibration error, is the examples-weighted mean
	// gap between predicted and observed rates over the bins: 0.02 means
	// predictions are off by two points on average.
	ECE float64
	// Bins is the reliability diagram: examples grouped by predicted
	// probability, with the mean prediction and the observed rate of each.
	Bins []Bin
	// N is the number of examples.
	N int
}

// Bin is one bar of a reliability diagram, for predictions in [Lo, Hi).
type Bin struct {
	Lo, Hi        float64
	N             int
	MeanPredicted float64
	Observed      float64
}

// Evaluate scores the model on examples it was not trained on, with
// reliability bins of equal width (10 when bins ≤ 0).
func Evaluate(m *Model, test []Example, bins int) Quality {
	p, y := make([]float64, len(test)), make([]float64, len(test))
	for i, e := range test {
		p[i], y[i] = m.Predict(e.X), e.Y
	}
	return Measure(p, y, bins)
}

// Measure computes the quality of probabilities p for outcomes y (0 or 1).
func Measure(p, y []float64, bins int) Quality {
	if bins <= 0 {
		bins = 10
	}
	q := Quality{N: len(p), AUC: AUC(p, y), Bins: make([]Bin, bins)}
	if len(p) == 0 {
		return q
	}
	for i, b := range q.Bins {
		b.Lo, b.Hi = float64(i)/float64(bins), float64(i+1)/float64(bins)
		q.Bins[i] = b
	}
	for i := range p {
		q.BaseRate += y[i]
		q.Brier += (p[i] - y[i]) * (p[i] - y[i])
		pc := math.Min(math.Max(p[i], 1e-15), 1-1e-15)
		q.LogLoss -= y[i]*math.Log(pc) + (1-y[i])*math.Log(1-pc)
		b := &q.Bins[min(int(p[i]*float64(bins)), bins-1)]
		b.N++
		b.MeanPredicted += p[i]
		b.Observed += y[i]
	}
	n := float64(len(p))
	q.BaseRate, q.Brier, q.LogLoss = q.BaseRate/n, q.Brier/n, q.LogLoss/n
	q.BrierBaseline = q.BaseRate * (1 - q.BaseRate)
	for i := range q.Bins {
		b := &q.Bins[i]
		if b.N > 0 {
			b.MeanPredicted /= float64(b.N)
			b.Observed /= float64(b.N)
			q.ECE += float64(b.N) / n * math.Abs(b.MeanPredicted-b.Observed)
		}
	}
	return q
}

// AUC is the area under the ROC curve of scores for labels (1 positive,
// 0 negative), by the Mann-Whitney rank statistic with ties given their
// average rank. It is NaN unless both classes are present.
func AUC(scores, labels []float64) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmpFloat(scores[a], scores[b]) })
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 … j
		for k := i; k < j; k++ {
			if labels[idx[k]] > 0.5 {
				rankSum += avg
				pos++
			}
		}
		i = j
	}
	neg := float64(len(scores)) - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
