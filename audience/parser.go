package audience

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Parse reads the text form of a condition (grammar in docs/audiences.md)
// and checks it as Decode does. Errors are *Error values with the line and
// column and what was expected there, like
//
//	1:19: expected a number, a string, true, false or a list, found the end of the condition
func Parse(text string) (*Condition, error) { return parseText(text, "the condition", false) }

// parseText parses text as a condition, or with where as a where clause
// (property comparisons only); what names it in errors.
func parseText(text, what string, where bool) (c *Condition, err error) {
	switch {
	case len(text) > MaxSourceBytes:
		return nil, &Error{Msg: fmt.Sprintf("%s is longer than %d bytes", what, MaxSourceBytes)}
	case !utf8.ValidString(text):
		return nil, &Error{Msg: what + " is not valid UTF-8"}
	}
	p := &parser{lx: newLexer(text), pos: map[*Condition]token{}}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			c, err = nil, b.err
		}
	}()
	p.tok = p.lx.next()
	c = p.or(where)
	if p.tok.kind != tEOF {
		p.expected("and, or or the end of " + what)
	}
	p.measure(c, 1)
	return c, nil
}

// parser is a recursive-descent parser with one token of lookahead (two
// for "all(" in where clauses, where all could also be a property).
type parser struct {
	lx     *lexer
	tok    token
	peeked *token
	last   token // the last name read, for marks
	nest   int   // open parentheses, nots, groups and wheres
	nodes  int
	pos    map[*Condition]token // where each node starts, for errors found later
}

func (p *parser) next() {
	if p.peeked != nil {
		p.tok, p.peeked = *p.peeked, nil
		return
	}
	p.tok = p.lx.next()
}

func (p *parser) peek() token {
	if p.peeked == nil {
		t := p.lx.next()
		p.peeked = &t
	}
	return *p.peeked
}

func (p *parser) failAt(t token, format string, args ...any) {
	p.lx.fail(t.line, t.col, format, args...)
}

func (p *parser) expected(what string) {
	p.failAt(p.tok, "expected %s, found %s", what, p.tok.describe())
}

// expect consumes a token of kind k.
func (p *parser) expect(k tokKind, what string) token {
	if p.tok.kind != k {
		p.expected(what)
	}
	t := p.tok
	p.next()
	return t
}

// keyword consumes the keyword w.
func (p *parser) keyword(w string) {
	if !p.tok.is(w) {
		p.expected(w)
	}
	p.next()
}

// enter and leave bound the parser's recursion.
func (p *parser) enter(t token) {
	p.nest++
	if p.nest > MaxDepth {
		p.failAt(t, "the condition nests deeper than %d levels", MaxDepth)
	}
}

func (p *parser) leave() { p.nest-- }

// mark remembers where a field of a node was written, so that an error in
// it points there rather than at the start of the node.
type mark struct {
	field string
	tok   token
}

// node registers a new node starting at t and checks it.
func (p *parser) node(c *Condition, t token, inWhere bool, marks ...mark) *Condition {
	p.nodes++
	if p.nodes > MaxNodes {
		p.failAt(t, "the condition has more than %d nodes; split it into audiences that refer to each other", MaxNodes)
	}
	p.pos[c] = t
	if fe := checkNode(c, inWhere); fe != nil {
		for _, m := range marks {
			if strings.HasPrefix(fe.field, m.field) {
				t = m.tok
				break
			}
		}
		p.failAt(t, "%s", fe.msg)
	}
	return c
}

// measure checks the depth of the finished tree.
func (p *parser) measure(c *Condition, depth int) {
	if depth > MaxDepth {
		p.failAt(p.pos[c], "the condition nests deeper than %d levels", MaxDepth)
	}
	for _, ch := range c.Children {
		p.measure(ch, depth+1)
	}
	if c.Where != nil {
		p.measure(c.Where, depth+1)
	}
}

