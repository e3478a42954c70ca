package predict

import (
	"math"
	"testing"
	"time"
)

func TestChurnRisk(t *testing.T) {
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	month := 30 * 24 * time.Hour
	tests := []struct {
		name    string
		in      ChurnInput
		want    float64
		wantOK  bool
		wantEng float64
	}{
		{"purchase only", ChurnInput{PurchaseRisk: 0.4}, 0.4, true, math.NaN()},
		{"engaged today", ChurnInput{PurchaseRisk: 0.4, LastEngagement: asOf}, 0.7 * 0.4, true, 0},
		{"silent one half-life", ChurnInput{PurchaseRisk: 0.4, LastEngagement: asOf.Add(-month)}, 0.7*0.4 + 0.3*0.5, true, 0.5},
		{"engagement only", ChurnInput{PurchaseRisk: math.NaN(), LastEngagement: asOf.Add(-2 * month)}, 0.75, true, 0.75},
		{"future engagement counts as now", ChurnInput{PurchaseRisk: 1, LastEngagement: asOf.Add(time.Hour)}, 0.7, true, 0},
		{"nothing known", ChurnInput{PurchaseRisk: math.NaN()}, 0, false, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ChurnRisk(tt.in, asOf, ChurnOptions{})
			if ok != tt.wantOK || math.Abs(got.Risk-tt.want) > 1e-12 {
				t.Errorf("ChurnRisk(%+v) = %.4f, %v; want %.4f, %v", tt.in, got.Risk, ok, tt.want, tt.wantOK)
			}
			if !(math.IsNaN(tt.wantEng) && math.IsNaN(got.EngagementRisk)) && math.Abs(got.EngagementRisk-tt.wantEng) > 1e-12 {
				t.Errorf("ChurnRisk(%+v).EngagementRisk = %.4f, want %.4f", tt.in, got.EngagementRisk, tt.wantEng)
			}
		})
	}
}

func TestChurnRiskOptions(t *testing.T) {
	asOf := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	in := ChurnInput{PurchaseRisk: 0.2, LastEngagement: asOf.Add(-7 * 24 * time.Hour)}
	got, _ := ChurnRisk(in, asOf, ChurnOptions{EngagementWeight: 1, HalfLife: 7 * 24 * time.Hour})
	if got.Risk != 0.5 {
		t.Errorf("ChurnRisk with all weight on engagement, silent one half-life = %.4f, want 0.5", got.Risk)
	}
}
