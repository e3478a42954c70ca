package audience

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// audiences is a lookup over text conditions by key, as the engine's
// audience store will provide.
func audiences(t *testing.T, defs map[string]string) func(string) (*Condition, bool) {
	t.Helper()
	m := map[string]*Condition{}
	for k, src := range defs {
		c, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%s): %v", src, err)
		}
		m[k] = c
	}
	return func(key string) (*Condition, bool) { c, ok := m[key]; return c, ok }
}

// TestValidateReferences follows references to other audiences.
func TestValidateReferences(t *testing.T) {
	lookup := audiences(t, map[string]string{
		"vip":      `computed lifetime_value > 1000 and in audience "loyal"`,
		"loyal":    `count(event "Order Completed" within 365d) >= 5`,
		"a":        `in audience b`,
		"b":        `consent marketing and in audience c`,
		"c":        `not in audience a`,
		"self":     `in audience self`,
		"dangling": `in audience gone`,
	})
	tests := []struct {
		name    string
		src     string
		wantErr error
		wantMsg string
	}{
		{"no references", `consent marketing`, nil, ""},
		{"a chain without cycle", `in audience vip or in audience loyal`, nil, ""},
		{"unknown", `trait a = 1 and in audience nobody`, ErrUnknownAudience, `and[1].audience: there is no audience "nobody"; create it first or correct the key`},
		{"cycle among others", `consent x or in audience a`, ErrCycle, `or[1].audience: audience "a" refers back to itself: a → b → c → a; remove one of the references`},
		{"self reference", `not in audience self`, ErrCycle, `not.audience: audience "self" refers back to itself: self → self; remove one of the references`},
		{"dangling below", `in audience dangling`, ErrUnknownAudience, `audience: audience "dangling" (through dangling) refers to "gone", which does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			err = Validate(c, lookup)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Validate(%s) = %v, want %v", tt.src, err, tt.wantErr)
			}
			if err != nil && err.Error() != tt.wantMsg {
				t.Errorf("Validate(%s) = %q, want %q", tt.src, err, tt.wantMsg)
			}
		})
	}
}

// TestValidateSavedAudience finds a cycle through the audience being saved,
// when the lookup returns its new condition under its own key.
func TestValidateSavedAudience(t *testing.T) {
	existing := audiences(t, map[string]string{"loyal": `in audience vip and consent marketing`})
	updated, err := Parse(`trait tier = "gold" or in audience loyal`)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(key string) (*Condition, bool) {
		if key == "vip" {
			return updated, true
		}
		return existing(key)
	}
	err = Validate(updated, lookup)
	if !errors.Is(err, ErrCycle) || !strings.Contains(err.Error(), "loyal → vip → loyal") {
		t.Errorf("Validate(vip) = %v, want a cycle loyal → vip → loyal", err)
	}
}

// TestValidateGoTrees checks trees built in Go: the same rules as the
// decoders, errors with JSON paths, and a checked tree evaluates.
func TestValidateGoTrees(t *testing.T) {
	trait := func(name string, op Op, v Value) *Condition {
		return &Condition{Kind: KindTrait, Name: name, Op: op, Value: v}
	}
	tests := []struct {
		name string
		c    *Condition
		want string
	}{
		{"good", &Condition{Kind: KindAnd, Children: []*Condition{trait("a", OpEq, Number(1)), {Kind: KindConsent, Name: "marketing"}}}, ""},
		{"nil child", &Condition{Kind: KindOr, Children: []*Condition{nil}}, "or[0]: a condition is missing here"},
		{"stray field", &Condition{Kind: KindConsent, Name: "m", Value: Number(1)}, "value: a consent condition has no value; remove it"},
		{"not with two", &Condition{Kind: KindNot, Children: []*Condition{trait("a", OpExists, Value{}), trait("b", OpExists, Value{})}}, "not: not takes exactly one condition, not 2"},
		{"bad window", &Condition{Kind: KindEvent, Name: "x", Agg: AggCount, Op: OpGe, Value: Number(1), Within: 90 * time.Minute}, "within: the window 1h30m0s is not a whole number of hours"},
		{"unknown kind", &Condition{Kind: 99}, "unknown condition kind 99"},
		{"property outside where", &Condition{Kind: KindProperty, Name: "p", Op: OpExists}, "property comparisons belong in an event's where; compare a trait with trait instead"},
		{"where in where", &Condition{Kind: KindEvent, Name: "x", Agg: AggCount, Op: OpGe, Value: Number(1),
			Where: &Condition{Kind: KindNot, Children: []*Condition{{Kind: KindConsent, Name: "m"}}}},
			"where.not: a where condition is made of property comparisons, and, or and not; consent cannot appear in it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.c, nil)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLimits checks that oversized and overdeep trees are refused in both
// forms, with a position or a path.
func TestLimits(t *testing.T) {
	wide := "consent a" + strings.Repeat(" or consent a", MaxNodes)
	deep := strings.Repeat("not ", MaxDepth) + "consent a"
	okDeep := strings.Repeat("not ", MaxDepth-1) + "consent a"
	deepParens := strings.Repeat("(", MaxDepth+1) + "consent a" + strings.Repeat(")", MaxDepth+1)
	tests := []struct {
		name, src, want string
	}{
		{"too many nodes", wide, "1:13001: the condition has more than 1000 nodes; split it into audiences that refer to each other"},
		{"too deep", deep, "1:129: the condition nests deeper than 32 levels"},
		{"deep enough", okDeep, ""},
		{"too many parentheses", deepParens, "1:33: the condition nests deeper than 32 levels"},
		{"too long a list", "trait a in [" + strings.Repeat("1, ", MaxListLen) + "1]", "1:3013: a list holds at most 1000 values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.src)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Parse = %q, want %q", got, tt.want)
			}
			if c == nil {
				return
			}
			// The same tree in JSON decodes, and one level more does not.
			data, _ := c.MarshalJSON()
			if _, err := Decode(data); err != nil {
				t.Errorf("Decode(MarshalJSON(c)) = %v", err)
			}
			deeper, _ := (&Condition{Kind: KindNot, Children: []*Condition{c}}).MarshalJSON()
			_, err = Decode(deeper)
			// The path names the node at depth 33: the value of the 32nd "not".
			want := strings.TrimSuffix(strings.Repeat("not.", MaxDepth), ".") + ": the condition nests deeper than 32 levels"
			if err == nil || err.Error() != want {
				t.Errorf("Decode(one level deeper) = %v, want %s", err, want)
			}
		})
	}
}

// TestDecodeDefaults checks the defaults of an event node.
func TestDecodeDefaults(t *testing.T) {
	c, err := Decode([]byte(`{"event": "Signed Up"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Condition{Kind: KindEvent, Name: "Signed Up", Agg: AggCount, Op: OpGe, Value: Number(1)}
	if diff := cmp.Diff(want, c, sameTree); diff != "" {
		t.Errorf("Decode({event}) (-want +got):\n%s", diff)
	}
	if got, want := Format(c), `count(event "Signed Up") >= 1`; got != want {
		t.Errorf("Format = %s, want %s", got, want)
	}
}
