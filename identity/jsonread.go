package identity

import (
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
)

// A small reader for the few fields Extract needs. Messages in the log are
// JSON that collect has already validated, so the reader only finds value
// boundaries (skipping strings and nesting) instead of decoding everything:
// encoding/json would decode every property and trait of every event just to
// read a handful of ids. It walks a message once, going into the objects
// that hold identifiers (context, context.device) where it meets them
// instead of skipping them and reading them again, and skips everything
// else with jsonscan, which steps over strings eight bytes at a time. On
// malformed input it returns errMalformed or reads something harmless; it
// never panics (FuzzExtract checks both, and that on valid JSON it agrees
// with encoding/json; FuzzExtractReader holds it to the reader it
// replaced).

var errMalformed = errors.New("identity: message is not valid JSON")

// object iterates over the members of an object in place: key moves to the
// next member's value, then the caller either skips the value (value) or
// reads into it, leaving i after it.
type object struct {
	b   []byte
	i   int // the next member (or the closing brace), or the current value
	err error
}

// openObject starts iterating over the object at b[i], if there is one
// there: ok is false for anything else (null, a string …), which callers
// treat as absent.
func openObject(b []byte, i int) (object, bool) {
	if i >= len(b)-1 || b[i] != '{' {
		return object{}, false
	}
	return object{b: b, i: i + 1}, true
}

// key returns the next member's key, its escapes decoded, and leaves o.i
// at its value. ok is false at the end of the object, o.i then at the
// closing brace, or on malformed input, with o.err set.
func (o *object) key() (name []byte, ok bool) {
	if o.err != nil {
		return nil, false
	}
	b := o.b
	i := space(b, o.i)
	if i < len(b) && b[i] == ',' {
		i = space(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		if i >= len(b) || b[i] != '}' {
			o.err = errMalformed
		}
		o.i = i
		return nil, false
	}
	end, escaped := jsonscan.StringEnd(b, i)
	if end >= len(b) {
		o.err = errMalformed
		return nil, false
	}
	name = b[i+1 : end-1]
	if escaped {
		s, _ := jsonString(b[i:end])
		name = []byte(s)
	}
	i = space(b, end)
	if i >= len(b) || b[i] != ':' {
		o.err = errMalformed
		return nil, false
	}
	o.i = space(b, i+1)
	return name, true
}

// value skips the value at o.i and returns its bytes; nil, with o.err set,
// if there is no whole value there.
func (o *object) value() []byte {
	start := o.i
	var end int
	if start < len(o.b) && o.b[start] == '"' {
		end, _ = jsonscan.StringEnd(o.b, start) // most values: one call less
	} else {
		end = jsonscan.SkipValue(o.b, start)
	}
	// A value that runs to the end was cut short or is the last thing of
	// an object never closed.
	if end == start || end >= len(o.b) {
		o.err = errMalformed
		o.i = len(o.b)
		return nil
	}
	o.i = end
	return o.b[start:end]
}

// enter starts iterating over the value at o.i if it is an object; ok is
// false for anything else, which the caller skips with value. Once the
// caller has iterated over in to its end, leave moves o past it.
func (o *object) enter() (in object, ok bool) {
	return openObject(o.b, o.i)
}

// leave moves o past the object in, which the caller entered at o.i and
// iterated over, and returns the object's bytes; nil, with o.err set, if
// in stopped at malformed input.
func (o *object) leave(in *object) []byte {
	if in.err != nil {
		o.err, o.i = in.err, len(o.b)
		return nil
	}
	start := o.i
	o.i = in.i + 1
	return o.b[start:o.i]
}

// space returns the offset of the first byte at or after b[i] that is not
// JSON white space. Stored messages are compact, so it is usually b[i]
// itself: checking that inline saves a call per key.
func space(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i
	}
	return jsonscan.SkipSpace(b, i)
}

// arrayElements calls fn with each element of the array v.
func arrayElements(v []byte, fn func(elem []byte)) {
	if len(v) < 2 || v[0] != '[' {
		return
	}
	for i := 1; ; {
		i = jsonscan.SkipSpace(v, i)
		if i < len(v) && v[i] == ',' {
			i = jsonscan.SkipSpace(v, i+1)
		}
		if i >= len(v) || v[i] == ']' {
			return
		}
		e := jsonscan.SkipValue(v, i)
		if e == i || e >= len(v) {
			return
		}
		fn(v[i:e])
		i = e
	}
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
