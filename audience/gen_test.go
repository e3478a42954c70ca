package audience

import (
	"fmt"
	"time"

	"pgregory.net/rapid"
)

// Generators of random conditions and subjects for the property tests.
// They draw from small sets of names and values so that conditions and
// subjects meet often: random strings would almost never match.

var (
	genBase   = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	genEvents = []string{"Order Completed", "Page Viewed"}
	genTraits = []string{"plan", "age", "signed_up", "tags", "address.city"}
	genWindow = []time.Duration{time.Hour, 12 * time.Hour, 24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour}
	genExprs  = []string{`traits.plan == "pro"`, `has(traits.age) && traits.age > 30`, `computed.ltv >= 100.0 || !has(traits.plan)`}
)

func genScalar() *rapid.Generator[Value] {
	return rapid.OneOf(
		rapid.Map(rapid.SampledFrom([]string{"pro", "free", "NL", "2026-05-20", "2026-06-01T12:00:00Z", "a"}), String),
		rapid.Map(rapid.IntRange(-2, 60), func(i int) Value { return Number(float64(i)) }),
		rapid.Map(rapid.Bool(), Bool),
	)
}

// genLiteral draws a value op accepts.
func genLiteral(t *rapid.T, op Op) Value {
	switch op {
	case OpExists, OpNotExists, OpAnniversaryWithin:
		return Value{}
	case OpIn:
		return List(rapid.SliceOfN(genScalar(), 1, 3).Draw(t, "list")...)
	case OpStartsWith:
		return String(rapid.SampledFrom([]string{"p", "20", "N"}).Draw(t, "prefix"))
	case OpLt, OpLe, OpGt, OpGe:
		v := genScalar().Draw(t, "ordered")
		if v.kind == ValueBool {
			return Number(10)
		}
		return v
	}
	return genScalar().Draw(t, "scalar")
}

func genComparison(t *rapid.T, kind Kind, names []string, anniversary bool) *Condition {
	c := &Condition{Kind: kind, Name: rapid.SampledFrom(names).Draw(t, "name")}
	max := OpNotExists
	if anniversary {
		max = OpAnniversaryWithin
	}
	c.Op = Op(rapid.IntRange(int(OpEq), int(max)).Draw(t, "op"))
	c.Value = genLiteral(t, c.Op)
	if c.Op == OpAnniversaryWithin {
		c.Within = time.Duration(rapid.IntRange(1, 40).Draw(t, "days")) * day
	}
	return c
}

func genEvent(t *rapid.T) *Condition {
	c := &Condition{Kind: KindEvent, Name: rapid.SampledFrom(genEvents).Draw(t, "event"),
		Agg: Agg(rapid.IntRange(int(AggCount), int(AggMax)).Draw(t, "agg")),
		Op:  Op(rapid.IntRange(int(OpEq), int(OpGe)).Draw(t, "op")),
	}
	if c.Agg != AggCount {
		c.Property = "v"
	}
	c.Value = Number(float64(rapid.IntRange(0, 12).Draw(t, "n")) / 2)
	if rapid.Bool().Draw(t, "windowed") {
		c.Within = rapid.SampledFrom(genWindow).Draw(t, "within")
	}
	if rapid.Bool().Draw(t, "filtered") {
		c.Where = genWhere(t, 2)
	}
	return c
}

func genWhere(t *rapid.T, depth int) *Condition {
	if depth > 0 && rapid.IntRange(0, 3).Draw(t, "where group") == 0 {
		return genGroup(t, depth, func() *Condition { return genWhere(t, depth-1) })
	}
	return genComparison(t, KindProperty, []string{"v", "p", "tags"}, false)
}

// genGroup draws an and, an or or a not over children from leaf.
func genGroup(t *rapid.T, depth int, leaf func() *Condition) *Condition {
	switch rapid.IntRange(0, 2).Draw(t, "group") {
	case 0:
		return &Condition{Kind: KindNot, Children: []*Condition{leaf()}}
	case 1:
		c := &Condition{Kind: KindAnd}
		for range rapid.IntRange(0, 3).Draw(t, "and size") {
			c.Children = append(c.Children, leaf())
		}
		return c
	}
	c := &Condition{Kind: KindOr}
	for range rapid.IntRange(0, 3).Draw(t, "or size") {
		c.Children = append(c.Children, leaf())
	}
	return c
}

