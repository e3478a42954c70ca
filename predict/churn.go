package predict

import (
	"math"
	"time"
)

// ChurnInput is what churn risk reads of one customer.
type ChurnInput struct {
	// PurchaseRisk is the probability that the customer makes no purchase
	// in the churn horizon (btyd's Score.PNoPurchase), which tends to
	// 1 − P(alive) for long horizons. NaN when the customer never bought.
	PurchaseRisk float64
	// LastEngagement is the time of the customer's last engagement other
	// than an order (a session, an opened email, a clicked push). Zero when
	// none is known.
	LastEngagement time.Time
}

// ChurnOptions weighs the two sides of churn risk.
type ChurnOptions struct {
	// EngagementWeight is the share of the risk that comes from engagement
	// when both sides are known. Default 0.3: buying is the stronger
	// signal; engagement catches drifting earlier. Values outside (0, 1]
	// mean the default; to leave engagement out, leave LastEngagement zero.
	EngagementWeight float64
	// HalfLife is the silence after which the engagement side reaches 0.5.
	// Default: 30 days.
	HalfLife time.Duration
}

// Churn is a customer's churn risk with the two parts it came from.
type Churn struct {
	// Risk is in [0, 1]; higher means more likely gone (predicted.churn_risk).
	Risk float64
	// PurchaseRisk and EngagementRisk are the inputs, NaN when unknown.
	PurchaseRisk, EngagementRisk float64
}

// ChurnRisk blends the purchase model's risk with the silence since the
// customer's last engagement:
//
//	engagement risk = 1 − 2^(−silence / half-life)
//	risk = (1 − w)·purchase risk + w·engagement risk
//
// When only one side is known the risk is that side. It reports false when
// neither is.
func ChurnRisk(in ChurnInput, asOf time.Time, opt ChurnOptions) (Churn, bool) {
	opt = opt.withDefaults()
	c := Churn{PurchaseRisk: in.PurchaseRisk, EngagementRisk: math.NaN()}
	if !in.LastEngagement.IsZero() {
		silence := max(asOf.Sub(in.LastEngagement), 0)
		c.EngagementRisk = 1 - math.Exp2(-float64(silence)/float64(opt.HalfLife))
	}
	hasPurchase, hasEngagement := !math.IsNaN(c.PurchaseRisk), !math.IsNaN(c.EngagementRisk)
	switch {
	case hasPurchase && hasEngagement:
		c.Risk = (1-opt.EngagementWeight)*c.PurchaseRisk + opt.EngagementWeight*c.EngagementRisk
	case hasPurchase:
		c.Risk = c.PurchaseRisk
	case hasEngagement:
		c.Risk = c.EngagementRisk
	default:
		return c, false
	}
	return c, true
}

func (o ChurnOptions) withDefaults() ChurnOptions {
	if !(o.EngagementWeight > 0 && o.EngagementWeight <= 1) {
		o.EngagementWeight = 0.3
	}
	if o.HalfLife <= 0 {
		o.HalfLife = 30 * 24 * time.Hour
	}
	return o
}
