package profile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
)

// The JSON reader here finds the few fields a profile needs (type, event,
// name, timestamp, groupId, traits, context.traits) in one pass over a
// message and returns byte spans, never building values. Trait values stay
// the exact bytes the client sent, and the rest of the message (properties,
// context, integrations) is only stepped over. It checks the grammar of
// everything it steps over, so a span it returns is always valid JSON, even
// for input that did not come through the collector.

// maxDepth bounds nesting, which bounds the recursion of skip.
const maxDepth = 512

// errSyntax reports a message that is not valid JSON or not an object.
var errSyntax = errors.New("profile: message is not a JSON object")

// ws returns the index of the first non-space byte of b at or after i.
func ws(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i // the common case, inlined
	}
	return wsSlow(b, i)
}

func wsSlow(b []byte, i int) int {
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

// skip returns the index just past the JSON value that starts at b[i].
func skip(b []byte, i, depth int) (int, error) {
	if i >= len(b) || depth > maxDepth {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := skipString(b, i)
		return end, err
	case c == '{':
		return skipObject(b, i, depth)
	case c == '[':
		return skipArray(b, i, depth)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	}
	return 0, errSyntax
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

// skipString returns the index past the string starting at b[i] == '"' and
// whether it contains escapes.
func skipString(b []byte, i int) (end int, esc bool, err error) {
	i++
	for {
		// Step over 8 plain bytes at a time, and straight to the first
		// special one in a word: most strings are plain ASCII or UTF-8 with
		// no quote, backslash or control character, and most are short.
		for i+8 <= len(b) {
			if m := specials(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) {
			return 0, false, errSyntax
		}
	found:
		switch b[i] {
		case '"':
			return i + 1, esc, nil
		case '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, false, errSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !hex4(b[i+2:i+6]) {
					return 0, false, errSyntax
				}
				i += 6
			default:
				return 0, false, errSyntax
			}
		default: // a control character
			return 0, false, errSyntax
		}
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specials returns a word with the high bit set in the lowest byte of x
// that is a control character, '"' or '\\', if there is one (the classic
// "has a byte less than n" and "has a zero byte" bit tricks). Bytes above
// it may be flagged falsely, as a subtraction borrows from them, but a
// borrow only starts at a flagged byte, so the lowest flag is exact.
func specials(x uint64) uint64 {
	quote, backslash := x^(ones*'"'), x^(ones*'\\')
	less := (x - ones*0x20) & ^x
	return (less | (quote-ones)&^quote | (backslash-ones)&^backslash) & highs
}

func hex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// skipNumber checks the RFC 8259 number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return 0, errSyntax
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return 0, errSyntax
		}
		i = j
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func skipArray(b []byte, i, depth int) (int, error) {
	i = ws(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		end, err := skip(b, i, depth+1)
		if err != nil {
			return 0, err
		}
		i = ws(b, end)
		if i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ',':
			i = ws(b, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, errSyntax
		}
	}
}

// skipObject is members' loop without keeping the members: most of a
// message is stepped over this way, so it is worth its own tight loop.
func skipObject(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, errSyntax
	}
	i = ws(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		end, _, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		i = ws(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		if end, err = skip(b, ws(b, i+1), depth+1); err != nil {
			return 0, err
		}
		i = ws(b, end)
		if i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ',':
			i = ws(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, errSyntax
		}
	}
}

// members reads a JSON object member by member.
type members struct {
	b     []byte
	i     int // next byte to read
	depth int
	n     int // members read
	err   error
	done  bool

	key []byte // the current member's key, raw (between the quotes)
	esc bool   // key has escapes: unescape before comparing
	val []byte // the current member's value, raw
}

// open starts reading the object at b[i], after any space.
func (m *members) open() bool {
	m.i = ws(m.b, m.i)
	if m.i >= len(m.b) || m.b[m.i] != '{' || m.depth > maxDepth {
		m.err = errSyntax
		return false
	}
	m.i = ws(m.b, m.i+1)
	if m.i < len(m.b) && m.b[m.i] == '}' {
		m.i++
		m.done = true
	}
	return true
}

// next reads the next member into key, esc and val. It returns false at the
// end of the object or on an error, which err then holds.
func (m *members) next() bool {
	return m.nextKey() && m.value()
}

// value steps over the value of the member whose key nextKey read.
func (m *members) value() bool {
	end, err := skip(m.b, m.i, m.depth+1)
	return m.endValue(end, err)
}

// nextKey reads the next member's key into key and esc and leaves i at its
// value, for a caller that reads the value itself and hands its end to
// endValue. It returns false as next does.
func (m *members) nextKey() bool {
	if m.done || m.err != nil {
		return false
	}
	if m.n > 0 {
		if m.i >= len(m.b) || m.b[m.i] != ',' {
			return m.fail()
		}
		m.i = ws(m.b, m.i+1)
	}
	if m.i >= len(m.b) || m.b[m.i] != '"' {
		return m.fail()
	}
	kend, esc, err := skipString(m.b, m.i)
	if err != nil {
		return m.fail()
	}
	m.key, m.esc = m.b[m.i+1:kend-1], esc
	m.i = ws(m.b, kend)
	if m.i >= len(m.b) || m.b[m.i] != ':' {
		return m.fail()
	}
	m.i = ws(m.b, m.i+1)
	return true
}

// endValue completes the member whose value, starting at i, ends at end
// (or failed with err), and reports whether it is well formed.
func (m *members) endValue(end int, err error) bool {
	if err != nil {
		return m.fail()
	}
	m.val = m.b[m.i:end]
	m.n++
	m.i = ws(m.b, end)
	if m.i < len(m.b) && m.b[m.i] == '}' {
		m.i++
		m.done = true
	}
	return true
}

func (m *members) fail() bool {
	m.err = errSyntax
	return false
}

// keyIs reports whether the current key is name, unescaping if needed.
func (m *members) keyIs(name string) bool {
	if !m.esc {
		return string(m.key) == name
	}
	return unescape(m.key) == name
}

// unescape returns the value of the raw contents of a JSON string (between
// its quotes) that has escapes. Escapes are rare in the names and values the
// profile reads, so the standard decoder handles them.
func unescape(raw []byte) string {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var s string
	if json.Unmarshal(q, &s) != nil {
		return string(raw) // unreachable for spans skipString accepted
	}
	return s
}

// stringBytes is stringValue for callers that only look at the bytes: it
// returns the raw contents, without copying, when there are no escapes.
func stringBytes(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	raw := v[1 : len(v)-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		return []byte(unescape(raw)), true
	}
	return raw, true
}

// stringValue returns the value of the JSON string v (a raw span with its
// quotes), or false when v is not a string.
func stringValue(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	raw := v[1 : len(v)-1]
	for _, c := range raw {
		if c == '\\' {
			return unescape(raw), true
		}
	}
	return string(raw), true
}