func genLeaf(t *rapid.T) *Condition {
	switch rapid.IntRange(0, 8).Draw(t, "leaf") {
	case 0, 1:
		return genEvent(t)
	case 2:
		return genComparison(t, KindTrait, genTraits, true)
	case 3:
		return genComparison(t, KindComputed, []string{"ltv", "last_order"}, true)
	case 4:
		return &Condition{Kind: KindConsent, Name: rapid.SampledFrom([]string{"marketing", "analytics"}).Draw(t, "purpose")}
	case 5:
		return &Condition{Kind: KindAudience, Name: rapid.SampledFrom([]string{"vip", "churned"}).Draw(t, "audience")}
	case 6:
		return &Condition{Kind: KindBirthday, Within: time.Duration(rapid.IntRange(1, 366).Draw(t, "days")) * day}
	case 7:
		return &Condition{Kind: KindNear, Near: Geo{Lat: 52.37, Lon: 4.9, Km: float64(rapid.IntRange(1, 80).Draw(t, "km"))}}
	}
	return &Condition{Kind: KindExpr, Expr: rapid.SampledFrom(genExprs).Draw(t, "expr")}
}

// genCondition draws a checked condition tree.
func genCondition(t *rapid.T) *Condition {
	var gen func(depth int) *Condition
	gen = func(depth int) *Condition {
		if depth == 0 || rapid.IntRange(0, 2).Draw(t, "leaf or group") > 0 {
			return genLeaf(t)
		}
		return genGroup(t, depth, func() *Condition { return gen(depth - 1) })
	}
	c := gen(3)
	if err := Validate(c, nil); err != nil {
		t.Fatalf("generated an invalid condition %s: %v", Format(c), err)
	}
	return c
}

// genSubject draws a profile with events around genBase, some of them
// after the moments the tests evaluate at.
func genSubject(t *rapid.T) *memSubject {
	s := &memSubject{traits: map[string]Value{}, computed: map[string]Value{}, consent: map[string]bool{}, audiences: map[string]bool{}}
	for _, name := range []string{"plan", "age", "signed_up", "birthday", "tags", "latitude", "longitude", "address"} {
		if rapid.Bool().Draw(t, "has "+name) {
			s.traits[name] = genTraitValue(t, name)
		}
	}
	if rapid.Bool().Draw(t, "has ltv") {
		s.computed["ltv"] = Number(float64(rapid.IntRange(0, 300).Draw(t, "ltv")))
	}
	s.consent["marketing"] = rapid.Bool().Draw(t, "marketing")
	s.audiences["vip"] = rapid.Bool().Draw(t, "vip")
	var last time.Time
	for i := range rapid.IntRange(0, 10).Draw(t, "events") {
		at := genBase.Add(time.Duration(rapid.IntRange(-40*24*3600, 3*24*3600).Draw(t, "at")) * time.Second)
		if i > 0 && rapid.IntRange(0, 4).Draw(t, "same time") == 0 {
			at = last // a tie with the event before
		}
		s.addEvent(rapid.SampledFrom(genEvents).Draw(t, "name"), at, genProps(t))
		last = at
	}
	return s
}

func genTraitValue(t *rapid.T, name string) Value {
	switch name {
	case "signed_up", "birthday":
		d := genBase.AddDate(0, 0, rapid.IntRange(-3000, 400).Draw(t, "date"))
		if rapid.Bool().Draw(t, "date only") {
			return String(d.Format(time.DateOnly))
		}
		return String(d.Add(time.Duration(rapid.IntRange(0, 86399).Draw(t, "clock")) * time.Second).Format(time.RFC3339))
	case "tags":
		return List(rapid.SliceOfN(genScalar(), 0, 3).Draw(t, "tags")...)
	case "latitude":
		return Number(52 + float64(rapid.IntRange(0, 100).Draw(t, "lat"))/100)
	case "longitude":
		return Number(4.5 + float64(rapid.IntRange(0, 100).Draw(t, "lon"))/100)
	case "address":
		return Object(map[string]Value{"city": String(rapid.SampledFrom([]string{"Delft", "NL"}).Draw(t, "city"))})
	}
	return genScalar().Draw(t, name)
}

func genProps(t *rapid.T) string {
	v := rapid.IntRange(-1, 10).Draw(t, "v")
	p := rapid.SampledFrom([]string{"pro", "a", "NL"}).Draw(t, "p")
	switch rapid.IntRange(0, 3).Draw(t, "props") {
	case 0:
		return fmt.Sprintf(`{"p": %q}`, p) // no v: skipped by sum, avg, min and max
	case 1:
		return fmt.Sprintf(`{"v": "%d.5", "p": %q}`, v, p)
	}
	return fmt.Sprintf(`{"v": %d, "p": %q, "tags": ["a", "pro"]}`, v, p)
}
