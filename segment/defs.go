package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/audience"
)

// The kinds of definition, as the store keys them.
const (
	KindComputed = "computed_trait"
	KindAudience = "audience"
)

// Aggregations a computed trait can compute.
const (
	AggCount         = "count"
	AggSum           = "sum"
	AggAvg           = "avg"
	AggMin           = "min"
	AggMax           = "max"
	AggFirst         = "first"
	AggLast          = "last"
	AggMostFrequent  = "most_frequent"
	AggDistinctCount = "distinct_count"
)

var aggs = map[string]bool{AggCount: true, AggSum: true, AggAvg: true, AggMin: true, AggMax: true,
	AggFirst: true, AggLast: true, AggMostFrequent: true, AggDistinctCount: true}

// keyPattern is what keys look like: they are names in conditions
// (computed orders_30d, in audience vip), so they stay bare words there.
var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ComputedTrait is a named aggregation of a profile's events, kept up to
// date per profile.
type ComputedTrait struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Event is the event name aggregated (track calls).
	Event string `json:"event"`
	// Where filters the events on their properties (JSON tree); WhereText
	// is its text form.
	Where     json.RawMessage `json:"where,omitempty"`
	WhereText string          `json:"where_text,omitempty"`
	// Agg is one of count, sum, avg, min, max, first, last, most_frequent,
	// distinct_count; all but count read Property (first and last without
	// it give the event's time).
	Agg      string `json:"agg"`
	Property string `json:"property,omitempty"`
	// Within is the sliding window ("30d", "12h"); empty for all time.
	Within    string    `json:"within,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	where  *audience.Condition
	window time.Duration
}

// ComputedTraitSpec is what a user sends to create or change a computed
// trait; Where is a JSON tree or a string in the text form.
type ComputedTraitSpec struct {
	Key         string          `json:"key"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Event       string          `json:"event"`
	Where       json.RawMessage `json:"where"`
	Agg         string          `json:"agg"`
	Property    string          `json:"property"`
	Within      string          `json:"within"`
}

func invalid(format string, args ...any) error {
	return mosaic.Errorf(mosaic.EINVALID, format, args...)
}

// build checks the spec and returns the trait it defines.
func (sp *ComputedTraitSpec) build() (*ComputedTrait, error) {
	t := &ComputedTrait{Key: sp.Key, Name: sp.Name, Description: sp.Description, Event: sp.Event,
		Agg: sp.Agg, Property: sp.Property, Within: sp.Within}
	if t.Agg == "" {
		t.Agg = AggCount
	}
	switch {
	case !keyPattern.MatchString(t.Key):
		return nil, invalid("key: %q is not a key: use 1 to 64 lower-case letters, digits and _, starting with a letter, like orders_30d.", t.Key)
	case strings.TrimSpace(t.Event) == "" || len(t.Event) > 256:
		return nil, invalid("event: name the event to aggregate (1 to 256 bytes), like \"Order Completed\".")
	case !aggs[t.Agg]:
		return nil, invalid("agg: %q is not an aggregation: use count, sum, avg, min, max, first, last, most_frequent or distinct_count.", t.Agg)
	case t.Agg == AggCount && t.Property != "":
		return nil, invalid("property: count counts events and takes no property; remove it or choose another agg.")
	case t.Property == "" && t.Agg != AggCount && t.Agg != AggFirst && t.Agg != AggLast:
		return nil, invalid("property: %s needs the event property to aggregate, like \"revenue\".", t.Agg)
	}
	if t.Within != "" {
		d, err := audience.ParseWindow(t.Within)
		if err != nil {
			return nil, invalid("within: %v.", err)
		}
		t.window, t.Within = d, audience.FormatWindow(d)
	}
	if err := t.setWhere(sp.Where); err != nil {
		return nil, err
	}
	return t, nil
}

// setWhere reads a where clause given as a JSON tree or as text.
func (t *ComputedTrait) setWhere(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		t.Where, t.WhereText, t.where = nil, "", nil
		return nil
	}
	var c *audience.Condition
	var err error
	if raw[0] == '"' {
		var text string
		if err = json.Unmarshal(raw, &text); err == nil {
			c, err = audience.ParseWhere(text)
		}
	} else {
		c, err = audience.DecodeWhere(raw)
	}
	if err != nil {
		return invalid("where: %v", err)
	}
	tree, err := c.MarshalJSON()
	if err != nil {
		return invalid("where: %v", err)
	}
	t.Where, t.where = tree, c
	t.WhereText = whereText(c)
	return nil
}

// whereText prints a where tree: the text of an event condition using it,
// cut down to the clause.
func whereText(c *audience.Condition) string {
	ev := &audience.Condition{Kind: audience.KindEvent, Name: "x", Where: c, Agg: audience.AggCount, Op: audience.OpGe, Value: audience.Number(1)}
	s := audience.Format(ev)
	const prefix = `count(event x where `
	if i := strings.Index(s, prefix); i >= 0 {
		s = s[i+len(prefix):]
		if j := strings.LastIndex(s, ") >= 1"); j >= 0 {
			return s[:j]
		}
	}
	return s
}

// restore prepares a trait read back from the store.
func (t *ComputedTrait) restore() error {
	if t.Within != "" {
		d, err := audience.ParseWindow(t.Within)
		if err != nil {
			return err
		}
		t.window = d
	}
	return t.setWhere(t.Where)
}

// Audience is a named condition over profiles.
type Audience struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Condition is the JSON tree; ConditionText its text form.
	Condition     json.RawMessage `json:"condition"`
	ConditionText string          `json:"condition_text"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`

	cond *audience.Condition
	deps audience.Deps
	slot int32 // see slots.go; set by rebuild
}

// AudienceSpec is what a user sends to create or change an audience; the
// condition is a JSON tree or a string in the text form.
type AudienceSpec struct {
	Key         string          `json:"key"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Condition   json.RawMessage `json:"condition"`
}

// parseCondition reads a condition given as a JSON tree or as text.
func parseCondition(raw json.RawMessage) (*audience.Condition, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, invalid("condition: give the audience's condition, as a JSON tree or in the text form, like \"trait country = \\\"NL\\\"\".")
	}
	var c *audience.Condition
	var err error
	if raw[0] == '"' {
		var text string
		if err = json.Unmarshal(raw, &text); err == nil {
			c, err = audience.Parse(text)
		}
	} else {
		c, err = audience.Decode(raw)
	}
	if err != nil {
		return nil, invalid("condition: %v", err)
	}
	return c, nil
}

func (a *Audience) setCondition(c *audience.Condition) error {
	tree, err := c.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode condition: %w", err)
	}
	a.Condition, a.ConditionText, a.cond = tree, audience.Format(c), c
	a.deps = audience.Dependencies(c)
	return nil
}
