package predict

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSegmentOf(t *testing.T) {
	tests := []struct {
		r, f int
		want Segment
	}{
		{5, 5, Champions}, {5, 4, Champions}, {4, 5, LoyalCustomers}, {3, 4, LoyalCustomers},
		{5, 2, PotentialLoyalists}, {4, 3, PotentialLoyalists}, {5, 1, NewCustomers}, {4, 1, Promising},
		{3, 3, NeedAttention}, {3, 1, AboutToSleep}, {3, 2, AboutToSleep}, {2, 3, AtRisk}, {1, 4, AtRisk},
		{2, 5, CantLoseThem}, {1, 5, CantLoseThem}, {2, 2, Hibernating}, {1, 2, Hibernating}, {2, 1, Hibernating},
		{1, 1, Lost}, {0, 9, CantLoseThem},
	}
	seen := make(map[Segment]bool)
	for _, tt := range tests {
		if got := SegmentOf(tt.r, tt.f); got != tt.want {
			t.Errorf("SegmentOf(%d, %d) = %q, want %q", tt.r, tt.f, got, tt.want)
		}
		seen[tt.want] = true
	}
	if len(seen) != 11 {
		t.Errorf("the table covers %d segments, want all 11", len(seen))
	}
}

func TestScoreRFM(t *testing.T) {
	day := 24 * time.Hour
	// Ten customers: recency 1…10 days, frequency 10…1, monetary 100…1000.
	var in []RFMInput
	for i := range 10 {
		in = append(in, RFMInput{Recency: time.Duration(i+1) * day, Frequency: float64(10 - i), Monetary: float64(100 * (i + 1))})
	}
	got := ScoreRFM(in)
	want := []RFM{
		{5, 5, 1, Champions}, {5, 5, 1, Champions}, {4, 4, 2, LoyalCustomers}, {4, 4, 2, LoyalCustomers},
		{3, 3, 3, NeedAttention}, {3, 3, 3, NeedAttention}, {2, 2, 4, Hibernating}, {2, 2, 4, Hibernating},
		{1, 1, 5, Lost}, {1, 1, 5, Lost},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ScoreRFM mismatch (-want +got):\n%s", diff)
	}
}

// TestScoreRFMTies checks that equal values get equal scores: with 60% of
// customers buying once, all of them get F = 1 and the rest spread above.
func TestScoreRFMTies(t *testing.T) {
	var in []RFMInput
	for i := range 100 {
		f := 1.0
		if i >= 60 {
			f = float64(2 + (i-60)/10)
		}
		in = append(in, RFMInput{Recency: time.Hour, Frequency: f, Monetary: 10})
	}
	got := ScoreRFM(in)
	counts := make(map[int]int)
	for _, s := range got {
		counts[s.F]++
		if s.R != 1 || s.M != 1 {
			t.Fatalf("all-equal recency and monetary scored R=%d M=%d, want 1 and 1", s.R, s.M)
		}
	}
	if diff := cmp.Diff(map[int]int{1: 60, 4: 20, 5: 20}, counts); diff != "" {
		t.Errorf("frequency score counts mismatch (-want +got):\n%s", diff)
	}
}

func TestRFMScorerNewCustomer(t *testing.T) {
	s := NewRFMScorer([]RFMInput{{Recency: 10 * time.Hour, Frequency: 3, Monetary: 50}, {Recency: 20 * time.Hour, Frequency: 1, Monetary: 20}})
	got := s.Score(RFMInput{Recency: time.Hour, Frequency: 1, Monetary: 0})
	if want := (RFM{R: 5, F: 1, M: 1, Segment: NewCustomers}); got != want {
		t.Errorf("Score(new customer) = %+v, want %+v", got, want)
	}
	if got := NewRFMScorer(nil).Score(RFMInput{}); got.R != 3 || got.F != 3 {
		t.Errorf("Score against no population = %+v, want middle scores", got)
	}
}

func TestRFMInputOf(t *testing.T) {
	s := Summary{X: 2, Revenue: 70, Last: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}
	got := RFMInputOf(s, time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC))
	if want := (RFMInput{Recency: 240 * time.Hour, Frequency: 3, Monetary: 70}); got != want {
		t.Errorf("RFMInputOf = %+v, want %+v", got, want)
	}
}
