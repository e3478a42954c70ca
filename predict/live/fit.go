package live

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic/predict"
	"github.com/mosaic-cdp/mosaic/predict/btyd"
	"github.com/mosaic-cdp/mosaic/predict/propensity"
	"github.com/mosaic-cdp/mosaic/predict/recommend"
)

// ModelInfo is one model of a fit as GET /api/v1/predictions/models shows
// it: predict.ModelReport with the fit's version, and the error when the
// model could not be fitted on this data.
type ModelInfo struct {
	Name          string             `json:"name"`
	Version       int                `json:"version"`
	Status        string             `json:"status"` // "ok" or "failed"
	Error         string             `json:"error,omitempty"`
	Params        map[string]float64 `json:"params"`
	LogLikelihood float64            `json:"log_likelihood"`
	FitAt         time.Time          `json:"fit_at"`
	AsOf          time.Time          `json:"as_of"`
	N             int                `json:"n"`
	Quality       map[string]float64 `json:"quality"`
}

// fitJob is one fit over a snapshot of the observer.
type fitJob struct {
	opts     Options
	names    *traitNames
	version  int
	asOf     time.Time
	fitAt    time.Time
	progress func(stage string, done, total int)

	ids []uint64
	hs  []history
	out []Prediction
	ms  []ModelInfo
}

func (j *fitJob) model(rep predict.ModelReport, err error) bool {
	m := ModelInfo{Name: rep.Name, Version: j.version, Status: "ok", Params: finite(rep.Params),
		LogLikelihood: rep.LogLikelihood, FitAt: j.fitAt, AsOf: j.asOf, N: rep.N, Quality: finite(rep.Quality)}
	if err != nil {
		m.Status, m.Error = "failed", err.Error()
	}
	if math.IsNaN(m.LogLikelihood) || math.IsInf(m.LogLikelihood, 0) {
		m.LogLikelihood = 0
	}
	j.ms = append(j.ms, m)
	return err == nil
}

// set writes one trait. A value the model could not compute (NaN, for
// example a customer whose first purchase is on the as-of day) is left
// out, as are inputs that are not finite.
func (j *fitJob) set(i int, name string, value any, model string, inputs map[string]any) {
	if f, ok := value.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return
	}
	for k, v := range inputs {
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			delete(inputs, k)
		}
	}
	if j.out[i].Traits == nil {
		j.out[i].Traits = map[string]Trait{}
	}
	j.out[i].Traits[name] = Trait{Value: value, Model: model, Inputs: inputs}
}

