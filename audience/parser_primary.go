package audience

import (
	"strings"
)

// comparison parses  ("trait" | "computed") name test.
func (p *parser) comparison(start token, word string) *Condition {
	p.next()
	c := &Condition{Kind: KindTrait}
	if word == "computed" {
		c.Kind = KindComputed
	}
	c.Name = p.name("a " + word + " name")
	marks := append(p.test(c, true), mark{word, p.last})
	return p.node(c, start, false, marks...)
}

// property parses  name test  inside a where clause.
func (p *parser) property() *Condition {
	start := p.tok
	c := &Condition{Kind: KindProperty, Name: p.name("a property condition, not, all, any or \"(\"")}
	marks := append(p.test(c, false), mark{"property", p.last})
	return p.node(c, start, true, marks...)
}

const opList = "an operator (= != < <= > >= in contains starts_with exists not_exists anniversary_within)"

// test parses what follows a trait, computed trait or property name:
// an operator and its value. It returns where they were written.
func (p *parser) test(c *Condition, anniversary bool) []mark {
	t := p.tok
	op, ok := ParseOp(strings.ToLower(t.text))
	switch {
	case !ok || (t.kind != tOp && t.kind != tWord):
		p.expected(opList)
	case op == OpAnniversaryWithin && !anniversary:
		p.failAt(t, "anniversary_within compares with today, which an event property cannot do; use it on a trait")
	}
	c.Op = op
	p.next()
	marks := []mark{{"op", t}, {"value", p.tok}}
	switch op {
	case OpExists, OpNotExists:
	case OpAnniversaryWithin:
		c.Within = p.window()
	default:
		c.Value = p.literal()
	}
	return marks
}

// literal parses a string, a number, true, false or a [list] of those.
func (p *parser) literal() Value {
	t := p.tok
	switch {
	case t.kind == tString:
		p.next()
		return String(t.text)
	case t.kind == tNumber:
		p.next()
		return Number(t.num)
	case t.is("true") || t.is("false"):
		p.next()
		return Bool(t.is("true"))
	case t.kind == tLBrack:
		return p.list()
	}
	p.expected("a number, a string, true, false or a list")
	return Value{}
}

func (p *parser) list() Value {
	p.next()
	var elems []Value
	for p.tok.kind != tRBrack {
		if p.tok.kind == tLBrack {
			p.expected("a number, a string, true or false (lists do not nest)")
		}
		if len(elems) == MaxListLen {
			p.failAt(p.tok, "a list holds at most %d values", MaxListLen)
		}
		elems = append(elems, p.literal())
		if p.tok.kind != tComma {
			break
		}
		p.next()
	}
	p.expect(tRBrack, "\",\" or \"]\"")
	return List(elems...)
}

// aggregate parses
//
//	"count" "(" event_ref ")" cmp number
//	("sum" | "avg" | "min" | "max") "(" name "of" event_ref ")" cmp number
func (p *parser) aggregate(start token) *Condition {
	agg, _ := ParseAgg(strings.ToLower(start.text))
	c := &Condition{Kind: KindEvent, Agg: agg}
	p.next()
	p.expect(tLParen, "\"(\"")
	if agg != AggCount {
		c.Property = p.name("the property to " + agg.String() + ", like revenue")
		p.keyword("of")
	}
	p.keyword("event")
	c.Name = p.name("an event name")
	marks := []mark{{"event", p.last}}
	if p.tok.is("where") {
		p.enter(p.tok)
		p.next()
		c.Where = p.or(true)
		p.leave()
	}
	if p.tok.is("within") {
		p.next()
		c.Within = p.window()
	}
	p.expect(tRParen, "where, within or \")\"")
	if p.tok.kind != tOp {
		p.expected("a comparison (= != < <= > >=) with a number")
	}
	c.Op, _ = ParseOp(p.tok.text)
	p.next()
	marks = append(marks, mark{"value", p.tok})
	c.Value = p.literal()
	return p.node(c, start, false, marks...)
}

// special parses the conditions with their own syntax:
//
//	"birthday" "within" duration
//	"near" "(" number "," number ")" "within" distance
//	"expr" string
func (p *parser) special(start token, word string) *Condition {
	p.next()
	c := &Condition{}
	var marks []mark
	switch word {
	case "birthday":
		c.Kind = KindBirthday
		p.keyword("within")
		marks = append(marks, mark{"birthday_within", p.tok})
		c.Within = p.window()
	case "near":
		c.Kind = KindNear
		p.expect(tLParen, "\"(\" and a latitude")
		marks = append(marks, mark{"near.lat", p.tok})
		c.Near.Lat = p.expect(tNumber, "a latitude, like 52.37").num
		p.expect(tComma, "\",\"")
		marks = append(marks, mark{"near.lon", p.tok})
		c.Near.Lon = p.expect(tNumber, "a longitude, like 4.9").num
		p.expect(tRParen, "\")\"")
		p.keyword("within")
		marks = append(marks, mark{"near.km", p.tok})
		c.Near.Km = p.distance()
	case "expr":
		c.Kind = KindExpr
		marks = append(marks, mark{"expr", p.tok})
		c.Expr = p.expect(tString, "a CEL expression in quotes or `backquotes`").text
	}
	return p.node(c, start, false, marks...)
}

// distance parses a quantity in kilometres, like 25km.
func (p *parser) distance() float64 {
	t := p.tok
	if t.kind != tQuantity || !strings.EqualFold(t.unit, "km") {
		p.expected("a distance in kilometres, like 25km")
	}
	p.next()
	return t.num
}
