package recommend

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
)

// catalogue draws customers' baskets over products whose popularity
// follows a Zipf law (a few best-sellers, a long tail), 1 to 12 distinct
// products per customer, about 5 on average.
func catalogue(customers, products int) [][]string {
	rng := rand.New(rand.NewPCG(1, 1))
	names := make([]string, products)
	for i := range names {
		names[i] = "sku-" + strconv.Itoa(i)
	}
	zipf := rand.NewZipf(rng, 1.1, 10, uint64(products-1))
	out := make([][]string, customers)
	for c := range out {
		basket := make([]string, 1+rng.IntN(9))
		for k := range basket {
			basket[k] = names[zipf.Uint64()]
		}
		out[c] = basket
	}
	return out
}

// BenchmarkRefresh is a full refresh of recommendations: load every
// customer's purchases, build the similarities, and compute each
// customer's top 10. The target is 1,000,000 customers and 10,000
// products in under 2 minutes.
func BenchmarkRefresh(b *testing.B) {
	for _, bc := range []struct {
		name                string
		customers, products int
	}{{"100k×10k", 100_000, 10_000}, {"1M×10k", 1_000_000, 10_000}} {
		b.Run(bc.name, func(b *testing.B) {
			baskets := catalogue(bc.customers, bc.products)
			for b.Loop() {
				builder := NewBuilder()
				for _, basket := range baskets {
					builder.Add(basket)
				}
				m, err := builder.Build(context.Background(), DefaultOptions())
				if err != nil {
					b.Fatal(err)
				}
				var emitted atomic.Int64
				err = builder.RecommendAll(context.Background(), m, 10, 0, func(int, []Recommendation) { emitted.Add(1) })
				if err != nil || emitted.Load() != int64(bc.customers) {
					b.Fatalf("RecommendAll: %v, %d customers", err, emitted.Load())
				}
			}
			b.ReportMetric(float64(bc.customers)*float64(b.N)/b.Elapsed().Seconds(), "customers/s")
		})
	}
}
