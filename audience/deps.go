package audience

import (
	"sort"
	"strings"
)

// Deps are the inputs a condition reads. The engine re-evaluates an
// audience for a profile only when one of them changed, and keeps a timer
// only for conditions that are Timed.
type Deps struct {
	// Traits read, sorted. A dotted name ("address.city") is listed with its
	// first segment ("address"), since a change to the object changes it.
	Traits []string `json:"traits,omitempty"`
	// Events whose arrival can change the value (aggregated events).
	Events []string `json:"events,omitempty"`
	// Computed traits read.
	Computed []string `json:"computed,omitempty"`
	// Consent purposes read.
	Consent []string `json:"consent,omitempty"`
	// Audiences whose membership is read.
	Audiences []string `json:"audiences,omitempty"`
	// Timed is true when time alone can change the value (event windows,
	// anniversaries): Result.NextChange can then be set.
	Timed bool `json:"timed,omitempty"`
}

// Dependencies returns what c reads. An expression contributes the traits
// and computed traits it names.
func Dependencies(c *Condition) Deps {
	sets := map[*[]string]map[string]bool{}
	var d Deps
	add := func(list *[]string, names ...string) {
		if sets[list] == nil {
			sets[list] = map[string]bool{}
		}
		for _, n := range names {
			sets[list][n] = true
		}
	}
	var walk func(c *Condition)
	walk = func(c *Condition) {
		switch c.Kind {
		case KindAnd, KindOr, KindNot:
			for _, ch := range c.Children {
				walk(ch)
			}
		case KindTrait:
			add(&d.Traits, traitNames(c.Name)...)
			d.Timed = d.Timed || c.Op == OpAnniversaryWithin
		case KindComputed:
			add(&d.Computed, c.Name)
			d.Timed = d.Timed || c.Op == OpAnniversaryWithin
		case KindEvent:
			add(&d.Events, c.Name)
			d.Timed = d.Timed || c.Within > 0
		case KindConsent:
			add(&d.Consent, c.Name)
		case KindAudience:
			add(&d.Audiences, c.Name)
		case KindBirthday:
			add(&d.Traits, "birthday")
			d.Timed = true
		case KindNear:
			add(&d.Traits, "latitude", "longitude", "address", "address.latitude", "address.longitude")
		case KindExpr:
			if p, err := c.programOf(); err == nil {
				add(&d.Traits, p.traits...)
				add(&d.Computed, p.computed...)
			}
		}
	}
	walk(c)
	for list, set := range sets {
		*list = sortedKeys(set)
	}
	return d
}

func traitNames(name string) []string {
	if dot := strings.IndexByte(name, '.'); dot > 0 {
		return []string{name, name[:dot]}
	}
	return []string{name}
}

// Has reports whether name is in a sorted list of Deps.
func Has(list []string, name string) bool {
	i := sort.SearchStrings(list, name)
	return i < len(list) && list[i] == name
}
