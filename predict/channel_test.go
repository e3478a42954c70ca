package predict

import (
	"math"
	"math/rand/v2"
	"testing"
)

// engagementPopulation generates customers whose true rate on each channel
// varies around the channel's mean, then counts their engagement.
func engagementPopulation(seed uint64, n int, means map[string]float64) [][]ChannelStats {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out [][]ChannelStats
	for range n {
		var stats []ChannelStats
		for _, ch := range []string{"email", "push", "sms"} {
			rate := min(max(means[ch]+0.05*rng.NormFloat64(), 0.001), 0.999)
			sent := float64(rng.IntN(30))
			var engaged float64
			for range int(sent) {
				if rng.Float64() < rate {
					engaged++
				}
			}
			stats = append(stats, ChannelStats{Channel: ch, Sent: sent, Engaged: engaged})
		}
		out = append(out, stats)
	}
	return out
}

func TestEstimateChannelPriors(t *testing.T) {
	means := map[string]float64{"email": 0.2, "push": 0.08, "sms": 0.35}
	priors := EstimateChannelPriors(engagementPopulation(1, 20000, means))
	for ch, mu := range means {
		p := priors[ch]
		if math.Abs(p.Rate-mu) > 0.01 {
			t.Errorf("prior rate of %s = %.4f, want %.2f", ch, p.Rate, mu)
		}
		// Rates spread with sd 0.05, so the strength is μ(1−μ)/0.0025 − 1.
		want := mu*(1-mu)/0.0025 - 1
		if math.Abs(p.Strength-want) > 0.35*want {
			t.Errorf("prior strength of %s = %.1f, want about %.1f", ch, p.Strength, want)
		}
	}
}

func TestBestChannel(t *testing.T) {
	priors := map[string]ChannelPrior{
		"email": {Rate: 0.20, Strength: 20},
		"push":  {Rate: 0.08, Strength: 20},
		"sms":   {Rate: 0.15, Strength: 20},
	}
	tests := []struct {
		name  string
		stats []ChannelStats
		want  string
	}{
		{"new customer gets the population's best", nil, "email"},
		{"planted: opens every push", []ChannelStats{{"push", 30, 27}, {"email", 30, 3}}, "push"},
		{"one lucky open is not enough", []ChannelStats{{"push", 1, 1}, {"email", 10, 2}}, "email"},
		{"unknown channel ignored", []ChannelStats{{"fax", 100, 100}}, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BestChannel(tt.stats, priors)
			if len(got) != len(priors) || got[0].Channel != tt.want {
				t.Errorf("BestChannel(%v) = %+v, want %s first", tt.stats, got, tt.want)
			}
		})
	}
}

// TestBestChannelRecoversPlanted plants a best channel per customer and
// checks it comes out for customers with enough history.
func TestBestChannelRecoversPlanted(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	means := map[string]float64{"email": 0.2, "push": 0.1, "sms": 0.15}
	priors := EstimateChannelPriors(engagementPopulation(2, 2000, means))
	channels := []string{"email", "push", "sms"}
	var hits, n int
	for range 500 {
		planted := channels[rng.IntN(3)]
		var stats []ChannelStats
		for _, ch := range channels {
			rate := 0.05
			if ch == planted {
				rate = 0.5
			}
			var engaged float64
			for range 40 {
				if rng.Float64() < rate {
					engaged++
				}
			}
			stats = append(stats, ChannelStats{ch, 40, engaged})
		}
		n++
		if BestChannel(stats, priors)[0].Channel == planted {
			hits++
		}
	}
	if hits < n*97/100 {
		t.Errorf("planted best channel recovered for %d of %d customers, want at least 97%%", hits, n)
	}
}
