package predict

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// at parses "2006-01-02" or "2006-01-02 15:04" as UTC.
func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t, err = time.Parse("2006-01-02", s)
	}
	if err != nil {
		panic(err)
	}
	return t
}

func TestSummarize(t *testing.T) {
	asOf := at("2024-03-29")
	tests := []struct {
		name   string
		orders []Order
		opt    SummaryOptions
		want   Summary
		ok     bool
	}{
		{"no order", nil, SummaryOptions{}, Summary{}, false},
		{"one order", []Order{{Time: at("2024-03-01 10:00"), Revenue: 20}},
			SummaryOptions{}, Summary{X: 0, Tx: 0, T: 4, Revenue: 20, First: at("2024-03-01"), Last: at("2024-03-01")}, true},
		{"same day combined, first not counted", []Order{
			{Time: at("2024-03-15 18:00"), Revenue: 5},
			{Time: at("2024-03-01 09:00"), Revenue: 20},
			{Time: at("2024-03-15 08:00"), Revenue: 10},
			{Time: at("2024-03-08 12:00"), Revenue: 7},
		}, SummaryOptions{}, Summary{X: 2, Tx: 2, T: 4, MeanRepeatSpend: 11, Revenue: 42,
			First: at("2024-03-01"), Last: at("2024-03-15")}, true},
		{"orders after as-of ignored", []Order{
			{Time: at("2024-03-01"), Revenue: 20},
			{Time: at("2024-03-29 00:00"), Revenue: 4},
			{Time: at("2024-03-29 09:00"), Revenue: 99},
		}, SummaryOptions{}, Summary{X: 1, Tx: 4, T: 4, MeanRepeatSpend: 4, Revenue: 24,
			First: at("2024-03-01"), Last: at("2024-03-29")}, true},
		{"start cuts the history", []Order{
			{Time: at("2023-12-01"), Revenue: 50},
			{Time: at("2024-03-01"), Revenue: 20},
			{Time: at("2024-03-15"), Revenue: 8},
		}, SummaryOptions{Start: at("2024-01-01")}, Summary{X: 1, Tx: 2, T: 4, MeanRepeatSpend: 8, Revenue: 28,
			First: at("2024-03-01"), Last: at("2024-03-15")}, true},
		{"daily unit", []Order{{Time: at("2024-03-01"), Revenue: 1}, {Time: at("2024-03-04"), Revenue: 3}},
			SummaryOptions{Unit: 24 * time.Hour}, Summary{X: 1, Tx: 3, T: 28, MeanRepeatSpend: 3, Revenue: 4,
				First: at("2024-03-01"), Last: at("2024-03-04")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Summarize(tt.orders, asOf, tt.opt)
			if ok != tt.ok {
				t.Fatalf("Summarize ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Summarize mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSummarizeTimeZone checks that days are calendar days where the
// customer is: 23:30 and 00:30 UTC are one day in New York time.
func TestSummarizeTimeZone(t *testing.T) {
	ny := time.FixedZone("UTC-5", -5*3600)
	orders := []Order{{Time: at("2024-03-01 23:30"), Revenue: 1}, {Time: at("2024-03-02 00:30"), Revenue: 2}}
	asOf := at("2024-03-10")
	if got, _ := Summarize(orders, asOf, SummaryOptions{}); got.X != 1 {
		t.Errorf("Summarize in UTC: X = %d, want 1 (two days)", got.X)
	}
	got, _ := Summarize(orders, asOf, SummaryOptions{Location: ny})
	if got.X != 0 || got.Revenue != 3 {
		t.Errorf("Summarize in UTC-5: X = %d, revenue %v; want 0 and 3 (one day)", got.X, got.Revenue)
	}
	if want := time.Date(2024, 3, 1, 0, 0, 0, 0, ny); !got.First.Equal(want) {
		t.Errorf("Summarize in UTC-5: First = %v, want %v", got.First, want)
	}
}

func TestPurchaseDays(t *testing.T) {
	orders := []Order{
		{Time: at("2024-03-01")}, {Time: at("2024-03-02 10:00")}, {Time: at("2024-03-02 11:00")},
		{Time: at("2024-03-05")}, {Time: at("2024-03-09")},
	}
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"after from, up to to", at("2024-03-01"), at("2024-03-05"), 2},
		{"nothing", at("2024-03-10"), at("2024-04-01"), 0},
		{"all", time.Time{}, at("2024-04-01"), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PurchaseDays(orders, tt.from, tt.to, nil); got != tt.want {
				t.Errorf("PurchaseDays(%v, %v) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}
