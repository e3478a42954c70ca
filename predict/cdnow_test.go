package predict_test

import (
	"math"
	"testing"

	"github.com/mosaic-cdp/mosaic/predict"
	"github.com/mosaic-cdp/mosaic/predict/internal/cdnow"
)

// TestCDNOWSummaries builds the calibration summary from the raw CDNOW log
// and checks it against the published one (to its 2 decimals) and the
// totals of the BTYD package.
func TestCDNOWSummaries(t *testing.T) {
	ids, sums := cdnow.Summaries(t)
	published := cdnow.PublishedSummary(t)
	if len(published) != len(sums) {
		t.Fatalf("%d summaries from the log, %d published", len(sums), len(published))
	}
	byID := make(map[string]predict.Summary, len(ids))
	var repeats, buyers int
	for i, id := range ids {
		byID[id] = sums[i]
		repeats += sums[i].X
		if sums[i].X > 0 {
			buyers++
		}
	}
	// Published values are rounded half up to 2 decimals, so 39.805 shows
	// as 39.81: allow half a cent and floating-point dust.
	const tol = 0.005 + 1e-9
	for _, p := range published {
		s := byID[p.ID]
		if s.X != p.X || math.Abs(s.Tx-p.Tx) > tol || math.Abs(s.T-p.T) > tol || math.Abs(s.MeanRepeatSpend-p.MeanSum) > tol {
			t.Errorf("customer %s: (x, t_x, T, m_x) = (%d, %.4f, %.4f, %.4f), published (%d, %.2f, %.2f, %.2f)",
				p.ID, s.X, s.Tx, s.T, s.MeanRepeatSpend, p.X, p.Tx, p.T, p.MeanSum)
		}
	}
	if repeats != 2457 || buyers != 946 {
		t.Errorf("calibration: %d repeat purchases by %d repeat buyers, want 2457 by 946", repeats, buyers)
	}
}

// TestCDNOWFilesAgree checks that the fixed-width text and the CSV event
// log give the same summaries, since either may be imported.
func TestCDNOWFilesAgree(t *testing.T) {
	elog, sample := cdnow.Elog(t), cdnow.Sample(t)
	if len(elog) != 2357 || len(sample) != len(elog) {
		t.Fatalf("customers: %d in cdnowElog.csv, %d in CDNOW_sample.txt; want 2357 in both", len(elog), len(sample))
	}
	for id, orders := range elog {
		a, _ := predict.Summarize(orders, cdnow.CalibrationEnd, predict.SummaryOptions{})
		b, _ := predict.Summarize(sample[id], cdnow.CalibrationEnd, predict.SummaryOptions{})
		if a != b {
			t.Errorf("customer %s: %+v from the CSV, %+v from the text file", id, a, b)
		}
	}
}
