package collect

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
)

// scanner validates JSON in one pass over the bytes, without building any
// value: syntax (RFC 8259), UTF-8, and the nesting depth of each value. It is
// the only JSON parser on the ingest path; everything else works on the byte
// spans it finds, which is what keeps context, properties and traits verbatim
// and the cost at one pass per event.
//
// It is iterative (an explicit stack, no recursion), so a body of half a
// megabyte of '[' costs memory for the stack but never a deep Go stack.
type scanner struct {
	stack []byte    // the open containers, '{' or '['
	flags scanFlags // what the strings scanned since the last reset contain
	// splitParts: members keeps the members of each message's traits,
	// properties and context in parts as it validates them, for a
	// PartsCleaner (see splitPart).
	splitParts bool
	parts      []jsonscan.Member
	ctxTraits  []jsonscan.Member
}

// scanFlags record string contents that matter after validation.
type scanFlags uint8

const (
	// flagEscape: a string uses backslash escapes, so its raw bytes are not
	// its value and it must be unescaped before comparing.
	flagEscape scanFlags = 1 << iota
	// flagNUL: a \u0000 escape. Valid JSON, but PostgreSQL's jsonb and text
	// types cannot hold it, so Mosaic refuses it everywhere (see doc.go).
	flagNUL
	// flagSurrogate: a \uD800–\uDFFF escape that is not half of a pair. Valid
	// JSON grammar, but it names no character; refused like flagNUL.
	flagSurrogate
)

// syntaxError says where a body stops being JSON. UTF8 marks bytes that are
// not UTF-8 inside a string (the only place they can be in otherwise valid
// JSON).
type syntaxError struct {
	Offset int
	What   string
	UTF8   bool
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("%s at byte %d", e.What, e.Offset)
}

func errAt(b []byte, i int, expected string) error {
	if i >= len(b) {
		return &syntaxError{Offset: i, What: "unexpected end of JSON, expected " + expected}
	}
	return &syntaxError{Offset: i, What: fmt.Sprintf("unexpected %q, expected %s", b[i], expected)}
}

// plain[c] is true for bytes that may appear in a JSON string as they are and
// need no further look: printable ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special reports whether any of the 8 bytes in x needs a closer look in a
// string: a control character, '"', '\\' or a non-ASCII byte. Checking a
// word at a time makes the common case, plain ASCII, several times faster
// (the classic "has zero byte" bit trick: (v-ones) & ^v & highs).
func special(x uint64) bool {
	quote, backslash := x^(ones*'"'), x^(ones*'\\')
	less := (x - ones*0x20) & ^x
	return (less|(quote-ones)&^quote|(backslash-ones)&^backslash|x)&highs != 0
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value validates the JSON value that starts at b[i] (after optional
// whitespace) and returns the offset just past it and its nesting depth: 0
// for a scalar, 1 for a flat object or array, and so on. String flags
// accumulate in s.flags.
func (s *scanner) value(b []byte, i int) (end, depth int, err error) {
	stack := s.stack[:0]
	defer func() { s.stack = stack[:0] }()
outer:
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, 0, errAt(b, i, "a value")
		}
		switch b[i] {
		case '{', '[':
			open := b[i]
			stack = append(stack, open)
			depth = max(depth, len(stack))
			i = skipSpace(b, i+1)
			if i < len(b) && b[i] == open+2 { // '{'+2 == '}', '['+2 == ']'
				stack = stack[:len(stack)-1]
				i++
				break
			}
			if open == '{' {
				if i, err = s.key(b, i); err != nil {
					return i, 0, err
				}
			}
			continue outer
		case '"':
			i, err = s.str(b, i)
		case 't':
			i, err = literal(b, i, "true")
		case 'f':
			i, err = literal(b, i, "false")
		case 'n':
			i, err = literal(b, i, "null")
		default:
			i, err = number(b, i)
		}
		if err != nil {
			return i, 0, err
		}
		// A value ended: close containers until one continues with ','.
		for len(stack) > 0 {
			i = skipSpace(b, i)
			top := stack[len(stack)-1]
			switch {
			case i >= len(b):
				return i, 0, errAt(b, i, "',' or the end of an object or array")
			case b[i] == ',':
				i++
				if top == '{' {
					if i, err = s.key(b, skipSpace(b, i)); err != nil {
						return i, 0, err
					}
				}
				continue outer
			case b[i] == top+2:
				stack = stack[:len(stack)-1]
				i++
			default:
				return i, 0, errAt(b, i, "',' or '"+string(top+2)+"'")
			}
		}
		return i, depth, nil
	}
}

// key validates an object key at b[i] and the ':' after it, and returns the
// offset of the value.
func (s *scanner) key(b []byte, i int) (int, error) {
	if i >= len(b) || b[i] != '"' {
		return i, errAt(b, i, "a string key")
	}
	i, err := s.str(b, i)
	if err != nil {
		return i, err
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return i, errAt(b, i, "':'")
	}
	return i + 1, nil
}

// str validates the string whose opening quote is at b[i] and returns the
// offset just past its closing quote.
func (s *scanner) str(b []byte, i int) (int, error) {
	i++
	for {
		for i+8 <= len(b) && !special(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, errAt(b, i, "'\"' to end the string")
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			var err error
			if i, err = s.escape(b, i); err != nil {
				return i, err
			}
		case c < 0x20:
			return i, &syntaxError{Offset: i, What: fmt.Sprintf("control character %#02x in a string (write it as \\u%04x)", c, c)}
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return i, &syntaxError{Offset: i, What: "invalid UTF-8 in a string", UTF8: true}
			}
			i += n
		}
	}
}

// escape validates the escape sequence at b[i] (a backslash) and returns the
// offset after it, flagging \u0000 and unpaired surrogates.
func (s *scanner) escape(b []byte, i int) (int, error) {
	s.flags |= flagEscape
	if i+1 >= len(b) {
		return i + 1, errAt(b, i+1, "an escape character")
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, nil
	case 'u':
	default:
		return i + 1, errAt(b, i+1, `one of "\/bfnrtu after a backslash`)
	}
	r, ok := hex4(b, i+2)
	if !ok {
		return i + 2, errAt(b, i+2, "four hex digits after \\u")
	}
	i += 6
	switch {
	case r == 0:
		s.flags |= flagNUL
	case r >= 0xDC00 && r <= 0xDFFF:
		s.flags |= flagSurrogate
	case r >= 0xD800 && r <= 0xDBFF:
		if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
			if lo, ok := hex4(b, i+2); ok && lo >= 0xDC00 && lo <= 0xDFFF {
				return i + 6, nil
			}
		}
		// The next escape, if any, is validated on its own.
		s.flags |= flagSurrogate
	}
	return i, nil
}

// hex4 decodes the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, errAt(b, i, lit)
	}
	return i + len(lit), nil
}

// number validates a JSON number at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func number(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, errAt(b, i, "a value")
	}
	if i < len(b) && b[i] == '.' {
		if i+1 >= len(b) || !isDigit(b[i+1]) {
			return i + 1, errAt(b, i+1, "a digit after '.'")
		}
		i = digits(b, i+1)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, errAt(b, i, "a digit in the exponent")
		}
		i = digits(b, i)
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// validate checks that b is exactly one JSON value, with optional whitespace
// around it, and returns its depth.
func (s *scanner) validate(b []byte) (depth int, err error) {
	end, depth, err := s.value(b, 0)
	if err != nil {
		return 0, err
	}
	if end = skipSpace(b, end); end != len(b) {
		return 0, errAt(b, end, "the end of the input")
	}
	return depth, nil
}
