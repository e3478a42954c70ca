package predict

import (
	"slices"
	"sort"
	"time"
)

// RFMInput is what RFM scoring reads of one customer.
type RFMInput struct {
	// Recency is the time since the last purchase; smaller is better.
	Recency time.Duration
	// Frequency is the number of purchases (purchase days) in the window.
	Frequency float64
	// Monetary is the revenue in the window.
	Monetary float64
}

// RFMInputOf reads a customer's RFM input from their summary as of asOf.
func RFMInputOf(s Summary, asOf time.Time) RFMInput {
	return RFMInput{Recency: asOf.Sub(s.Last), Frequency: float64(s.Purchases()), Monetary: s.Revenue}
}

// RFM holds a customer's recency, frequency and monetary scores, each 1
// (bottom fifth of the customers) to 5 (top fifth), and their segment.
type RFM struct {
	R, F, M int
	Segment Segment
}

// Segment is a named group of customers by recency and frequency.
type Segment string

// The RFM segments, as marketers know them.
const (
	Champions          Segment = "Champions"
	LoyalCustomers     Segment = "Loyal customers"
	PotentialLoyalists Segment = "Potential loyalists"
	NewCustomers       Segment = "New customers"
	Promising          Segment = "Promising"
	NeedAttention      Segment = "Need attention"
	AboutToSleep       Segment = "About to sleep"
	AtRisk             Segment = "At risk"
	CantLoseThem       Segment = "Can't lose them"
	Hibernating        Segment = "Hibernating"
	Lost               Segment = "Lost"
)

// segmentGrid maps recency score (row, 5 first) and frequency score
// (column, 1 first) to a segment: the R×F grid common in CRM practice, with
// its bottom corner (R = 1, F = 1) split off as Lost. docs/predictions.md
// shows it as a table.
var segmentGrid = [5][5]Segment{
	{NewCustomers, PotentialLoyalists, PotentialLoyalists, Champions, Champions},        // R = 5
	{Promising, PotentialLoyalists, PotentialLoyalists, LoyalCustomers, LoyalCustomers}, // R = 4
	{AboutToSleep, AboutToSleep, NeedAttention, LoyalCustomers, LoyalCustomers},         // R = 3
	{Hibernating, Hibernating, AtRisk, AtRisk, CantLoseThem},                            // R = 2
	{Lost, Hibernating, AtRisk, AtRisk, CantLoseThem},                                   // R = 1
}

// SegmentOf returns the segment of recency score r and frequency score f
// (each 1–5; values outside are clamped).
func SegmentOf(r, f int) Segment {
	return segmentGrid[5-clampScore(r)][clampScore(f)-1]
}

// RFMScorer scores customers against a population. Build it once from all
// customers, then score each profile, old or new, against the same
// population.
type RFMScorer struct {
	// Sorted population values; recency negated so that larger is better
	// for all three.
	r, f, m []float64
}

// NewRFMScorer prepares scoring against the given population.
func NewRFMScorer(population []RFMInput) *RFMScorer {
	s := &RFMScorer{
		r: make([]float64, len(population)),
		f: make([]float64, len(population)),
		m: make([]float64, len(population)),
	}
	for i, in := range population {
		s.r[i], s.f[i], s.m[i] = -float64(in.Recency), in.Frequency, in.Monetary
	}
	slices.Sort(s.r)
	slices.Sort(s.f)
	slices.Sort(s.m)
	return s
}

// Score returns a customer's RFM scores and segment. Each score is
// 1 + ⌊5·b⌋, where b is the share of the population strictly worse than the
// customer: the worst customers get 1, the top fifth 5, and customers with
// equal values always get equal scores, even when ties (such as the many
// one-time buyers) straddle a quintile boundary.
func (s *RFMScorer) Score(in RFMInput) RFM {
	r := quintile(s.r, -float64(in.Recency))
	f := quintile(s.f, in.Frequency)
	return RFM{R: r, F: f, M: quintile(s.m, in.Monetary), Segment: SegmentOf(r, f)}
}

// ScoreRFM scores every customer against the others.
func ScoreRFM(customers []RFMInput) []RFM {
	s := NewRFMScorer(customers)
	out := make([]RFM, len(customers))
	for i, in := range customers {
		out[i] = s.Score(in)
	}
	return out
}

func quintile(sorted []float64, v float64) int {
	if len(sorted) == 0 {
		return 3
	}
	below := sort.SearchFloat64s(sorted, v)
	return clampScore(1 + 5*below/len(sorted))
}

func clampScore(s int) int { return min(max(s, 1), 5) }
