// Package propensity predicts whether a customer will buy in the next 30
// days (predicted.purchase_30d) with a logistic regression on behavioural
// features, trained on history and checked on a later, held-out period.
package propensity

import (
	"math"
	"time"

	"github.com/mosaic-cdp/mosaic/predict"
)

// Activity is what one customer did: their orders and the engagement
// events the features read. Times need not be sorted.
type Activity struct {
	Orders       []predict.Order
	Sessions     []time.Time
	EmailOpens   []time.Time
	EmailClicks  []time.Time
	ProductViews []time.Time
}

// FeatureNames names the features Features returns, in order. Counts and
// amounts enter as log(1+v), which keeps heavy buyers from dominating the
// fit.
var FeatureNames = []string{
	"has_ordered",
	"log_days_since_order",
	"log_orders",
	"log_orders_90d",
	"log_mean_order_value",
	"log_tenure_days",
	"log_sessions_30d",
	"log_email_opens_30d",
	"log_email_clicks_30d",
	"log_product_views_7d",
	"log_product_views_30d",
}

// noOrderDays stands in for the days since the last order of a customer
// who never ordered: ten years, beyond any real silence, while
// has_ordered tells the model the difference.
const noOrderDays = 3650

const day = 24 * time.Hour

// Features computes a customer's features as of asOf from what happened up
// to and including asOf. It reports false when the customer had no
// activity by then and so is not yet a customer to score.
func Features(a Activity, asOf time.Time) ([]float64, bool) {
	o := orderStats(a.Orders, asOf)
	first := o.first
	for _, ts := range [][]time.Time{a.Sessions, a.EmailOpens, a.EmailClicks, a.ProductViews} {
		for _, t := range ts {
			if !t.After(asOf) && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
	}
	if first.IsZero() {
		return nil, false
	}
	sinceOrder, hasOrdered, meanValue := float64(noOrderDays), 0.0, 0.0
	if o.days > 0 {
		sinceOrder, hasOrdered = days(asOf.Sub(o.last)), 1
		meanValue = math.Max(o.revenue/float64(o.days), 0)
	}
	return []float64{
		hasOrdered,
		math.Log1p(sinceOrder),
		math.Log1p(float64(o.days)),
		math.Log1p(float64(o.days90)),
		math.Log1p(meanValue),
		math.Log1p(days(asOf.Sub(first))),
		logCount(a.Sessions, asOf, 30*day),
		logCount(a.EmailOpens, asOf, 30*day),
		logCount(a.EmailClicks, asOf, 30*day),
		logCount(a.ProductViews, asOf, 7*day),
		logCount(a.ProductViews, asOf, 30*day),
	}, true
}

// Label is 1 when the customer ordered in (asOf, asOf+horizon], else 0.
func Label(a Activity, asOf time.Time, horizon time.Duration) float64 {
	end := asOf.Add(horizon)
	for _, o := range a.Orders {
		if o.Time.After(asOf) && !o.Time.After(end) {
			return 1
		}
	}
	return 0
}

type orders struct {
	days, days90 int // purchase days, all and in the last 90 days
	revenue      float64
	first, last  time.Time
}

// orderStats summarises the orders up to asOf, counting purchase days (UTC)
// as the purchase models do.
func orderStats(os []predict.Order, asOf time.Time) orders {
	var o orders
	seen := make(map[int64]bool, len(os))
	for _, ord := range os {
		if ord.Time.After(asOf) {
			continue
		}
		o.revenue += ord.Revenue
		if o.first.IsZero() || ord.Time.Before(o.first) {
			o.first = ord.Time
		}
		if ord.Time.After(o.last) {
			o.last = ord.Time
		}
		d := ord.Time.UTC().Unix() / 86400
		if seen[d] {
			continue
		}
		seen[d] = true
		o.days++
		if asOf.Sub(ord.Time) < 90*day {
			o.days90++
		}
	}
	return o
}

// logCount is log(1 + the number of times in (asOf−window, asOf]).
func logCount(ts []time.Time, asOf time.Time, window time.Duration) float64 {
	from := asOf.Add(-window)
	var n float64
	for _, t := range ts {
		if t.After(from) && !t.After(asOf) {
			n++
		}
	}
	return math.Log1p(n)
}

func days(d time.Duration) float64 { return math.Max(d.Hours()/24, 0) }
