package recommend

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// shop is a tiny known example: who bought what.
var shop = [][]string{
	{"milk", "bread", "butter"},
	{"milk", "bread"},
	{"milk", "butter", "milk"}, // a repeat counts once
	{"bread", "jam"},
	{"beer", "chips"},
	{"beer", "chips", "milk"},
}

func build(t *testing.T, baskets [][]string, opt Options) (*Builder, *Model) {
	t.Helper()
	b := NewBuilder()
	for _, basket := range baskets {
		b.Add(basket)
	}
	m, err := b.Build(context.Background(), opt)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b, m
}

var approx = cmpopts.EquateApprox(0, 1e-6)

func TestSimilar(t *testing.T) {
	_, m := build(t, shop, Options{Shrinkage: 0, MinSupport: 1})
	// bread: 3 buyers; milk 4 (2 with bread), jam 1 (1), butter 2 (1).
	// milk and jam tie at 2/√12 = 1/√3; the more popular milk comes first.
	want := []Recommendation{
		{"milk", 2 / math.Sqrt(12), "bread"},
		{"jam", 1 / math.Sqrt(3), "bread"},
		{"butter", 1 / math.Sqrt(6), "bread"},
	}
	if diff := cmp.Diff(want, m.Similar("bread", 5), approx); diff != "" {
		t.Errorf("Similar(bread) mismatch (-want +got):\n%s", diff)
	}
	if got := m.Similar("caviar", 5); got != nil {
		t.Errorf("Similar(unknown) = %v, want nil", got)
	}
}

func TestRecommend(t *testing.T) {
	// Shrinkage 1 halves pairs seen once and keeps 2/3 of pairs seen twice.
	_, m := build(t, shop, Options{Shrinkage: 1, MinSupport: 1})
	tests := []struct {
		name   string
		bought []string
		n      int
		want   []Recommendation
	}{
		{"shrinkage favours well-supported pairs", []string{"bread"}, 3, []Recommendation{
			{"milk", 2 / math.Sqrt(12) * 2 / 3, "bread"},
			{"jam", 1 / math.Sqrt(3) / 2, "bread"},
			{"butter", 1 / math.Sqrt(6) / 2, "bread"},
		}},
		{"scores add up, bought excluded", []string{"milk", "bread"}, 4, []Recommendation{
			{"butter", 2/math.Sqrt(8)*2/3 + 1/math.Sqrt(6)/2, "milk"},
			{"jam", 1 / math.Sqrt(3) / 2, "bread"},
			{"beer", 1 / math.Sqrt(8) / 2, "milk"},
			{"chips", 1 / math.Sqrt(8) / 2, "milk"},
		}},
		{"new customer gets best-sellers", nil, 2, []Recommendation{{Product: "milk"}, {Product: "bread"}}},
		{"short list filled with best-sellers", []string{"jam"}, 3, []Recommendation{
			{"bread", 1 / math.Sqrt(3) / 2, "jam"},
			{Product: "milk"}, // filled: milk was never bought with jam
			{Product: "beer"},
		}},
		{"unknown products ignored", []string{"caviar", "beer"}, 1, []Recommendation{{"chips", 2 / math.Sqrt(4) * 2 / 3, "beer"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, m.Recommend(tt.bought, tt.n), approx); diff != "" {
				t.Errorf("Recommend(%v, %d) mismatch (-want +got):\n%s", tt.bought, tt.n, diff)
			}
		})
	}
}

func TestMinSupportAndNeighbours(t *testing.T) {
	_, m := build(t, shop, Options{Shrinkage: 0, MinSupport: 2})
	if diff := cmp.Diff([]Recommendation{{"milk", 2 / math.Sqrt(12), "bread"}}, m.Similar("bread", 5), approx); diff != "" {
		t.Errorf("Similar(bread) with MinSupport 2 mismatch (-want +got):\n%s", diff)
	}
	_, m = build(t, shop, Options{Neighbours: 1, MinSupport: 1})
	if got := m.Similar("bread", 5); len(got) != 1 {
		t.Errorf("Similar(bread) with Neighbours 1 = %v, want 1 product", got)
	}
}

func TestRecommendAllMatchesRecommend(t *testing.T) {
	b, m := build(t, shop, Options{Shrinkage: 1, MinSupport: 1})
	var mu sync.Mutex
	got := make(map[int][]Recommendation)
	err := b.RecommendAll(context.Background(), m, 3, 2, func(c int, recs []Recommendation) {
		mu.Lock()
		defer mu.Unlock()
		got[c] = append([]Recommendation(nil), recs...)
	})
	if err != nil {
		t.Fatalf("RecommendAll: %v", err)
	}
	for c, basket := range shop {
		if diff := cmp.Diff(m.Recommend(basket, 3), got[c]); diff != "" {
			t.Errorf("customer %d: RecommendAll differs from Recommend (-Recommend +RecommendAll):\n%s", c, diff)
		}
	}
	_, other := build(t, shop, Options{})
	if err := b.RecommendAll(context.Background(), other, 3, 1, func(int, []Recommendation) {}); err == nil {
		t.Error("RecommendAll with another builder's model succeeded, want an error")
	}
}

func TestBuildStopsWhenCancelled(t *testing.T) {
	b := NewBuilder()
	b.Add([]string{"a", "b"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Build(ctx, DefaultOptions()); err == nil {
		t.Error("Build with a cancelled context succeeded, want an error")
	}
}

func TestReport(t *testing.T) {
	_, m := build(t, shop, Options{Shrinkage: 0, MinSupport: 2})
	rep := m.Report(time.Time{}, time.Time{})
	// With MinSupport 2 only milk–bread, milk–butter and beer–chips remain.
	want := map[string]float64{"products": 6, "products_with_neighbours": 5, "mean_neighbours": 6.0 / 6}
	if diff := cmp.Diff(want, rep.Quality); diff != "" || rep.N != len(shop) || rep.Name != "item_to_item" {
		t.Errorf("Report: name %q, N %d (want %d); quality mismatch (-want +got):\n%s", rep.Name, rep.N, len(shop), diff)
	}
}
