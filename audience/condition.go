package audience

import (
	"time"
)

// Limits on the size of a condition. They keep a hostile or mistaken
// condition from costing more than a page of them would, in the parser, in
// storage and in every evaluation.
const (
	MaxNodes       = 1000    // nodes in one tree, where trees included
	MaxDepth       = 32      // nesting of nodes (and, or, not, where)
	MaxListLen     = 1000    // elements of an in list
	MaxStringBytes = 4096    // a name, a string literal or an expression
	MaxSourceBytes = 1 << 20 // the JSON or text a condition is decoded from
	MaxWindow      = 3650 * 24 * time.Hour
	ExprCostLimit  = 10000 // CEL cost units one expression may spend per evaluation
)

// Kind is the kind of a condition node. Each kind is one key of the JSON
// form ({"trait": ...}, {"event": ...}) and one keyword of the text form.
type Kind uint8

// The node kinds. KindProperty only appears inside an event's where tree.
const (
	KindAnd      Kind = iota + 1 // all children hold
	KindOr                       // at least one child holds
	KindNot                      // the one child does not hold
	KindTrait                    // a trait compared with a value
	KindProperty                 // an event property compared with a value (in where)
	KindEvent                    // an aggregate of matching events compared with a number
	KindComputed                 // a computed trait compared with a value
	KindConsent                  // the profile granted a consent purpose
	KindAudience                 // the profile is in another audience
	KindBirthday                 // the birthday trait comes round within a window
	KindNear                     // the profile's location is within a distance of a point
	KindExpr                     // a CEL expression over traits and computed traits
)

var kindNames = [...]string{
	KindAnd: "and", KindOr: "or", KindNot: "not", KindTrait: "trait",
	KindProperty: "property", KindEvent: "event", KindComputed: "computed",
	KindConsent: "consent", KindAudience: "audience",
	KindBirthday: "birthday_within", KindNear: "near", KindExpr: "expr",
}

// String returns the JSON key of the kind, e.g. "trait" or "birthday_within".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown"
}

// Op is a comparison operator.
type Op uint8

// The operators. Event aggregates take only the six ordering operators;
// OpAnniversaryWithin applies to date traits and computed traits.
const (
	OpEq Op = iota + 1
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpIn
	OpContains
	OpStartsWith
	OpExists
	OpNotExists
	OpAnniversaryWithin
)

var opNames = [...]string{
	OpEq: "=", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpIn: "in", OpContains: "contains", OpStartsWith: "starts_with",
	OpExists: "exists", OpNotExists: "not_exists",
	OpAnniversaryWithin: "anniversary_within",
}

// String returns the operator as written in both forms, e.g. ">=" or "in".
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "unknown"
}

// ParseOp returns the operator written s, and false if there is none.
func ParseOp(s string) (Op, bool) {
	for o, name := range opNames {
		if name != "" && name == s {
			return Op(o), true
		}
	}
	return 0, false
}

// ordering reports whether o is one of = != < <= > >=, the operators an
// aggregate can be compared with.
func (o Op) ordering() bool { return o >= OpEq && o <= OpGe }

// Agg is the aggregate an event condition computes over matching events.
type Agg uint8

// The aggregates. All but AggCount read a numeric event property.
const (
	AggCount Agg = iota + 1
	AggSum
	AggAvg
	AggMin
	AggMax
)

var aggNames = [...]string{AggCount: "count", AggSum: "sum", AggAvg: "avg", AggMin: "min", AggMax: "max"}

// String returns the aggregate's name: count, sum, avg, min or max.
func (a Agg) String() string {
	if int(a) < len(aggNames) && aggNames[a] != "" {
		return aggNames[a]
	}
	return "unknown"
}

// ParseAgg returns the aggregate named s, and false if there is none.
func ParseAgg(s string) (Agg, bool) {
	for a, name := range aggNames {
		if name != "" && name == s {
			return Agg(a), true
		}
	}
	return 0, false
}

// Geo is a circle on the earth: a centre in decimal degrees and a radius in
// kilometres.
type Geo struct {
	Lat, Lon, Km float64
}

// Condition is one node of a condition tree. Which fields are used depends
// on Kind:
//
//	KindAnd, KindOr   Children (any number; and of none holds, or of none does not)
//	KindNot           Children[0]
//	KindTrait         Name (the trait, dotted for nested: "address.city"), Op, Value;
//	                  Within for OpAnniversaryWithin
//	KindProperty      Name (the event property), Op, Value
//	KindComputed      Name (the computed trait), Op, Value; Within for OpAnniversaryWithin
//	KindEvent         Name (the event), Where (may be nil), Within (0 = all time),
//	                  Agg, Property (for all but count), Op, Value (a number)
//	KindConsent       Name (the purpose, e.g. "marketing")
//	KindAudience      Name (the audience id or key)
//	KindBirthday      Within (whole days)
//	KindNear          Near
//	KindExpr          Expr (CEL source)
//
// Trees come from [Decode] and [Parse], which check them, or are built in
// Go and then checked with [Validate]. A checked tree is safe for concurrent
// evaluation; it must not be changed afterwards.
type Condition struct {
	Kind     Kind
	Children []*Condition
	Name     string
	Op       Op
	Value    Value
	Agg      Agg
	Property string
	Where    *Condition
	Within   time.Duration
	Near     Geo
	Expr     string

	// Prepared by the checks so that evaluation does not redo them: the
	// literal read once (dates parsed), the CEL program compiled.
	lit      literal
	prepared bool
	prog     *exprProgram
	order    []int // and, or: children cheapest first, for Evaluate
}

// String returns the condition in text form, as [Format] does.
func (c *Condition) String() string { return Format(c) }
