package btyd

import (
	"context"
	"testing"
)

// benchPopulation is a customer base acquired over two years, CDNOW-like
// in behaviour.
var benchPopulation = population{bg: cdnowModel, gg: cdnowSpend, tMin: 1, tMax: 104}

// BenchmarkFit1M fits BG/NBD and Gamma-Gamma on 1,000,000 customers, as
// one scheduled refit does. "dated" summaries are built from order dates
// (predict.Summarize), so many customers share (x, t_x, T); "continuous"
// ones have times to the nanosecond and share nothing, the worst case.
func BenchmarkFit1M(b *testing.B) {
	for _, bc := range []struct {
		name    string
		dayGrid bool
	}{{"dated", true}, {"continuous", false}} {
		b.Run(bc.name, func(b *testing.B) {
			pop := benchPopulation
			pop.dayGrid = bc.dayGrid
			data := summaries(pop.draw(1, 1_000_000))
			for b.Loop() {
				if _, _, err := FitBGNBD(context.Background(), data, FitOptions{}); err != nil {
					b.Fatal(err)
				}
				if _, _, err := FitGammaGamma(context.Background(), data, FitOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScore scores profiles one at a time (Score) and in bulk
// (ScoreAll over 1,000,000 dated summaries), reporting profiles per second.
func BenchmarkScore(b *testing.B) {
	pop := benchPopulation
	pop.dayGrid = true
	data := summaries(pop.draw(2, 1_000_000))
	s, err := NewScorer(cdnowModel, cdnowSpend, DefaultScoreOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("one", func(b *testing.B) {
		var sink float64
		i := 0
		for b.Loop() {
			sink += s.Score(data[i%len(data)]).CLV
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "profiles/s")
	})
	b.Run("all", func(b *testing.B) {
		out := make([]Score, len(data))
		for b.Loop() {
			s.ScoreAll(data, out, 0)
		}
		b.ReportMetric(float64(b.N*len(data))/b.Elapsed().Seconds(), "profiles/s")
	})
}
