package audience

import (
	"fmt"
	"unicode/utf8"
)

// A where tree (and, or, not and property comparisons) also filters the
// events a computed trait aggregates. These functions give it to the
// segment engine on its own, with the same checks and errors as inside an
// event condition.

// ParseWhere reads the text form of a where clause, such as
// `category = "shoes" and revenue > 10`.
func ParseWhere(text string) (*Condition, error) {
	return parseText(text, "the where clause", true)
}

// DecodeWhere reads the JSON form of a where tree, such as
// {"property": "category", "op": "=", "value": "shoes"}.
func DecodeWhere(data []byte) (*Condition, error) {
	switch {
	case len(data) > MaxSourceBytes:
		return nil, &Error{Msg: fmt.Sprintf("the where tree is larger than %d bytes", MaxSourceBytes)}
	case !utf8.Valid(data):
		return nil, &Error{Msg: "the where tree is not valid UTF-8"}
	}
	j, err := parseJSON(data)
	if err != nil {
		return nil, &Error{Msg: "the where tree is not valid JSON: " + err.Error()}
	}
	var d decoder
	return d.node(j, "", 1, true)
}

// MatchProperties reports whether an event's properties (a raw JSON
// object) satisfy a where tree from ParseWhere or DecodeWhere.
func MatchProperties(where *Condition, props []byte) bool {
	return matchProperties(where, props)
}

// PropertyValue returns the event property at name (a top-level key, or a
// dotted path into nested objects), and false when there is none.
func PropertyValue(props []byte, name string) (Value, bool) {
	v, ok := propertyValue(props, name)
	return v, ok && v.kind != ValueNull
}

// PropertyNumber returns the event property at name as a number: a JSON
// number or a string holding one.
func PropertyNumber(props []byte, name string) (float64, bool) {
	return propertyNumber(props, name)
}

// RawProperty returns the raw JSON at name in the JSON object obj (a
// top-level key, or a dotted path into nested objects), scanning rather
// than decoding, and false when there is none.
func RawProperty(obj []byte, name string) ([]byte, bool) {
	return propertyRaw(obj, name)
}
