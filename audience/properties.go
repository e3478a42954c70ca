package audience

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Event properties arrive as raw JSON, and a where clause reads only a few
// of them. Decoding the whole object for every event would dominate the
// cost of evaluation, so this file finds the one value asked for by
// scanning, and decodes just that. The input is JSON the event log already
// accepted; anything malformed simply yields "not found".

// matchProperties reports whether an event's properties satisfy a where
// tree (and, or, not and property comparisons).
func matchProperties(c *Condition, props []byte) bool {
	switch c.Kind {
	case KindAnd, KindOr:
		want := c.Kind == KindOr
		for _, ch := range c.Children {
			if matchProperties(ch, props) == want {
				return want
			}
		}
		return !want
	case KindNot:
		return !matchProperties(c.Children[0], props)
	case KindProperty:
		raw, ok := propertyRaw(props, c.Name)
		if !ok {
			return match(c.Op, &Value{}, c.literalOf())
		}
		if result, done := matchRawString(c.Op, raw, c.literalOf()); done {
			return result
		}
		v, _ := rawValue(raw)
		return match(c.Op, &v, c.literalOf())
	}
	return false
}

// matchRawString decides the common string comparisons (= != in
// starts_with against plain strings) on the raw JSON bytes, without
// making a string of them for every event; done is false when the general
// path must decide.
func matchRawString(op Op, raw []byte, lit *literal) (result, done bool) {
	if len(raw) < 2 || raw[0] != '"' || bytes.IndexByte(raw, '\\') >= 0 {
		return false, false
	}
	b := raw[1 : len(raw)-1]
	plain := func(l *literal) bool { return l.kind == ValueString && !l.isDate }
	switch op {
	case OpEq, OpNe:
		if plain(lit) {
			return (string(b) == lit.s) == (op == OpEq), true
		}
	case OpStartsWith:
		return len(b) >= len(lit.s) && string(b[:len(lit.s)]) == lit.s, true
	case OpIn:
		for i := range lit.list {
			if !plain(&lit.list[i]) {
				return false, false
			}
		}
		for i := range lit.list {
			if string(b) == lit.list[i].s {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

// propertyValue returns the property at name: a top-level key of that exact
// name, or else a dotted path into nested objects ("product.category").
func propertyValue(props []byte, name string) (Value, bool) {
	raw, ok := propertyRaw(props, name)
	if !ok {
		return Value{}, false
	}
	return rawValue(raw)
}

// propertyNumber returns the property at name as a number: a JSON number or
// a string holding one.
func propertyNumber(props []byte, name string) (float64, bool) {
	raw, ok := propertyRaw(props, name)
	if !ok || len(raw) == 0 {
		return 0, false
	}
	if raw[0] == '"' {
		v, ok := rawValue(raw)
		if !ok {
			return 0, false
		}
		return parseNumber(v.s)
	}
	if raw[0] == '-' || isDigit(raw[0]) {
		return parseNumber(string(raw))
	}
	return 0, false
}

func propertyRaw(props []byte, name string) ([]byte, bool) {
	if raw, ok := objectField(props, name); ok {
		return raw, true
	}
	for dot := strings.IndexByte(name, '.'); dot > 0; dot = strings.IndexByte(name, '.') {
		var ok bool
		if props, ok = objectField(props, name[:dot]); !ok {
			return nil, false
		}
		name = name[dot+1:]
	}
	return objectField(props, name)
}

// rawValue decodes one raw JSON value.
func rawValue(raw []byte) (Value, bool) {
	switch raw[0] {
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return String(string(raw[1 : len(raw)-1])), true
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return Value{}, false
		}
		return String(s), true
	case 't':
		return Bool(true), true
	case 'f':
		return Bool(false), true
	case 'n':
		return Value{}, true
	case '[', '{':
		v, err := ParseValue(raw)
		return v, err == nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return Value{}, false
	}
	return Number(f), true
}

// objectField returns the raw value of key in the JSON object data.
func objectField(data []byte, key string) ([]byte, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil, false
	}
	for i < len(data) && data[i] == '"' {
		end, ok := skipString(data, i)
		if !ok {
			return nil, false
		}
		match := keyEquals(data[i:end], key)
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		start := skipSpace(data, i+1)
		end, ok = skipValue(data, start)
		if !ok {
			return nil, false
		}
		if match {
			return data[start:end], true
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ',' {
			return nil, false
		}
		i = skipSpace(data, i+1)
	}
	return nil, false
}

// keyEquals compares a raw JSON string (quotes included) with key.
func keyEquals(raw []byte, key string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1:len(raw)-1]) == key
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && s == key
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at data[i].
func skipString(data []byte, i int) (int, bool) {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index after the value starting at data[i].
// Objects and arrays are skipped by counting brackets outside strings.
func skipValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		return skipNested(data, i)
	}
	start := i
	for i < len(data) && !endsScalar(data[i]) {
		i++
	}
	return i, i > start
}

// endsScalar reports whether c ends a number or a literal.
func endsScalar(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', '}', ']':
		return true
	}
	return false
}

func skipNested(data []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(data); i++ {
		switch data[i] {
		case '"':
			end, ok := skipString(data, i)
			if !ok {
				return 0, false
			}
			i = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}
