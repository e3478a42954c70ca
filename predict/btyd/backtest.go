package btyd

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"

	"github.com/mosaic-cdp/mosaic/predict"
)

// Backtest compares what a model fitted as of a past date expected each
// customer to buy in the following horizon units with what they bought:
// actual[i] is the number of purchase days of the customer summarised in
// data[i] (predict.PurchaseDays). This is the check of the paper's
// conditional expectations (its Figure 5), and the quality figure of a fit
// run as of a past date. It returns "holdout_actual" and
// "holdout_expected" (totals), "holdout_error" (their relative difference),
// "holdout_mae" (mean absolute error per customer) and "holdout_corr"
// (Pearson correlation between expected and actual per customer).
func (m BGNBD) Backtest(data []predict.Summary, actual []int, horizon float64) (map[string]float64, error) {
	if len(data) != len(actual) {
		return nil, fmt.Errorf("btyd: backtest: %d summaries but %d actual counts; pass one count per summary", len(data), len(actual))
	}
	expected, got := make([]float64, len(data)), make([]float64, len(data))
	var sumE, sumA, absErr float64
	for i, s := range data {
		expected[i] = m.ExpectedPurchases(horizon, s.X, s.Tx, s.T)
		got[i] = float64(actual[i])
		sumE += expected[i]
		sumA += got[i]
		absErr += math.Abs(expected[i] - got[i])
	}
	n := math.Max(float64(len(data)), 1)
	return map[string]float64{
		"holdout_actual":   sumA,
		"holdout_expected": sumE,
		"holdout_error":    (sumE - sumA) / math.Max(sumA, 1),
		"holdout_mae":      absErr / n,
		"holdout_corr":     stat.Correlation(expected, got, nil),
	}, nil
}
