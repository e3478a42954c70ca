package live

import (
	"encoding/json"
	"math"
	"time"
)

// Prediction is one profile's predicted traits from one fit, each with the
// model and the inputs that produced it. It is what the store keeps and
// GET /api/v1/profiles/{id}/predictions shows.
type Prediction struct {
	// Version is the fit's number, counted from 1; every trait of a fit
	// shares it.
	Version int       `json:"version"`
	FitAt   time.Time `json:"fit_at"`
	AsOf    time.Time `json:"as_of"`
	// Traits are keyed by name without the "predicted." prefix.
	Traits map[string]Trait `json:"traits"`
}

// Trait is one predicted trait.
type Trait struct {
	Value any `json:"value"`
	// Model is the name of the model that produced it, as in
	// GET /api/v1/predictions/models.
	Model string `json:"model"`
	// Inputs are what the model read of this profile, and for some traits
	// how each input weighed: the explanation.
	Inputs map[string]any `json:"inputs,omitempty"`
}

// Recommendation is one recommended product with its explanation.
type Recommendation struct {
	Product string  `json:"product"`
	Score   float64 `json:"score"`
	// Because is the bought product that contributed most, empty for a
	// best-seller that fills the list.
	Because string `json:"because,omitempty"`
}

// values is the compact in-memory form of a profile's predicted values,
// read by audience conditions on every event: a few dozen bytes instead of
// a map per profile.
type values struct {
	num     [numTraits]float32 // NaN when absent
	rfm     [3]uint8           // R, F, M scores; 0 when absent
	segment string
	channel string
	hour    int16 // -1 when absent
	recs    []string
}

// The numeric traits, in values.num's order.
const (
	numPAlive = iota
	numPurchases
	numCLV
	numChurn
	numPurchase30
	numTraits
)

// valuesOf extracts the compact form from a prediction.
func valuesOf(p *Prediction, names *traitNames) values {
	v := values{hour: -1}
	for i := range v.num {
		v.num[i] = float32(math.NaN())
	}
	for i, name := range names.num {
		if f, ok := asFloat(p.Traits[name].Value); ok {
			v.num[i] = float32(f)
		}
	}
	for i, name := range []string{"rfm_r", "rfm_f", "rfm_m"} {
		if f, ok := asFloat(p.Traits[name].Value); ok {
			v.rfm[i] = uint8(f)
		}
	}
	v.segment, _ = p.Traits["rfm_segment"].Value.(string)
	v.channel, _ = p.Traits["best_channel"].Value.(string)
	if f, ok := asFloat(p.Traits["best_hour"].Value); ok {
		v.hour = int16(f)
	}
	switch recs := p.Traits["recommended_products"].Value.(type) {
	case []string:
		v.recs = recs
	case []any:
		for _, r := range recs {
			if s, ok := r.(string); ok {
				v.recs = append(v.recs, s)
			}
		}
	}
	return v
}

func asFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// traitNames are the names of the numeric traits, which depend on the
// configured purchase horizon (purchases_90d by default).
type traitNames struct {
	num [numTraits]string
}

// asMap returns v as audience conditions read it.
func (v *values) asMap(names *traitNames) map[string]any {
	m := make(map[string]any, 12)
	for i, f := range v.num {
		if !math.IsNaN(float64(f)) {
			m[names.num[i]] = float64(f)
		}
	}
	if v.rfm[0] > 0 {
		m["rfm_r"], m["rfm_f"], m["rfm_m"] = int(v.rfm[0]), int(v.rfm[1]), int(v.rfm[2])
	}
	if v.segment != "" {
		m["rfm_segment"] = v.segment
	}
	if v.channel != "" {
		m["best_channel"] = v.channel
	}
	if v.hour >= 0 {
		m["best_hour"] = int(v.hour)
	}
	if v.recs != nil {
		m["recommended_products"] = v.recs
	}
	return m
}

// finite returns m without the NaN and infinite values JSON cannot hold.
func finite(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

// round keeps 6 significant digits: predictions are not more precise, and
// shorter JSON is cheaper to store for every profile.
func round(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	p := math.Pow(10, 5-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}
