package audience

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a token of the text form.
type tokKind uint8

const (
	tEOF      tokKind = iota
	tWord             // a keyword or a bare name: trait, and, country, address.city
	tString           // "JSON-escaped" or `raw`
	tNumber           // 12, -4.5, 1e6
	tQuantity         // a number with a unit: 30d, 12h, 25km
	tOp               // = != < <= > >=
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
)

// token is one token and where it starts.
type token struct {
	kind      tokKind
	text      string  // as written (strings: the decoded value)
	num       float64 // tNumber and tQuantity
	unit      string  // tQuantity
	line, col int
}

// describe names the token for "expected X, found Y" messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the condition"
	case tString:
		return "the string " + strconv.Quote(t.text)
	case tNumber:
		return "the number " + t.text
	case tQuantity:
		return t.text
	case tWord:
		return strconv.Quote(t.text)
	}
	return "\"" + t.text + "\""
}

// is reports whether t is the keyword w; keywords are case-insensitive.
func (t token) is(w string) bool {
	return t.kind == tWord && strings.EqualFold(t.text, w)
}

// lexer splits the text form into tokens. Whitespace separates tokens and
// # starts a comment that runs to the end of the line.
type lexer struct {
	src       string
	i         int
	line, col int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

// bail aborts parsing with an error at a position; Parse recovers it.
type bail struct{ err *Error }

func (l *lexer) fail(line, col int, format string, args ...any) {
	panic(bail{&Error{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}})
}

// advance moves past n bytes, keeping line and column (in characters).
func (l *lexer) advance(n int) {
	for _, r := range l.src[l.i : l.i+n] {
		if r == '\n' {
			l.line, l.col = l.line+1, 1
		} else {
			l.col++
		}
	}
	l.i += n
}

func (l *lexer) skipSpace() {
	for l.i < len(l.src) {
		switch c := l.src[l.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.advance(1)
		case c == '#':
			end := strings.IndexByte(l.src[l.i:], '\n')
			if end < 0 {
				end = len(l.src) - l.i
			}
			l.advance(end)
		default:
			return
		}
	}
}

func (l *lexer) next() token {
	l.skipSpace()
	t := token{line: l.line, col: l.col}
	if l.i >= len(l.src) {
		return t
	}
	c := l.src[l.i]
	switch {
	case isWordStart(c):
		n := 1
		for l.i+n < len(l.src) && isWordByte(l.src[l.i+n]) {
			n++
		}
		t.kind, t.text = tWord, l.src[l.i:l.i+n]
		l.advance(n)
	case isDigit(c) || c == '-':
		l.number(&t)
	case c == '"':
		l.quoted(&t)
	case c == '`':
		end := strings.IndexByte(l.src[l.i+1:], '`')
		if end < 0 {
			l.fail(t.line, t.col, "this `string` has no closing `")
		}
		t.kind, t.text = tString, l.src[l.i+1:l.i+1+end]
		l.advance(end + 2)
	default:
		l.punct(&t, c)
	}
	return t
}

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isWordByte(c byte) bool { return isWordStart(c) || isDigit(c) || c == '.' }

func (l *lexer) punct(t *token, c byte) {
	two := ""
	if l.i+1 < len(l.src) {
		two = l.src[l.i : l.i+2]
	}
	switch {
	case two == "!=" || two == "<=" || two == ">=":
		t.kind, t.text = tOp, two
	case c == '=' || c == '<' || c == '>':
		t.kind, t.text = tOp, string(c)
	case c == '(':
		t.kind, t.text = tLParen, "("
	case c == ')':
		t.kind, t.text = tRParen, ")"
	case c == '[':
		t.kind, t.text = tLBrack, "["
	case c == ']':
		t.kind, t.text = tRBrack, "]"
	case c == ',':
		t.kind, t.text = tComma, ","
	default:
		r, _ := utf8.DecodeRuneInString(l.src[l.i:])
		l.fail(t.line, t.col, "unexpected character %q", r)
	}
	l.advance(len(t.text))
}

// number reads -?digits[.digits][e[+-]digits] and an optional unit of
// letters right after it (30d, 25km).
func (l *lexer) number(t *token) {
	s := l.src[l.i:]
	n := 0
	if s[0] == '-' {
		n++
	}
	digits := func() int {
		start := n
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		return n - start
	}
	if digits() == 0 {
		l.fail(t.line, t.col, "expected a number after -")
	}
	if n+1 < len(s) && s[n] == '.' && isDigit(s[n+1]) {
		n++
		digits()
	}
	if n+1 < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && isDigit(s[m]) {
			n = m
			digits()
		}
	}
	f, err := strconv.ParseFloat(s[:n], 64)
	if err != nil || math.IsInf(f, 0) {
		l.fail(t.line, t.col, "the number %s is out of range", s[:n])
	}
	t.kind, t.num = tNumber, f
	units := n
	for units < len(s) && isWordStart(s[units]) {
		units++
	}
	if units > n {
		t.kind, t.unit = tQuantity, s[n:units]
	}
	t.text = s[:units]
	l.advance(units)
}

// quoted reads a "string" with JSON's escapes.
func (l *lexer) quoted(t *token) {
	s := l.src[l.i:]
	end := 1
	for end < len(s) && s[end] != '"' {
		if s[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(s) {
		l.fail(t.line, t.col, "this string has no closing quote")
	}
	if err := json.Unmarshal([]byte(s[:end+1]), &t.text); err != nil {
		l.fail(t.line, t.col, "this string is not valid: escape quotes, backslashes and control characters as in JSON (\\\", \\\\, \\n)")
	}
	t.kind = tString
	l.advance(end + 1)
}
