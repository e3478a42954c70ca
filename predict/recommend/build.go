package recommend

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Builder collects customers' purchased products and builds a Model. It
// stores them compactly (4 bytes per distinct product per customer), as a
// refresh holds every customer's purchases at once.
type Builder struct {
	ids   map[string]int32
	names []string
	off   []int64 // customer c's products are items[off[c]:off[c+1]]
	items []int32
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{ids: make(map[string]int32), off: []int64{0}}
}

// Add records one customer's purchased products (repeats count once) and
// returns the customer's index, for RecommendAll.
func (b *Builder) Add(products []string) int {
	start := len(b.items)
	for _, p := range products {
		id, ok := b.ids[p]
		if !ok {
			id = int32(len(b.names))
			b.ids[p] = id
			b.names = append(b.names, p)
		}
		if !slices.Contains(b.items[start:], id) {
			b.items = append(b.items, id)
		}
	}
	b.off = append(b.off, int64(len(b.items)))
	return len(b.off) - 2
}

// Customers returns how many customers were added.
func (b *Builder) Customers() int { return len(b.off) - 1 }

// Build computes every product's most similar products. The work is
// Σ over customers of (distinct products bought)², spread over workers.
func (b *Builder) Build(ctx context.Context, opt Options) (*Model, error) {
	opt = opt.withDefaults()
	m := &Model{from: b, opt: opt, names: b.names, ids: b.ids, buyers: make([]int32, len(b.names))}
	for _, it := range b.items {
		m.buyers[it]++
	}
	byItem := b.invert(m.buyers)
	lists := make([][]neighbour, len(b.names))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Go(func() {
			count := make([]int32, len(b.names))
			var touched []int32
			for i := int32(next.Add(1) - 1); int(i) < len(b.names); i = int32(next.Add(1) - 1) {
				if ctx.Err() != nil {
					return
				}
				lists[i], touched = b.neighbours(m, byItem, i, count, touched, opt)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.flatten(lists)
	return m, nil
}

// neighbour is a similar product.
type neighbour struct {
	id  int32
	sim float32
}

// neighbours counts product i's co-purchases through its buyers and keeps
// the opt.Neighbours most similar products.
func (b *Builder) neighbours(m *Model, byItem postings, i int32, count, touched []int32, opt Options) ([]neighbour, []int32) {
	touched = touched[:0]
	for _, c := range byItem.of(i) {
		for _, j := range b.items[b.off[c]:b.off[c+1]] {
			if j == i {
				continue
			}
			if count[j] == 0 {
				touched = append(touched, j)
			}
			count[j]++
		}
	}
	var out []neighbour
	for _, j := range touched {
		if int(count[j]) >= opt.MinSupport {
			out = append(out, neighbour{j, similarity(count[j], m.buyers[i], m.buyers[j], opt.Shrinkage)})
		}
		count[j] = 0
	}
	slices.SortFunc(out, func(a, c neighbour) int {
		return cmp.Or(cmp.Compare(c.sim, a.sim), cmp.Compare(a.id, c.id))
	})
	if len(out) > opt.Neighbours {
		out = slices.Clip(out[:opt.Neighbours])
	}
	return out, touched
}

// postings lists each product's buyers.
type postings struct {
	off       []int64
	customers []int32
}

func (p postings) of(i int32) []int32 { return p.customers[p.off[i]:p.off[i+1]] }

// invert turns customers' products into products' customers.
func (b *Builder) invert(buyers []int32) postings {
	p := postings{off: make([]int64, len(buyers)+1), customers: make([]int32, len(b.items))}
	for i, n := range buyers {
		p.off[i+1] = p.off[i] + int64(n)
	}
	fill := slices.Clone(p.off[:len(buyers)])
	for c := range b.Customers() {
		for _, it := range b.items[b.off[c]:b.off[c+1]] {
			p.customers[fill[it]] = int32(c)
			fill[it]++
		}
	}
	return p
}

// flatten stores the neighbour lists compactly and ranks products by
// popularity for filling short lists.
func (m *Model) flatten(lists [][]neighbour) {
	m.off = make([]int64, len(lists)+1)
	for i, l := range lists {
		m.off[i+1] = m.off[i] + int64(len(l))
	}
	m.nbr, m.sim = make([]int32, m.off[len(lists)]), make([]float32, m.off[len(lists)])
	for i, l := range lists {
		for k, nb := range l {
			m.nbr[m.off[i]+int64(k)], m.sim[m.off[i]+int64(k)] = nb.id, nb.sim
		}
	}
	m.popular = make([]int32, len(m.names))
	for i := range m.popular {
		m.popular[i] = int32(i)
	}
	slices.SortFunc(m.popular, func(a, c int32) int {
		return cmp.Or(cmp.Compare(m.buyers[c], m.buyers[a]), cmp.Compare(m.names[a], m.names[c]))
	})
	if len(m.popular) > maxFill {
		m.popular = m.popular[:maxFill]
	}
}

// maxFill bounds the popular products kept for filling lists: a customer
// who bought more than this many of them gets a short list.
const maxFill = 1000

// RecommendAll computes every added customer's top n products with model
// m, which must have been built by b, and calls emit for each, from several
// goroutines at once: emit must be safe for concurrent use, and recs is
// only valid during the call.
func (b *Builder) RecommendAll(ctx context.Context, m *Model, n, workers int, emit func(customer int, recs []Recommendation)) error {
	if m.from != b {
		return errors.New("recommend: the model was built by another Builder; build it with this one first")
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	customers := b.Customers()
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := customers*w/workers, customers*(w+1)/workers
		wg.Go(func() {
			s := m.newScratch()
			var recs []Recommendation
			for c := lo; c < hi; c++ {
				if c%4096 == 0 && ctx.Err() != nil {
					return
				}
				recs = s.recommend(m, b.items[b.off[c]:b.off[c+1]], n, recs)
				emit(c, recs)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Neighbours <= 0 {
		o.Neighbours = d.Neighbours
	}
	if o.Shrinkage < 0 {
		o.Shrinkage = 0
	}
	if o.MinSupport <= 0 {
		o.MinSupport = 1
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}
