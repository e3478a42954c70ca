package audience

import "time"

// MaxExplainedEvents bounds the events an explanation lists per node (the
// newest); Matched still counts them all.
const MaxExplainedEvents = 100

// Explanation is one node of a condition annotated for one profile at one
// moment: its value, the data that decided it and when it can next change.
// It marshals to the JSON the explain API returns.
type Explanation struct {
	// Node is the node in text form: `trait country = "NL"`, or "and", "or"
	// and "not" for the nodes that combine others.
	Node string `json:"node"`
	// Value is whether the node holds.
	Value bool `json:"value"`
	// NextChange is when the node's value can next change with no new data;
	// absent when only new data can change it.
	NextChange *time.Time `json:"next_change,omitempty"`
	// Children are the explanations of and, or and not's operands, in order.
	Children []*Explanation `json:"children,omitempty"`

	// Actual is the trait or computed trait value that was compared; absent
	// when the profile has none (then Missing is true).
	Actual  *Value `json:"actual,omitempty"`
	Missing bool   `json:"missing,omitempty"`
	// Matched is how many events an aggregate counted; Events lists the
	// newest of them and Aggregate is the number compared (absent for avg,
	// min and max over no events).
	Matched   int            `json:"matched,omitempty"`
	Events    []CountedEvent `json:"events,omitempty"`
	Aggregate *float64       `json:"aggregate,omitempty"`
	// Anniversary is the next anniversary of the date compared, YYYY-MM-DD.
	Anniversary string `json:"anniversary,omitempty"`
	// DistanceKm is the profile's distance from the point of a near node.
	DistanceKm *float64 `json:"distance_km,omitempty"`
	// Error says why an expression could not be evaluated (it then counts
	// as false): a missing trait, a type mismatch, the cost limit.
	Error string `json:"error,omitempty"`
}

// CountedEvent is one event an aggregate counted.
type CountedEvent struct {
	At time.Time `json:"at"`
	// Value is the property aggregated, for sum, avg, min and max.
	Value *float64 `json:"value,omitempty"`
	// LeavesWindowAt is when the event stops counting; absent for all time.
	LeavesWindowAt *time.Time `json:"leaves_window_at,omitempty"`
}

func newExplanation(c *Condition, value bool, next time.Time) *Explanation {
	x := &Explanation{Value: value}
	switch c.Kind {
	case KindAnd, KindOr, KindNot:
		x.Node = c.Kind.String()
	default:
		x.Node = Format(c)
	}
	if !next.IsZero() {
		x.NextChange = &next
	}
	return x
}

func (x *Explanation) setActual(v Value) {
	if v.kind == ValueNull {
		x.Missing = true
		return
	}
	actual := v // a copy: when this is inlined, the caller's v stays on the stack
	x.Actual = &actual
}

func (x *Explanation) setEvents(c *Condition, items []eventItem) {
	x.Matched = len(items)
	var sum, lo, hi float64
	for i, it := range items {
		sum += it.v
		if i == 0 || it.v < lo {
			lo = it.v
		}
		if i == 0 || it.v > hi {
			hi = it.v
		}
		if i < MaxExplainedEvents {
			x.Events = append(x.Events, countedEvent(c, it))
		}
	}
	agg := map[Agg]float64{AggCount: float64(len(items)), AggSum: sum, AggMin: lo, AggMax: hi}
	if len(items) > 0 {
		agg[AggAvg] = sum / float64(len(items))
	}
	if a, ok := agg[c.Agg]; ok && (len(items) > 0 || c.Agg == AggCount || c.Agg == AggSum) {
		x.Aggregate = &a
	}
}

func countedEvent(c *Condition, it eventItem) CountedEvent {
	ev := CountedEvent{At: it.at}
	if c.Agg != AggCount {
		v := it.v
		ev.Value = &v
	}
	if c.Within > 0 {
		leaves := it.at.Add(c.Within)
		ev.LeavesWindowAt = &leaves
	}
	return ev
}