// run fits every model and fills j.out and j.ms.
func (j *fitJob) run(ctx context.Context) error {
	j.out = make([]Prediction, len(j.ids))
	for i := range j.out {
		j.out[i] = Prediction{Version: j.version, FitAt: j.fitAt, AsOf: j.asOf}
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"purchase models", j.purchases}, {"purchase propensity", j.propensity},
		{"best channel and hour", j.channels}, {"recommendations", j.recommendations},
	}
	for _, s := range steps {
		j.progress(s.name, 0, len(j.ids))
		if err := s.fn(ctx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// purchases fits BG/NBD and Gamma-Gamma and writes p_alive, the expected
// purchases, CLV, churn risk and RFM.
func (j *fitJob) purchases(ctx context.Context) error {
	asOf := j.asOf.UnixMicro()
	var sums []predict.Summary
	var who []int
	for i, h := range j.hs {
		if s, ok := predict.Summarize(h.orderValues(asOf), j.asOf, predict.SummaryOptions{}); ok {
			sums, who = append(sums, s), append(who, i)
		}
	}
	fo := btyd.FitOptions{AsOf: j.asOf, Now: func() time.Time { return j.fitAt }}
	bg, rep, err := btyd.FitBGNBD(ctx, sums, fo)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep.Name = "bgnbd"
	bgOK := j.model(rep, err)
	gg, rep, err := btyd.FitGammaGamma(ctx, sums, fo)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep.Name = "gamma_gamma"
	ggOK := j.model(rep, err)
	scores := make([]btyd.Score, len(sums))
	if bgOK {
		sc, err := btyd.NewScorer(bg, gg, j.opts.Score)
		if err != nil {
			return err
		}
		sc.ScoreAll(sums, scores, 0)
	}
	j.rfm(sums, who)
	j.progress("purchase models", len(j.ids)/2, len(j.ids))
	byProfile := make([]int, len(j.ids))
	for i := range byProfile {
		byProfile[i] = -1
	}
	for k, i := range who {
		byProfile[i] = k
		if !bgOK {
			continue
		}
		s, sc := sums[k], scores[k]
		in := map[string]any{"x": s.X, "t_x_weeks": round(s.Tx), "T_weeks": round(s.T),
			"first_purchase": s.First, "last_purchase": s.Last}
		j.set(i, "p_alive", round(sc.PAlive), "bgnbd", in)
		j.set(i, j.names.num[numPurchases], round(sc.Purchases), "bgnbd", in)
		if ggOK {
			j.set(i, j.names.num[numCLV], round(sc.CLV), "gamma_gamma", map[string]any{
				"x": s.X, "t_x_weeks": round(s.Tx), "T_weeks": round(s.T), "mean_repeat_spend": round(s.MeanRepeatSpend),
				"expected_order_value": round(sc.ExpectedSpend), "annual_discount_rate": j.opts.Score.AnnualDiscountRate,
			})
		}
	}
	j.churn(byProfile, scores, bgOK)
	return nil
}

// churn writes churn_risk from the purchase model and the last engagement.
func (j *fitJob) churn(byProfile []int, scores []btyd.Score, bgOK bool) {
	asOf := j.asOf.UnixMicro()
	for i, h := range j.hs {
		in := predict.ChurnInput{PurchaseRisk: math.NaN()}
		if k := byProfile[i]; k >= 0 && bgOK {
			in.PurchaseRisk = scores[k].PNoPurchase
		}
		for _, a := range slices.Backward(h.acts) {
			if a.t <= asOf && a.kind != kindSent {
				in.LastEngagement = time.UnixMicro(a.t).UTC()
				break
			}
		}
		c, ok := predict.ChurnRisk(in, j.asOf, predict.ChurnOptions{})
		if !ok {
			continue
		}
		inputs := map[string]any{}
		if !math.IsNaN(c.PurchaseRisk) {
			inputs["purchase_risk"] = round(c.PurchaseRisk)
		}
		if !math.IsNaN(c.EngagementRisk) {
			inputs["engagement_risk"], inputs["last_engagement"] = round(c.EngagementRisk), in.LastEngagement
		}
		j.set(i, "churn_risk", round(c.Risk), "churn", inputs)
	}
	j.ms = append(j.ms, ModelInfo{Name: "churn", Version: j.version, Status: "ok", FitAt: j.fitAt, AsOf: j.asOf, N: len(j.hs),
		Params:  map[string]float64{"engagement_weight": 0.3, "half_life_days": 30, "horizon_days": j.opts.Score.ChurnHorizon.Hours() / 24},
		Quality: map[string]float64{}})
}

// rfm writes the RFM scores and segment of every buyer.
func (j *fitJob) rfm(sums []predict.Summary, who []int) {
	ins := make([]predict.RFMInput, len(sums))
	for k, s := range sums {
		ins[k] = predict.RFMInputOf(s, j.asOf)
	}
	sc := predict.NewRFMScorer(ins)
	for k, i := range who {
		r := sc.Score(ins[k])
		in := map[string]any{"recency_days": round(ins[k].Recency.Hours() / 24), "frequency": ins[k].Frequency,
			"monetary": round(ins[k].Monetary), "r": r.R, "f": r.F, "m": r.M}
		j.set(i, "rfm_segment", string(r.Segment), "rfm", in)
		j.set(i, "rfm_r", r.R, "rfm", nil)
		j.set(i, "rfm_f", r.F, "rfm", nil)
		j.set(i, "rfm_m", r.M, "rfm", nil)
	}
	j.ms = append(j.ms, ModelInfo{Name: "rfm", Version: j.version, Status: "ok", FitAt: j.fitAt, AsOf: j.asOf, N: len(sums),
		Params: map[string]float64{}, Quality: map[string]float64{}})
}

// activity returns what the propensity model reads of h, up to asOf.
func (h *history) activity(asOf int64) propensity.Activity {
	a := propensity.Activity{Orders: h.orderValues(asOf)}
	var lastPage int64 = math.MinInt64
	for _, x := range h.acts {
		if x.t > asOf {
			break
		}
		t := time.UnixMicro(x.t).UTC()
		switch {
		case x.kind == kindPageView:
			if x.t-lastPage > sessionGap.Microseconds() {
				a.Sessions = append(a.Sessions, t)
			}
			lastPage = x.t
		case x.kind == kindProductView:
			a.ProductViews = append(a.ProductViews, t)
		case x.channel == chEmail && x.kind == kindOpened:
			a.EmailOpens = append(a.EmailOpens, t)
		case x.channel == chEmail && x.kind == kindClicked:
			a.EmailClicks = append(a.EmailClicks, t)
		}
	}
	return a
}

// sessionGap is the silence after which a page view starts a new session,
// as web analytics count them.
const sessionGap = 30 * time.Minute

var sampleSeed = maphash.MakeSeed()

// propensity trains the purchase model on a sample of profiles with a
// time-based holdout and scores every profile.
func (j *fitJob) propensity(ctx context.Context) error {
	asOf := j.asOf.UnixMicro()
	keep := max(1, len(j.hs)/max(j.opts.TrainSample, 1)+1)
	if len(j.hs) <= j.opts.TrainSample {
		keep = 1
	}
	var train []propensity.Activity
	for i, h := range j.hs {
		if keep == 1 || maphash.Comparable(sampleSeed, j.ids[i])%uint64(keep) == 0 {
			train = append(train, h.activity(asOf))
		}
	}
	res, err := propensity.FitWithHoldout(ctx, train, j.asOf, propensity.Options{Now: func() time.Time { return j.fitAt }})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	res.Report.Name = "purchase_propensity"
	if !j.model(res.Report, err) {
		return nil
	}
	for i, h := range j.hs {
		x, ok := propensity.Features(h.activity(asOf), j.asOf)
		if !ok {
			continue
		}
		contrib := res.Model.Contributions(x)
		features := make(map[string]any, len(x))
		top := make([]map[string]any, 0, len(x))
		for f, name := range propensity.FeatureNames {
			features[name] = round(x[f])
			top = append(top, map[string]any{"feature": name, "contribution": round(contrib[f])})
		}
		slices.SortFunc(top, func(a, b map[string]any) int {
			return cmp.Compare(math.Abs(b["contribution"].(float64)), math.Abs(a["contribution"].(float64)))
		})
		j.set(i, "purchase_30d", round(res.Model.Predict(x)), "purchase_propensity",
			map[string]any{"features": features, "top_contributions": top[:min(3, len(top))]})
		if i%65536 == 0 {
			j.progress("purchase propensity", i, len(j.hs))
		}
	}
	return nil
}

// channels writes best_channel and best_hour.
func (j *fitJob) channels(ctx context.Context) error {
	asOf := j.asOf.UnixMicro()
	stats := make([][]predict.ChannelStats, len(j.hs))
	var pop predict.HourHistogram
	var engagements int
	for i, h := range j.hs {
		stats[i] = channelStats(h, asOf)
		for _, a := range h.acts {
			if a.t <= asOf && a.kind.engaged() {
				pop[a.hour]++
				engagements++
			}
		}
	}
	priors := predict.EstimateChannelPriors(stats)
	params := map[string]float64{}
	for ch, p := range priors {
		params["rate_"+ch], params["strength_"+ch] = p.Rate, p.Strength
	}
	j.ms = append(j.ms, ModelInfo{Name: "best_channel", Version: j.version, Status: "ok", FitAt: j.fitAt, AsOf: j.asOf,
		N: len(j.hs), Params: finite(params), Quality: map[string]float64{}})
	j.ms = append(j.ms, ModelInfo{Name: "best_hour", Version: j.version, Status: "ok", FitAt: j.fitAt, AsOf: j.asOf,
		N: engagements, Params: map[string]float64{"prior_strength": 10, "neighbour": 0.5}, Quality: map[string]float64{}})
	for i, h := range j.hs {
		if len(priors) > 0 {
			rates := predict.BestChannel(stats[i], priors)
			in := map[string]any{}
			for _, r := range rates {
				own := map[string]any{"rate": round(r.Rate)}
				for _, s := range stats[i] {
					if s.Channel == r.Channel {
						own["sent"], own["engaged"] = s.Sent, s.Engaged
					}
				}
				in[r.Channel] = own
			}
			j.set(i, "best_channel", rates[0].Channel, "best_channel", in)
		}
		if engagements > 0 {
			var own predict.HourHistogram
			n := 0
			for _, a := range h.acts {
				if a.t <= asOf && a.kind.engaged() {
					own[a.hour]++
					n++
				}
			}
			best := predict.BestHour(&own, &pop, predict.MomentOptions{})
			j.set(i, "best_hour", int(best), "best_hour", map[string]any{"label": best.String(), "engagements": n})
		}
	}
	return ctx.Err()
}

// channelStats counts a profile's messages and engagements per channel.
// A profile with engagements but fewer sends (deliveries not tracked)
// counts each engagement as a send.
func channelStats(h history, asOf int64) []predict.ChannelStats {
	var sent, engaged [len(channelNames)]float64
	for _, a := range h.acts {
		if a.t > asOf || a.channel == chNone || int(a.channel) >= len(channelNames) {
			continue
		}
		switch {
		case a.kind == kindSent:
			sent[a.channel]++
		case a.kind == kindOpened:
			engaged[a.channel]++
		}
	}
	var out []predict.ChannelStats
	for ch := range sent {
		if sent[ch] > 0 || engaged[ch] > 0 {
			out = append(out, predict.ChannelStats{Channel: channel(ch).String(), Sent: max(sent[ch], engaged[ch]), Engaged: engaged[ch]})
		}
	}
	return out
}

// recommendations builds the item-to-item model from every profile's
// purchases and writes each profile's top products not yet bought.
func (j *fitJob) recommendations(ctx context.Context) error {
	asOf := j.asOf.UnixMicro()
	b := recommend.NewBuilder()
	var products []string
	bought := false
	for _, h := range j.hs {
		products = products[:0]
		for _, o := range h.orders {
			if o.t <= asOf {
				products = append(products, o.products...)
			}
		}
		bought = bought || len(products) > 0
		b.Add(products)
	}
	if !bought {
		return nil
	}
	m, err := b.Build(ctx, recommend.DefaultOptions())
	if err != nil {
		j.model(predict.ModelReport{Name: "item_to_item"}, err)
		return ctx.Err()
	}
	j.model(m.Report(j.asOf, j.fitAt), nil)
	return b.RecommendAll(ctx, m, j.opts.Recommendations, 0, func(c int, recs []recommend.Recommendation) {
		if len(recs) == 0 {
			return
		}
		names, in := make([]string, len(recs)), make([]Recommendation, len(recs))
		for k, r := range recs {
			names[k], in[k] = r.Product, Recommendation{Product: r.Product, Score: round(r.Score), Because: r.Because}
		}
		// Each customer index is one profile, written by one goroutine.
		j.out[c].Traits = withTrait(j.out[c].Traits, "recommended_products",
			Trait{Value: names, Model: "item_to_item", Inputs: map[string]any{"recommendations": in}})
	})
}

func withTrait(m map[string]Trait, name string, t Trait) map[string]Trait {
	if m == nil {
		m = map[string]Trait{}
	}
	m[name] = t
	return m
}

// validateAsOf refuses an as-of date in the future: the models would treat
// the days to come as days without purchases.
func validateAsOf(asOf, now time.Time) error {
	if asOf.After(now.Add(time.Minute)) {
		return fmt.Errorf("as-of %s is in the future", asOf.Format(time.RFC3339))
	}
	return nil
}
