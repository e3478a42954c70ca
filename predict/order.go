package predict

import (
	"cmp"
	"slices"
	"time"
)

// Order is one purchase by one customer.
type Order struct {
	Time     time.Time
	Revenue  float64
	Products []string
}

// Week is the time unit of the buy-till-you-die literature and the default
// unit of a Summary.
const Week = 7 * 24 * time.Hour

// Summary is a customer's purchase history reduced to what the
// buy-till-you-die models read, built the way Fader, Hardie & Lee (2005) and
// their reference implementations build it: orders on the same calendar day
// count as one purchase, and the first purchase is not counted as a repeat.
type Summary struct {
	// X is the number of repeat purchase days: distinct days with an order,
	// minus the first ("frequency" in lifetimes).
	X int
	// Tx is the time from the first to the last purchase day, in units
	// ("recency"). Zero when X is zero.
	Tx float64
	// T is the time from the first purchase day to the as-of day, in units
	// ("age").
	T float64
	// MeanRepeatSpend is the mean revenue of the repeat purchase days, each
	// day's orders summed first (the Gamma-Gamma model's m_x). Zero when X
	// is zero: the first purchase is left out because its value often
	// differs systematically from later ones.
	MeanRepeatSpend float64
	// Revenue is the revenue of all orders in the window, first purchase
	// included, for RFM and reporting.
	Revenue float64
	// First and Last are the first and last purchase days, as midnight in
	// the summary's location.
	First, Last time.Time
}

// Purchases is the number of purchase days, the first included.
func (s Summary) Purchases() int { return s.X + 1 }

// SummaryOptions says how to cut and measure a customer's history.
type SummaryOptions struct {
	// Unit is the length of one time unit for Tx and T. Default: Week.
	Unit time.Duration
	// Start, when not zero, ignores orders before it: a customer's first
	// order on or after Start becomes their first purchase. Use it to study
	// one acquisition cohort; leave it zero to use all history.
	Start time.Time
	// Location decides which calendar day an order falls on. Default: UTC.
	Location *time.Location
}

// Summarize reduces one customer's orders to a Summary as of asOf. Orders
// after asOf are ignored, so a summary as of a past date uses only what was
// known then. Days are calendar days in opt.Location, and Tx and T are
// measured between days (as lifetimes and BTYD do), so for data dated by day
// pass the as-of day's midnight. It reports false when the customer has no
// order in the window.
func Summarize(orders []Order, asOf time.Time, opt SummaryOptions) (Summary, bool) {
	opt = opt.withDefaults()
	days := purchaseDays(orders, opt.Start, asOf, opt.Location)
	if len(days) == 0 {
		return Summary{}, false
	}
	first, last := days[0], days[len(days)-1]
	perUnit := float64(24*time.Hour) / float64(opt.Unit)
	s := Summary{
		X:     len(days) - 1,
		Tx:    float64(last.day-first.day) * perUnit,
		T:     float64(dayNumber(asOf, opt.Location)-first.day) * perUnit,
		First: first.midnight(opt.Location),
		Last:  last.midnight(opt.Location),
	}
	for i, d := range days {
		s.Revenue += d.revenue
		if i > 0 {
			s.MeanRepeatSpend += d.revenue
		}
	}
	if s.X > 0 {
		s.MeanRepeatSpend /= float64(s.X)
	}
	return s, true
}

// PurchaseDays counts the distinct calendar days (in loc, UTC when nil) with
// an order in (from, to]: the number of transactions the models predict for
// a holdout period that starts after from.
func PurchaseDays(orders []Order, from, to time.Time, loc *time.Location) int {
	if loc == nil {
		loc = time.UTC
	}
	return len(purchaseDays(orders, from.Add(1), to, loc))
}

func (o SummaryOptions) withDefaults() SummaryOptions {
	if o.Unit <= 0 {
		o.Unit = Week
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return o
}

// day is one calendar day's combined purchases.
type day struct {
	day     int64 // days since 1970-01-01 in the calendar of the location
	revenue float64
}

func (d day) midnight(loc *time.Location) time.Time {
	y, m, dd := time.Unix(d.day*86400, 0).UTC().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// purchaseDays returns the customer's purchase days with orders in
// [start, end] (start ignored when zero), sorted, same-day orders combined.
func purchaseDays(orders []Order, start, end time.Time, loc *time.Location) []day {
	days := make([]day, 0, len(orders))
	for _, o := range orders {
		if o.Time.After(end) || (!start.IsZero() && o.Time.Before(start)) {
			continue
		}
		days = append(days, day{dayNumber(o.Time, loc), o.Revenue})
	}
	slices.SortFunc(days, func(a, b day) int { return cmp.Compare(a.day, b.day) })
	merged := days[:0]
	for _, d := range days {
		if n := len(merged); n > 0 && merged[n-1].day == d.day {
			merged[n-1].revenue += d.revenue
			continue
		}
		merged = append(merged, d)
	}
	return merged
}

// dayNumber is the calendar day of t in loc, counted from 1970-01-01, so
// that differences are whole days even across daylight-saving changes.
func dayNumber(t time.Time, loc *time.Location) int64 {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}