// or parses  and_expr { "or" and_expr }.
func (p *parser) or(inWhere bool) *Condition {
	return p.infix("or", KindOr, inWhere, p.and)
}

// and parses  unary { "and" unary }.
func (p *parser) and(inWhere bool) *Condition {
	return p.infix("and", KindAnd, inWhere, p.unary)
}

func (p *parser) infix(word string, k Kind, inWhere bool, operand func(bool) *Condition) *Condition {
	start := p.tok
	first := operand(inWhere)
	if !p.tok.is(word) {
		return first
	}
	c := &Condition{Kind: k, Children: []*Condition{first}}
	for p.tok.is(word) {
		p.next()
		c.Children = append(c.Children, operand(inWhere))
	}
	return p.node(c, start, inWhere)
}

// unary parses  "not" unary | primary.
func (p *parser) unary(inWhere bool) *Condition {
	if !p.tok.is("not") {
		return p.primary(inWhere)
	}
	start := p.tok
	p.enter(start)
	defer p.leave()
	p.next()
	child := p.unary(inWhere)
	return p.node(&Condition{Kind: KindNot, Children: []*Condition{child}}, start, inWhere)
}

// group parses "(" condition ")" and all(...) / any(...).
func (p *parser) group(inWhere bool) *Condition {
	start := p.tok
	p.enter(start)
	defer p.leave()
	if p.tok.kind == tLParen {
		p.next()
		c := p.or(inWhere)
		p.expect(tRParen, "and, or or \")\"")
		return c
	}
	c := &Condition{Kind: KindAnd}
	if p.tok.is("any") {
		c.Kind = KindOr
	}
	p.next()
	p.expect(tLParen, "\"(\"")
	for p.tok.kind != tRParen {
		c.Children = append(c.Children, p.or(inWhere))
		if p.tok.kind != tComma {
			break
		}
		p.next()
	}
	p.expect(tRParen, "\",\" or \")\"")
	return p.node(c, start, inWhere)
}

// name parses a name: a bare word or a string.
func (p *parser) name(what string) string {
	if p.tok.kind != tWord && p.tok.kind != tString {
		p.expected(what)
	}
	s := p.tok.text
	p.last = p.tok
	p.next()
	return s
}

// window parses a quantity like 30d or 12h.
func (p *parser) window() time.Duration {
	t := p.tok
	if t.kind != tQuantity && t.kind != tNumber {
		p.expected("a duration like 30d or 12h")
	}
	w, err := ParseWindow(strings.ToLower(t.text)) // units are case-insensitive, like keywords
	if err != nil {
		p.failAt(t, "%v", err)
	}
	p.next()
	return w
}

// startsCondition lists what may start a condition, for errors.
const startsCondition = "a condition (trait, computed, count, sum, avg, min, max, consent, in audience, birthday, near, expr, not, all, any or \"(\")"

func (p *parser) isGroup() bool {
	return p.tok.kind == tLParen || (p.tok.is("all") || p.tok.is("any")) && p.peek().kind == tLParen
}

// primary parses one condition that is not and, or or not.
func (p *parser) primary(inWhere bool) *Condition {
	switch {
	case p.isGroup():
		return p.group(inWhere)
	case inWhere:
		return p.property()
	}
	start := p.tok
	word := strings.ToLower(start.text)
	if start.kind != tWord {
		word = ""
	}
	switch word {
	case "trait", "computed":
		return p.comparison(start, word)
	case "count", "sum", "avg", "min", "max":
		return p.aggregate(start)
	case "consent":
		p.next()
		return p.node(&Condition{Kind: KindConsent, Name: p.name("a consent purpose, like marketing")}, start, false,
			mark{"consent", p.last})
	case "in":
		p.next()
		p.keyword("audience")
		return p.node(&Condition{Kind: KindAudience, Name: p.name("an audience key or id")}, start, false,
			mark{"audience", p.last})
	case "birthday", "near", "expr":
		return p.special(start, word)
	}
	p.expected(startsCondition)
	return nil
}
