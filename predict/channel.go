package predict

import (
	"cmp"
	"slices"
)

// ChannelStats counts one customer's messages on one channel.
type ChannelStats struct {
	// Channel names the channel: "email", "sms", "push", "web", …
	Channel string
	// Sent counts the messages delivered (or impressions shown).
	Sent float64
	// Engaged counts those the customer engaged with (opened, clicked).
	Engaged float64
}

// ChannelPrior is the population's engagement rate on a channel and how
// much weight it gets against a customer's own counts, as a beta
// distribution with mean Rate and Strength pseudo-messages.
type ChannelPrior struct {
	Rate, Strength float64
}

// DefaultPriorStrength is the prior's weight, in messages, when the
// population's spread cannot be estimated.
const DefaultPriorStrength = 10

// maxPriorStrength caps the estimated strength: when customers hardly differ,
// the estimate runs to infinity and would drown every customer's history.
const maxPriorStrength = 1000

// EstimateChannelPriors estimates each channel's prior from all customers'
// counts (one slice per customer) by the method of moments, the classical
// empirical-Bayes recipe for beta-binomial data: the prior mean is the
// pooled rate μ, and its strength m = μ(1−μ)/τ² − 1, where τ² is the
// variance of the customers' true rates: their observed rates' variance
// minus the part binomial noise explains. Channels whose customers do not
// vary beyond noise get a strength of 1000; channels with a single customer
// get DefaultPriorStrength.
func EstimateChannelPriors(customers [][]ChannelStats) map[string]ChannelPrior {
	type acc struct{ sent, engaged, n, sumSq, noise float64 }
	accs := make(map[string]*acc)
	for _, stats := range customers {
		for _, s := range stats {
			if s.Sent <= 0 {
				continue
			}
			a := accs[s.Channel]
			if a == nil {
				a = &acc{}
				accs[s.Channel] = a
			}
			a.sent, a.engaged, a.n = a.sent+s.Sent, a.engaged+s.Engaged, a.n+1
		}
	}
	priors := make(map[string]ChannelPrior, len(accs))
	for ch, a := range accs {
		priors[ch] = ChannelPrior{Rate: a.engaged / a.sent, Strength: DefaultPriorStrength}
	}
	// Second pass: the spread of the customers' rates around the pooled
	// rate, weighted by messages, and the binomial noise expected in it.
	for _, stats := range customers {
		for _, s := range stats {
			if a := accs[s.Channel]; a != nil && s.Sent > 0 {
				mu := priors[s.Channel].Rate
				d := s.Engaged/s.Sent - mu
				a.sumSq += s.Sent * d * d
				a.noise += mu * (1 - mu)
			}
		}
	}
	for ch, a := range accs {
		mu := priors[ch].Rate
		if a.n < 2 || a.sent <= a.n || mu <= 0 || mu >= 1 {
			continue
		}
		// E[Σ nᵢ(p̂ᵢ−μ)²] = τ²(Σnᵢ − N) + N·μ(1−μ) for N customers.
		tau2 := (a.sumSq - a.noise) / (a.sent - a.n)
		strength := maxPriorStrength + 0.0
		if tau2 > 0 {
			strength = min(mu*(1-mu)/tau2-1, maxPriorStrength)
		}
		priors[ch] = ChannelPrior{Rate: mu, Strength: max(strength, 1)}
	}
	return priors
}

// ChannelRate is a channel's smoothed engagement rate for one customer.
type ChannelRate struct {
	Channel string
	// Rate is the posterior mean (engaged + m·μ) / (sent + m): the
	// customer's own rate pulled toward the population's μ, less so the
	// more messages the customer has had.
	Rate float64
}

// BestChannel ranks the channels of priors for one customer by smoothed
// engagement rate, best first (predicted.best_channel is the first). A
// customer with no history on a channel gets the population rate there, so
// a new customer gets the population's best channel. Channels in stats but
// not in priors are ignored: pass priors only for channels the customer can
// be reached on. Ties go to the higher population rate, then the name.
func BestChannel(stats []ChannelStats, priors map[string]ChannelPrior) []ChannelRate {
	own := make(map[string]ChannelStats, len(stats))
	for _, s := range stats {
		o := own[s.Channel]
		o.Sent, o.Engaged = o.Sent+s.Sent, o.Engaged+s.Engaged
		own[s.Channel] = o
	}
	rates := make([]ChannelRate, 0, len(priors))
	for ch, p := range priors {
		o := own[ch]
		rates = append(rates, ChannelRate{Channel: ch, Rate: (o.Engaged + p.Strength*p.Rate) / (o.Sent + p.Strength)})
	}
	slices.SortFunc(rates, func(a, b ChannelRate) int {
		return cmp.Or(cmp.Compare(b.Rate, a.Rate), cmp.Compare(priors[b.Channel].Rate, priors[a.Channel].Rate),
			cmp.Compare(a.Channel, b.Channel))
	})
	return rates
}
