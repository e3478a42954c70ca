package audience

import (
	"strings"
)

// Format writes c in the canonical text form: keywords in lower case, one
// space between tokens, names bare when they can be, parentheses exactly
// where an and or an or sits inside another operator. Parse reads it back
// to the same tree.
func Format(c *Condition) string {
	var b []byte
	b = appendText(b, c)
	return string(b)
}

func appendText(b []byte, c *Condition) []byte {
	if c == nil {
		return append(b, "<missing>"...)
	}
	switch c.Kind {
	case KindAnd, KindOr:
		return appendGroup(b, c)
	case KindNot:
		return appendOperand(append(b, "not "...), c.Children[0])
	case KindTrait, KindComputed:
		b = appendName(append(append(b, c.Kind.String()...), ' '), c.Name)
		return appendTest(b, c)
	case KindProperty:
		return appendTest(appendName(b, c.Name), c)
	case KindEvent:
		return appendAggregate(b, c)
	case KindConsent:
		return appendName(append(b, "consent "...), c.Name)
	case KindAudience:
		return appendName(append(b, "in audience "...), c.Name)
	case KindBirthday:
		return append(append(b, "birthday within "...), FormatWindow(c.Within)...)
	case KindNear:
		b = appendNumber(append(b, "near("...), c.Near.Lat)
		b = appendNumber(append(b, ", "...), c.Near.Lon)
		return append(appendNumber(append(b, ") within "...), c.Near.Km), "km"...)
	case KindExpr:
		return appendExpr(append(b, "expr "...), c.Expr)
	}
	return append(b, "<unknown>"...)
}

// infix reports whether c prints as an infix and/or, which needs
// parentheses inside another operator.
func infix(c *Condition) bool {
	return c != nil && (c.Kind == KindAnd || c.Kind == KindOr) && len(c.Children) >= 2
}

func appendGroup(b []byte, c *Condition) []byte {
	if len(c.Children) < 2 {
		// all() and any() write the groups infix cannot: none or one operand.
		word := "all("
		if c.Kind == KindOr {
			word = "any("
		}
		b = append(b, word...)
		for i, ch := range c.Children {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendText(b, ch)
		}
		return append(b, ')')
	}
	sep := " and "
	if c.Kind == KindOr {
		sep = " or "
	}
	for i, ch := range c.Children {
		if i > 0 {
			b = append(b, sep...)
		}
		b = appendOperand(b, ch)
	}
	return b
}

func appendOperand(b []byte, c *Condition) []byte {
	if infix(c) {
		return append(appendText(append(b, '('), c), ')')
	}
	return appendText(b, c)
}

func appendTest(b []byte, c *Condition) []byte {
	b = append(append(b, ' '), c.Op.String()...)
	switch c.Op {
	case OpExists, OpNotExists:
		return b
	case OpAnniversaryWithin:
		return append(append(b, ' '), FormatWindow(c.Within)...)
	}
	return appendLiteral(append(b, ' '), c.Value)
}

func appendLiteral(b []byte, v Value) []byte {
	switch v.kind {
	case ValueString:
		return appendQuoted(b, v.s)
	case ValueNumber:
		return appendNumber(b, v.n)
	case ValueBool:
		if v.b {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case ValueList:
		b = append(b, '[')
		for i, e := range v.l {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendLiteral(b, e)
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

func appendAggregate(b []byte, c *Condition) []byte {
	b = append(append(b, c.Agg.String()...), '(')
	if c.Agg != AggCount {
		b = append(appendName(b, c.Property), " of "...)
	}
	b = appendName(append(b, "event "...), c.Name)
	if c.Where != nil {
		b = appendText(append(b, " where "...), c.Where)
	}
	if c.Within > 0 {
		b = append(append(b, " within "...), FormatWindow(c.Within)...)
	}
	b = append(append(append(b, ") "...), c.Op.String()...), ' ')
	return appendLiteral(b, c.Value)
}

// appendExpr writes CEL source in backquotes, where it needs no escaping,
// unless it contains a backquote itself.
func appendExpr(b []byte, src string) []byte {
	if strings.IndexByte(src, '`') < 0 {
		return append(append(append(b, '`'), src...), '`')
	}
	return appendQuoted(b, src)
}

// keywords are the words a bare name may not be, so that the name cannot
// be read as syntax; such names are quoted.
var keywords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`and or not all any trait computed count sum avg min max
		event where within of consent in audience birthday near expr true false
		contains starts_with exists not_exists anniversary_within`) {
		keywords[w] = true
	}
}

// appendName writes a name bare when it is a plain word and no keyword, and
// quoted otherwise.
func appendName(b []byte, name string) []byte {
	if isBareName(name) {
		return append(b, name...)
	}
	return appendQuoted(b, name)
}

func isBareName(s string) bool {
	if s == "" || !isWordStart(s[0]) || keywords[strings.ToLower(s)] {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}
