package audience

import (
	"slices"
	"time"
)

// eventItem is one event an aggregate counts: when it happened and, for
// sum, avg, min and max, the number it contributes.
type eventItem struct {
	at time.Time
	v  float64
}

// event evaluates an aggregate over the subject's matching events.
//
// An event at time T counts in a window W while T <= now < T+W: it enters
// at T and leaves at exactly T+W (without a window it counts from T on).
// Usually no event lies in the future, and then, as time passes, events only
// leave, oldest first: the counted set is always the newest j events for a
// shrinking j. The aggregate of the newest j is computed the way a later
// evaluation would compute it (newest first, the same additions in the same
// order), so the next change found is exact to the bit: the first moment an
// oldest event leaves and the comparison turns. Events dated in the future
// (a client clock ahead) take the slower path of nextSlide.
func (e *evaluator) event(c *Condition) outcome {
	items := e.collect(c)
	future := 0
	for future < len(items) && items[future].at.After(e.now) {
		future++
	}
	counted := items[future:]
	var o outcome
	if future == 0 {
		holds := e.prefixHolds(c, counted)
		o.value = holds[len(counted)]
		if c.Within > 0 {
			o.next = nextExit(counted, holds, c.Within)
		}
	} else {
		o.value = aggregateHolds(c, counted)
		o.next = nextSlide(c, items, e.now, o.value)
	}
	if x := e.annotate(c, &o); x != nil {
		x.setEvents(c, counted)
	}
	return o
}

// collect gathers the matching events inside the window and after it (an
// event dated in the future is counted later), newest first, into the
// evaluator's scratch space.
func (e *evaluator) collect(c *Condition) []eventItem {
	sc := e.scratch()
	sc.cur, sc.since, sc.items = c, time.Time{}, sc.items[:0]
	if c.Within > 0 {
		sc.since = e.now.Add(-c.Within)
	}
	e.s.Events(c.Name, sc.since, sc.visitFn)
	items := sc.items
	// The Subject contract says newest first; sort when one does not, since
	// the exactness of the next change depends on it.
	for i := 1; i < len(items); i++ {
		if items[i].at.After(items[i-1].at) {
			slices.SortStableFunc(items, func(a, b eventItem) int { return b.at.Compare(a.at) })
			break
		}
	}
	return items
}

// visit is the callback collect passes to Subject.Events.
func (sc *scratch) visit(at time.Time, props []byte) bool {
	c := sc.cur
	if c.Within > 0 && !at.After(sc.since) {
		return true // at since exactly, the event has just left
	}
	if c.Where != nil && !matchProperties(c.Where, props) {
		return true
	}
	var v float64
	if c.Agg != AggCount {
		f, ok := propertyNumber(props, c.Property)
		if !ok {
			return true // sum, avg, min and max skip events without the number
		}
		v = f
	}
	sc.items = append(sc.items, eventItem{at: at, v: v})
	return true
}

// prefixHolds returns, for each j from 0 to len(items), whether the
// comparison holds over the newest j items.
func (e *evaluator) prefixHolds(c *Condition, items []eventItem) []bool {
	lit := c.literalOf()
	// Over no events, count and sum are 0; avg, min and max have no value
	// and compare false.
	first := (c.Agg == AggCount || c.Agg == AggSum) && holds(c.Op, compareFloat(0, lit.n))
	sc := e.scratch()
	hs := append(sc.holds[:0], first)
	var sum, lo, hi float64
	for j, it := range items {
		sum += it.v
		if j == 0 || it.v < lo {
			lo = it.v
		}
		if j == 0 || it.v > hi {
			hi = it.v
		}
		var agg float64
		switch c.Agg {
		case AggCount:
			agg = float64(j + 1)
		case AggSum:
			agg = sum
		case AggAvg:
			agg = sum / float64(j+1)
		case AggMin:
			agg = lo
		case AggMax:
			agg = hi
		}
		hs = append(hs, holds(c.Op, compareFloat(agg, lit.n)))
	}
	sc.holds = hs
	return hs
}

// nextExit returns when the comparison first differs from now as events
// leave the window, oldest first; zero if it never does. Events with the
// same time leave together, so the states between them are skipped.
func nextExit(items []eventItem, holds []bool, window time.Duration) time.Time {
	now := holds[len(items)]
	for j := len(items) - 1; j >= 0; j-- {
		if j > 0 && items[j-1].at.Equal(items[j].at) {
			continue
		}
		if holds[j] != now {
			return items[j].at.Add(window)
		}
	}
	return time.Time{}
}

// nextSlide finds the next change when some events are still in the
// future: at each moment an event enters or leaves, it recomputes the
// aggregate over the events counted then, as a later evaluation would.
func nextSlide(c *Condition, items []eventItem, now time.Time, value bool) time.Time {
	var moments []time.Time
	for _, it := range items {
		if it.at.After(now) {
			moments = append(moments, it.at)
		}
		if c.Within > 0 && it.at.Add(c.Within).After(now) {
			moments = append(moments, it.at.Add(c.Within))
		}
	}
	slices.SortFunc(moments, func(a, b time.Time) int { return a.Compare(b) })
	for _, t := range moments {
		first := 0 // items[first:last] are counted at t
		for first < len(items) && items[first].at.After(t) {
			first++
		}
		last := first
		for last < len(items) && (c.Within == 0 || items[last].at.After(t.Add(-c.Within))) {
			last++
		}
		if aggregateHolds(c, items[first:last]) != value {
			return t
		}
	}
	return time.Time{}
}

// aggregateHolds computes the aggregate over items, newest first, and
// compares it; it adds in the same order as prefixHolds.
func aggregateHolds(c *Condition, items []eventItem) bool {
	lit := c.literalOf()
	if len(items) == 0 {
		return (c.Agg == AggCount || c.Agg == AggSum) && holds(c.Op, compareFloat(0, lit.n))
	}
	var sum float64
	lo, hi := items[0].v, items[0].v
	for _, it := range items {
		sum += it.v
		lo, hi = min(lo, it.v), max(hi, it.v)
	}
	var agg float64
	switch c.Agg {
	case AggCount:
		agg = float64(len(items))
	case AggSum:
		agg = sum
	case AggAvg:
		agg = sum / float64(len(items))
	case AggMin:
		agg = lo
	case AggMax:
		agg = hi
	}
	return holds(c.Op, compareFloat(agg, lit.n))
}
