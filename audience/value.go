package audience

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// ValueKind is the JSON type of a [Value].
type ValueKind uint8

// The value kinds, one per JSON type. The zero Value is ValueNull.
const (
	ValueNull ValueKind = iota
	ValueBool
	ValueNumber
	ValueString
	ValueList
	ValueObject
)

// Value is a JSON value: a trait's current value, an event property, or the
// literal a condition compares with. Dates are strings (RFC 3339 or
// YYYY-MM-DD), as they are in events and traits.
type Value struct {
	kind ValueKind
	b    bool
	n    float64
	s    string
	l    []Value
	o    map[string]Value
}

// String returns a string value.
func String(s string) Value { return Value{kind: ValueString, s: s} }

// Number returns a number value.
func Number(f float64) Value { return Value{kind: ValueNumber, n: f} }

// Bool returns a boolean value.
func Bool(b bool) Value { return Value{kind: ValueBool, b: b} }

// List returns a list value.
func List(vs ...Value) Value { return Value{kind: ValueList, l: vs} }

// Object returns an object value.
func Object(m map[string]Value) Value { return Value{kind: ValueObject, o: m} }

// Kind returns the value's JSON type.
func (v Value) Kind() ValueKind { return v.kind }

// Str returns the string and true for a string value.
func (v Value) Str() (string, bool) { return v.s, v.kind == ValueString }

// Num returns the number and true for a number value.
func (v Value) Num() (float64, bool) { return v.n, v.kind == ValueNumber }

// Boolean returns the boolean and true for a boolean value.
func (v Value) Boolean() (bool, bool) { return v.b, v.kind == ValueBool }

// Elems returns the elements of a list value, nil for other kinds.
func (v Value) Elems() []Value { return v.l }

// Field returns the field name of an object value, and false if the value is
// no object or has no such field.
func (v Value) Field(name string) (Value, bool) {
	f, ok := v.o[name]
	return f, ok && v.kind == ValueObject
}

// ValueOf converts what encoding/json decodes into an any (nil, bool,
// float64, json.Number, string, []any, map[string]any) to a Value; it also
// takes Go integers and time.Time (as RFC 3339). Other types are an error.
func ValueOf(x any) (Value, error) {
	switch x := x.(type) {
	case nil:
		return Value{}, nil
	case bool:
		return Bool(x), nil
	case float64:
		return Number(x), nil
	case int:
		return Number(float64(x)), nil
	case int64:
		return Number(float64(x)), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return Value{}, fmt.Errorf("audience: number %s: %w", x, err)
		}
		return Number(f), nil
	case string:
		return String(x), nil
	case time.Time:
		return String(x.Format(time.RFC3339Nano)), nil
	case []any:
		return listOf(x)
	case map[string]any:
		return objectOf(x)
	}
	return Value{}, fmt.Errorf("audience: no value of Go type %T; use JSON types", x)
}

func listOf(xs []any) (Value, error) {
	l := make([]Value, len(xs))
	for i, x := range xs {
		v, err := ValueOf(x)
		if err != nil {
			return Value{}, err
		}
		l[i] = v
	}
	return List(l...), nil
}

func objectOf(m map[string]any) (Value, error) {
	o := make(map[string]Value, len(m))
	for k, x := range m {
		v, err := ValueOf(x)
		if err != nil {
			return Value{}, err
		}
		o[k] = v
	}
	return Object(o), nil
}

// ParseValue decodes one JSON value.
func ParseValue(data []byte) (Value, error) {
	// Most values are scalars: decode those without a decoder, which
	// allocates a buffer each time and dominates backfills of traits.
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] != '[' && t[0] != '{' && validScalar(t) {
		if v, ok := rawValue(t); ok {
			return v, nil
		}
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return Value{}, fmt.Errorf("audience: decode value: %w", err)
	}
	if d.More() {
		return Value{}, fmt.Errorf("audience: decode value: data after the value")
	}
	return ValueOf(x)
}

// Native returns the value as encoding/json would decode it: nil, bool,
// float64, string, []any or map[string]any.
func (v Value) Native() any {
	switch v.kind {
	case ValueBool:
		return v.b
	case ValueNumber:
		return v.n
	case ValueString:
		return v.s
	case ValueList:
		l := make([]any, len(v.l))
		for i, e := range v.l {
			l[i] = e.Native()
		}
		return l
	case ValueObject:
		o := make(map[string]any, len(v.o))
		for k, e := range v.o {
			o[k] = e.Native()
		}
		return o
	}
	return nil
}

// MarshalJSON writes the value as JSON; object keys are sorted.
func (v Value) MarshalJSON() ([]byte, error) {
	return v.appendJSON(nil)
}

func (v Value) appendJSON(b []byte) ([]byte, error) {
	switch v.kind {
	case ValueNull:
		return append(b, "null"...), nil
	case ValueBool:
		return strconv.AppendBool(b, v.b), nil
	case ValueNumber:
		if math.IsNaN(v.n) || math.IsInf(v.n, 0) {
			return nil, fmt.Errorf("audience: %v is not a JSON number", v.n)
		}
		return appendNumber(b, v.n), nil
	case ValueString:
		return appendQuoted(b, v.s), nil
	case ValueList:
		return v.appendList(b)
	}
	return v.appendObject(b)
}

func (v Value) appendList(b []byte) ([]byte, error) {
	b = append(b, '[')
	for i, e := range v.l {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = e.appendJSON(b); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

func (v Value) appendObject(b []byte) ([]byte, error) {
	keys := make([]string, 0, len(v.o))
	for k := range v.o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendQuoted(b, k), ':')
		var err error
		if b, err = v.o[k].appendJSON(b); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// UnmarshalJSON decodes any JSON value.
func (v *Value) UnmarshalJSON(data []byte) error {
	x, err := ParseValue(data)
	if err != nil {
		return err
	}
	*v = x
	return nil
}

// appendNumber writes f the shortest way that reads back to the same
// float64, in a form both JSON and the text form accept.
func appendNumber(b []byte, f float64) []byte {
	// The same choice as encoding/json: plain digits for everyday
	// magnitudes (a revenue of 1000000 stays readable), exponents only at
	// the extremes.
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendQuoted writes s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone: the output is for people and parsers, not for HTML.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// validScalar reports whether data is exactly one JSON scalar, so that
// rawValue may decode it.
func validScalar(data []byte) bool {
	switch data[0] {
	case '"':
		return len(data) >= 2 && data[len(data)-1] == '"' && json.Valid(data)
	case 't':
		return string(data) == "true"
	case 'f':
		return string(data) == "false"
	case 'n':
		return string(data) == "null"
	}
	return json.Valid(data)
}
