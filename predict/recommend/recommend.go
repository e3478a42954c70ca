// Package recommend suggests products from order co-occurrence: "customers
// who bought X also bought Y", item to item (Linden, Smith & York 2003),
// with a popularity correction so that best-sellers do not top every list.
//
// The similarity of products i and j, bought by nᵢ and nⱼ customers, cᵢⱼ of
// whom bought both, is the cosine with shrinkage
//
//	sim(i, j) = cᵢⱼ / √(nᵢ·nⱼ) · cᵢⱼ / (cᵢⱼ + λ)
//
// The cosine divides by both products' popularity; the shrinkage factor
// discounts pairs seen together only a few times. A customer's score for a
// product they have not bought is the sum of its similarities to what they
// bought.
package recommend

import (
	"math"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic/predict"
)

// Options tunes the similarity. Start from DefaultOptions.
type Options struct {
	// Neighbours is how many most similar products are kept per product.
	// Default: 50; 0 also means 50.
	Neighbours int
	// Shrinkage is λ: a pair bought together by λ customers keeps half its
	// cosine. Default: 10; 0 means no shrinkage.
	Shrinkage float64
	// MinSupport drops pairs bought together by fewer customers. Default:
	// 2; 0 means 1 (keep every pair).
	MinSupport int
	// Workers is how many goroutines build. Default: GOMAXPROCS.
	Workers int
}

// DefaultOptions returns the defaults documented on Options.
func DefaultOptions() Options {
	return Options{Neighbours: 50, Shrinkage: 10, MinSupport: 2}
}

// Recommendation is one suggested product.
type Recommendation struct {
	Product string
	// Score is the sum of the product's similarities to what the customer
	// bought; 0 for a popular product filled in when similar ones run out.
	Score float64
	// Because is the bought product that contributed most to Score, for
	// the explanation "because you bought …"; empty for a filled-in one.
	Because string
}

// Model holds each product's most similar products. It is safe for
// concurrent use.
type Model struct {
	from    *Builder // the builder it was built from, for RecommendAll
	opt     Options
	names   []string
	ids     map[string]int32
	buyers  []int32   // customers who bought each product
	off     []int64   // product i's neighbours are nbr[off[i]:off[i+1]]
	nbr     []int32   // most similar first
	sim     []float32 // their similarities
	popular []int32   // products by number of buyers, most first
}

// Similar returns up to n products most similar to product, best first.
func (m *Model) Similar(product string, n int) []Recommendation {
	i, ok := m.ids[product]
	if !ok {
		return nil
	}
	var out []Recommendation
	for k := m.off[i]; k < m.off[i+1] && len(out) < n; k++ {
		out = append(out, Recommendation{Product: m.names[m.nbr[k]], Score: float64(m.sim[k]), Because: product})
	}
	return out
}

// Recommend returns the customer's top n products among those not in
// bought, best first. When fewer than n products are similar to what they
// bought (a new customer has none), the most popular products they have
// not bought fill the list. Unknown products in bought are ignored, and
// repeats count once.
func (m *Model) Recommend(bought []string, n int) []Recommendation {
	ids := make([]int32, 0, len(bought))
	for _, p := range bought {
		if i, ok := m.ids[p]; ok && !slices.Contains(ids, i) {
			ids = append(ids, i)
		}
	}
	s := m.newScratch()
	return s.recommend(m, ids, n, nil)
}

// scratch is one worker's reusable state for scoring customers.
type scratch struct {
	score   []float32
	because []int32 // the contributor with the largest similarity
	best    []float32
	stamp   []uint32 // stamp[j] == gen: j is touched for the current customer
	bought  []uint32 // bought[j] == gen: j is bought by the current customer
	gen     uint32
	touched []int32
	best32  []int32 // the current top products
}

func (m *Model) newScratch() *scratch {
	n := len(m.names)
	return &scratch{
		score: make([]float32, n), because: make([]int32, n), best: make([]float32, n),
		stamp: make([]uint32, n), bought: make([]uint32, n),
	}
}

// recommend scores the products similar to ids and appends the top n to
// out[:0].
func (s *scratch) recommend(m *Model, ids []int32, n int, out []Recommendation) []Recommendation {
	s.gen++
	s.touched = s.touched[:0]
	for _, b := range ids {
		s.bought[b] = s.gen
	}
	for _, b := range ids {
		for k := m.off[b]; k < m.off[b+1]; k++ {
			j, sim := m.nbr[k], m.sim[k]
			if s.bought[j] == s.gen {
				continue
			}
			if s.stamp[j] != s.gen {
				s.stamp[j], s.score[j], s.best[j] = s.gen, 0, 0
				s.touched = append(s.touched, j)
			}
			s.score[j] += sim
			if sim > s.best[j] {
				s.best[j], s.because[j] = sim, b
			}
		}
	}
	top := s.top(m, n)
	out = out[:0]
	for _, j := range top {
		out = append(out, Recommendation{Product: m.names[j], Score: float64(s.score[j]), Because: m.names[s.because[j]]})
	}
	for _, j := range m.popular {
		if len(out) >= n {
			break
		}
		if s.bought[j] != s.gen && s.stamp[j] != s.gen {
			out = append(out, Recommendation{Product: m.names[j]})
		}
	}
	return out
}

// top returns the n touched products with the highest scores, ties broken
// by popularity and then name so that results are stable. It keeps a small
// sorted list rather than sorting every touched product: a customer
// touches hundreds of products and wants ten.
func (s *scratch) top(m *Model, n int) []int32 {
	better := func(a, b int32) bool {
		if s.score[a] != s.score[b] {
			return s.score[a] > s.score[b]
		}
		if m.buyers[a] != m.buyers[b] {
			return m.buyers[a] > m.buyers[b]
		}
		return m.names[a] < m.names[b]
	}
	s.best32 = s.best32[:0]
	for _, j := range s.touched {
		if len(s.best32) == n && !better(j, s.best32[n-1]) {
			continue
		}
		if len(s.best32) < n {
			s.best32 = append(s.best32, j)
		}
		k := len(s.best32) - 1
		for ; k > 0 && better(j, s.best32[k-1]); k-- {
			s.best32[k] = s.best32[k-1]
		}
		s.best32[k] = j
	}
	return s.best32
}

// similarity is the shrunk cosine of a pair bought together by c customers.
func similarity(c, ni, nj int32, shrink float64) float32 {
	cf := float64(c)
	return float32(cf / math.Sqrt(float64(ni)*float64(nj)) * cf / (cf + shrink))
}

// Report describes the model for the models list: its options as Params
// ("neighbours", "shrinkage", "min_support"), the number of customers as
// N, and as Quality "products", "products_with_neighbours" (products that
// can be recommended from) and "mean_neighbours".
func (m *Model) Report(asOf, fitAt time.Time) predict.ModelReport {
	var with float64
	for i := range m.names {
		if m.off[i+1] > m.off[i] {
			with++
		}
	}
	products := float64(len(m.names))
	return predict.ModelReport{
		Name: "item_to_item",
		Params: map[string]float64{
			"neighbours": float64(m.opt.Neighbours), "shrinkage": m.opt.Shrinkage, "min_support": float64(m.opt.MinSupport),
		},
		FitAt: fitAt, AsOf: asOf, N: m.from.Customers(),
		Quality: map[string]float64{
			"products":                 products,
			"products_with_neighbours": with,
			"mean_neighbours":          float64(len(m.nbr)) / max(products, 1),
		},
	}
}
