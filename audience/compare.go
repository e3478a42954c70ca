package audience

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// literal is a condition's value read once, so that evaluation does not
// parse the same date or number again for every profile.
type literal struct {
	kind     ValueKind
	s        string
	txt      string // the literal as text, for contains and starts_with
	n        float64
	b        bool
	t        time.Time // when isDate
	isDate   bool
	dateOnly bool
	list     []literal
}

func prepareLiteral(v Value) literal {
	lit := literal{kind: v.kind, s: v.s, n: v.n, b: v.b}
	lit.txt, _ = text(&v)
	if v.kind == ValueString {
		lit.t, lit.dateOnly, lit.isDate = parseDate(v.s)
	}
	if v.kind == ValueList {
		lit.list = make([]literal, len(v.l))
		for i, e := range v.l {
			lit.list[i] = prepareLiteral(e)
		}
	}
	return lit
}

// literalOf returns the prepared literal of c, preparing it now for a tree
// that was built in Go and never checked.
func (c *Condition) literalOf() *literal {
	if c.prepared {
		return &c.lit
	}
	lit := prepareLiteral(c.Value)
	return &lit
}

// match reports whether the value x satisfies "op lit". The rules are those
// of docs/audiences.md ("How values compare"): the literal's type decides how
// x is read; a missing (null) x satisfies only not_exists; a list satisfies
// an operator when one of its elements does, and != when none equals.
func match(op Op, x *Value, lit *literal) bool {
	switch op {
	case OpExists:
		return x.kind != ValueNull
	case OpNotExists:
		return x.kind == ValueNull
	}
	switch x.kind {
	case ValueNull:
		return false
	case ValueList:
		return matchList(op, x.l, lit)
	}
	return matchScalar(op, x, lit)
}

func matchList(op Op, elems []Value, lit *literal) bool {
	if op == OpNe {
		for i := range elems {
			if equal(&elems[i], lit) {
				return false
			}
		}
		return true
	}
	if op == OpContains {
		op = OpEq // a list contains a value when an element equals it
	}
	for i := range elems {
		if matchScalar(op, &elems[i], lit) {
			return true
		}
	}
	return false
}

func matchScalar(op Op, x *Value, lit *literal) bool {
	switch op {
	case OpEq:
		return equal(x, lit)
	case OpNe:
		return !equal(x, lit)
	case OpLt, OpLe, OpGt, OpGe:
		c, ok := order(x, lit)
		return ok && holds(op, c)
	case OpIn:
		for i := range lit.list {
			if equal(x, &lit.list[i]) {
				return true
			}
		}
		return false
	case OpContains, OpStartsWith:
		s, ok := text(x)
		if !ok {
			return false
		}
		if op == OpContains {
			return strings.Contains(s, lit.txt)
		}
		return strings.HasPrefix(s, lit.txt)
	}
	return false
}

// holds applies an ordering operator to the result of a three-way compare.
func holds(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	}
	return false
}

func equal(x *Value, lit *literal) bool {
	c, ok := order(x, lit)
	return ok && c == 0
}

// order compares x with lit, reading x as the literal's type; ok is false
// when x cannot be read so.
func order(x *Value, lit *literal) (c int, ok bool) {
	switch lit.kind {
	case ValueNumber:
		f, ok := numberOf(x)
		if !ok {
			return 0, false
		}
		return compareFloat(f, lit.n), true
	case ValueBool:
		b, ok := boolOf(x)
		if !ok {
			return 0, false
		}
		return compareBool(b, lit.b), true
	case ValueString:
		if lit.isDate {
			return orderDate(x, lit)
		}
		s, ok := text(x)
		if !ok {
			return 0, false
		}
		return strings.Compare(s, lit.s), true
	}
	return 0, false
}

func orderDate(x *Value, lit *literal) (int, bool) {
	if x.kind != ValueString {
		return 0, false
	}
	t, dateOnly, ok := parseDate(x.s)
	if !ok {
		return 0, false
	}
	if dateOnly || lit.dateOnly {
		return compareDay(t, lit.t), true
	}
	return t.Compare(lit.t), true
}

// compareDay compares the calendar dates written in a and b, each in its
// own offset: "2024-01-01T23:30:00-05:00" is on January 1st.
func compareDay(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return compareInt(ay*10000+int(am)*100+ad, by*10000+int(bm)*100+bd)
}

func compareInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// numberOf reads x as a number: a number, or a string holding a finite one
// ("12.50", as some sources send revenue).
func numberOf(x *Value) (float64, bool) {
	switch x.kind {
	case ValueNumber:
		return x.n, true
	case ValueString:
		return parseNumber(x.s)
	}
	return 0, false
}

func parseNumber(s string) (float64, bool) {
	if s == "" || len(s) > 64 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func boolOf(x *Value) (bool, bool) {
	switch {
	case x.kind == ValueBool:
		return x.b, true
	case x.kind == ValueString && x.s == "true":
		return true, true
	case x.kind == ValueString && x.s == "false":
		return false, true
	}
	return false, false
}

// text reads x as a string: numbers and booleans by their JSON text.
func text(x *Value) (string, bool) {
	switch x.kind {
	case ValueString:
		return x.s, true
	case ValueNumber:
		return string(appendNumber(nil, x.n)), true
	case ValueBool:
		return strconv.FormatBool(x.b), true
	}
	return "", false
}

// parseDate reads s as an RFC 3339 timestamp or a YYYY-MM-DD date; dateOnly
// tells which. It rejects anything else cheaply, since most strings compared
// are not dates.
func parseDate(s string) (t time.Time, dateOnly, ok bool) {
	if len(s) < 10 || len(s) > 40 || s[4] != '-' || s[7] != '-' || !isDigit(s[0]) {
		return time.Time{}, false, false
	}
	if len(s) == 10 {
		t, err := time.Parse(time.DateOnly, s)
		return t, true, err == nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, false, err == nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
