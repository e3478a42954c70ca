package imports

import (
	"encoding/json"
	"slices"
	"strconv"
)

// appendJSON appends v as encoding/json would write it, byte for byte
// (keys sorted, HTML characters escaped), for the values a row's message
// holds: maps, strings, numbers, booleans, null and arrays. Reflection
// made json.Marshal a sixth of an import's CPU; rarer values still go
// through it.
func appendJSON(dst []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendJSONString(dst, x)
	case json.RawMessage:
		return append(dst, x...) // made by the builder, compact and escaped as encoding/json would
	case fieldSet:
		return appendFieldSet(dst, x)
	case map[string]any:
		var kb [16]string
		keys := kb[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendJSON(dst, x[k])
		}
		return append(dst, '}')
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, e)
		}
		return append(dst, ']')
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case bool:
		return strconv.AppendBool(dst, x)
	case nil:
		return append(dst, "null"...)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(dst, "null"...) // not reached: rows hold only JSON values
	}
	return append(dst, b...)
}

// appendJSONString appends s quoted; strings of printable ASCII without
// characters that need escaping (nearly all) are copied as they are.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
