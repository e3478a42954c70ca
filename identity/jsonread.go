package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// A small reader for the few fields Extract needs. Messages in the log are
// JSON that collect has already validated, so the reader only finds value
// boundaries (skipping strings and nesting) instead of decoding everything:
// encoding/json would decode every property and trait of every event just to
// read a handful of ids. On malformed input it returns errMalformed or
// reads something harmless; it never panics (FuzzExtract checks both, and
// that on valid JSON it agrees with encoding/json).

var errMalformed = errors.New("identity: message is not valid JSON")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just after the value that starts at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		return nestedEnd(b, i)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' &&
		b[j] != '\t' && b[j] != '\n' && b[j] != '\r' && b[j] != ':' && b[j] != '"' {
		j++
	}
	if j == i {
		return 0, errMalformed
	}
	return j, nil
}

// stringEnd returns the index just after the string that starts at b[i].
// It jumps from quote to quote (bytes.IndexByte is vectorised) and checks
// whether each is escaped.
func stringEnd(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		j += k
		backslashes := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j + 1, nil
		}
	}
	return 0, errMalformed
}

// nestedEnd returns the index just after the object or array at b[i].
func nestedEnd(b []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch structural[b[j]] {
		case 0:
		case '"':
			e, err := stringEnd(b, j)
			if err != nil {
				return 0, err
			}
			j = e - 1
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errMalformed
}

// structural maps the bytes nestedEnd cares about: quotes, and openers and
// closers (both kinds of bracket alike); others map to 0.
var structural = func() (t [256]byte) {
	t['"'] = '"'
	t['{'], t['['] = '{', '{'
	t['}'], t[']'] = '}', '}'
	return t
}()

// members iterates over an object's members.
type members struct {
	b   []byte
	i   int
	err error
}

// objectMembers starts iterating over v, which should be an object. ok is
// false when v is not an object (null, a string …), which callers treat as
// absent.
func objectMembers(v []byte) (members, bool) {
	if len(v) < 2 || v[0] != '{' {
		return members{}, false
	}
	return members{b: v, i: 1}, true
}

// next returns the next member's raw key (quotes included) and raw value.
func (m *members) next() (key, val []byte, ok bool) {
	if m.err != nil || m.b == nil {
		return nil, nil, false
	}
	i := skipSpace(m.b, m.i)
	if i < len(m.b) && m.b[i] == ',' {
		i = skipSpace(m.b, i+1)
	}
	if i >= len(m.b) {
		m.err = errMalformed // no closing brace
		return nil, nil, false
	}
	if m.b[i] == '}' {
		return nil, nil, false
	}
	if m.b[i] != '"' {
		m.err = errMalformed
		return nil, nil, false
	}
	ke, err := stringEnd(m.b, i)
	if err != nil {
		m.err = err
		return nil, nil, false
	}
	key = m.b[i:ke]
	j := skipSpace(m.b, ke)
	if j >= len(m.b) || m.b[j] != ':' {
		m.err = errMalformed
		return nil, nil, false
	}
	j = skipSpace(m.b, j+1)
	ve, err := valueEnd(m.b, j)
	if err != nil {
		m.err = err
		return nil, nil, false
	}
	m.i = ve
	return key, m.b[j:ve], true
}

// elements iterates over an array's elements.
func arrayElements(v []byte, fn func(elem []byte)) error {
	if len(v) < 2 || v[0] != '[' {
		return nil
	}
	i := 1
	for {
		i = skipSpace(v, i)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
		if i >= len(v) || v[i] == ']' {
			return nil
		}
		e, err := valueEnd(v, i)
		if err != nil {
			return err
		}
		fn(v[i:e])
		i = e
	}
}

// keyText returns a raw key (with quotes) without them, decoded if it
// has escapes (rare; that allocates). Callers switch on string(keyText(k)),
// which does not allocate.
func keyText(key []byte) []byte {
	in := key[1 : len(key)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return in
	}
	s, _ := jsonString(key)
	return []byte(s)
}

// jsonString decodes a raw JSON string. ok is false if v is not a string.
func jsonString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	in := v[1 : len(v)-1]
	plain := true
	for _, c := range in {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain || (utf8.Valid(in) && !hasEscapeOrControl(in)) {
		return string(in), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

func hasEscapeOrControl(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c < 0x20 {
			return true
		}
	}
	return false
}

// idText returns the text of a value used as an id: a string as is, a
// number as numberText gives it. ok is false for anything else (null,
// objects, booleans).
func idText(v []byte) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	if v[0] == '"' {
		return jsonString(v)
	}
	if v[0] == '-' || v[0] >= '0' && v[0] <= '9' {
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			return "", false
		}
		return numberText(string(n)), true
	}
	return "", false
}
