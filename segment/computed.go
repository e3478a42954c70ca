package segment

import (
	"math"
	"time"

	"github.com/mosaic-cdp/mosaic/audience"
)

// value computes the trait over a profile's events of its name (oldest
// first) at now. ok is false when the trait has no value (avg, min, max,
// first, last and most_frequent over no events). next is when the value
// can next change with no new event: the oldest counted event leaving the
// window, or an event dated in the future starting to count; zero for never.
func (t *ComputedTrait) value(items []item, now time.Time) (v audience.Value, ok bool, next time.Time) {
	var since time.Time
	if t.window > 0 {
		since = now.Add(-t.window)
	}
	a := aggregator{t: t}
	for _, it := range items {
		switch {
		case it.At.After(now):
			next = earliest(next, it.At) // counts from its own time
			continue
		case t.window > 0 && !it.At.After(since):
			continue // left the window
		case t.where != nil && !audience.MatchProperties(t.where, it.Props):
			continue
		}
		if a.add(it) && t.window > 0 {
			next = earliest(next, it.At.Add(t.window))
		}
	}
	v, ok = a.result()
	return v, ok, next
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// aggregator folds events oldest first.
type aggregator struct {
	t           *ComputedTrait
	n           int
	sum, lo, hi float64
	first, last audience.Value
	counts      map[string]int
	values      map[string]audience.Value
	best        string
}

// add folds one event in and reports whether it counted.
func (a *aggregator) add(it item) bool {
	t := a.t
	switch t.Agg {
	case AggCount:
		a.n++
		return true
	case AggSum, AggAvg, AggMin, AggMax:
		f, ok := audience.PropertyNumber(it.Props, t.Property)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
		if a.n == 0 || f < a.lo {
			a.lo = f
		}
		if a.n == 0 || f > a.hi {
			a.hi = f
		}
		a.n++
		a.sum += f
		return true
	case AggFirst, AggLast:
		v := audience.String(it.At.UTC().Format(time.RFC3339Nano))
		if t.Property != "" {
			var ok bool
			if v, ok = audience.PropertyValue(it.Props, t.Property); !ok {
				return false
			}
		}
		if a.n == 0 {
			a.first = v
		}
		a.last = v
		a.n++
		return true
	default: // most frequent, distinct count
		raw, ok := audience.RawProperty(it.Props, t.Property)
		if !ok || string(raw) == "null" {
			return false
		}
		v, ok := audience.PropertyValue(it.Props, t.Property)
		if !ok {
			return false
		}
		key := string(raw)
		if a.counts == nil {
			a.counts, a.values = map[string]int{}, map[string]audience.Value{}
		}
		a.counts[key]++
		a.values[key] = v
		// Ties go to the value seen most recently: events come oldest first.
		if a.counts[key] >= a.counts[a.best] {
			a.best = key
		}
		a.n++
		return true
	}
}

func (a *aggregator) result() (audience.Value, bool) {
	switch a.t.Agg {
	case AggCount:
		return audience.Number(float64(a.n)), true
	case AggSum:
		return audience.Number(a.sum), true
	case AggDistinctCount:
		return audience.Number(float64(len(a.counts))), true
	}
	if a.n == 0 {
		return audience.Value{}, false
	}
	switch a.t.Agg {
	case AggAvg:
		return audience.Number(a.sum / float64(a.n)), true
	case AggMin:
		return audience.Number(a.lo), true
	case AggMax:
		return audience.Number(a.hi), true
	case AggFirst:
		return a.first, true
	case AggLast:
		return a.last, true
	}
	return a.values[a.best], true
}
