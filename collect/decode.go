package collect

import (
	"encoding/json"
	"errors"

	"github.com/mosaic-cdp/mosaic"
)

// member is one name/value pair of a JSON object, as byte spans of the body.
type member struct {
	key      []byte    // the key's raw bytes between the quotes
	val      []byte    // the value's raw bytes
	depth    int       // nesting depth of val: 0 for a scalar
	keyFlags scanFlags // what the key's string holds
	flags    scanFlags // what the strings inside val hold
	f        field     // the field the key names; set by collectFields
	// split: val is an object whose members the scanner kept, in
	// scanner.parts[sub[0]:sub[1]] (see scanner.splitParts).
	split bool
	sub   [2]int32
	// ctxTraits is the index among a split context's members of the traits
	// object whose members the scanner kept, in
	// scanner.ctxTraits[traitsSub[0]:traitsSub[1]]; -1: none.
	ctxTraits int32
	traitsSub [2]int32
}

// name returns the member's key as a string, unescaping it if needed.
func (m *member) name() string {
	if m.keyFlags&flagEscape == 0 {
		return string(m.key)
	}
	return unquote(m.key)
}

// unquote decodes the raw bytes of a validated JSON string (without its
// quotes). Only strings with escapes get here, so the slow path is fine.
func unquote(raw []byte) string {
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var s string
	_ = json.Unmarshal(q, &s) // raw was validated by the scanner
	return s
}

// item is one message of a request: the element of a batch, or the whole
// body of a single call.
type item struct {
	raw       []byte // the bytes as received, kept for the quarantine
	first     int    // its members are decoded.members[first:last]
	last      int
	depth     int  // nesting depth, the message object itself counting 1
	notObject bool // a batch element that is not an object
}

// envelope is what a batch body carries besides its events.
type envelope struct {
	writeKey     member // the body's writeKey, if any (val is nil if absent)
	sentAt       member
	context      member
	integrations member
}

// decoded is a request body split into its messages. All spans point into
// the body; nothing is copied.
type decoded struct {
	env     envelope
	items   []item
	members []member
}

func (d *decoded) reset() {
	d.env = envelope{}
	d.items = d.items[:0]
	d.members = d.members[:0]
}

// limits are the size and shape limits of a request (see doc.go).
type limits struct {
	MaxEventBytes    int
	MaxEnvelopeBytes int
	MaxDepth         int
	MaxBatchEvents   int
}

// invalidJSON turns a scanner error into the error a client sees.
func invalidJSON(err error) *mosaic.Error {
	return mosaic.Errorf(mosaic.EINVALIDJSON,
		"The body is not valid JSON (%v). Send one JSON object, encoded as UTF-8.", err)
}

// members parses the object at b[i] (after optional whitespace), appending
// its members to dst, and returns the offset after it and its depth.
func (s *scanner) members(b []byte, i int, dst []member) ([]member, int, int, error) {
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '{' {
		return dst, i, 0, errAt(b, i, "'{'")
	}
	depth := 1
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return dst, i + 1, depth, nil
	}
	for {
		var m member
		s.flags = 0
		start := i
		var err error
		if i, err = s.key(b, i); err != nil {
			return dst, i, 0, err
		}
		m.keyFlags = s.flags
		m.key = b[start+1 : lastQuote(b, i)]
		s.flags = 0
		vstart := skipSpace(b, i)
		if s.splitParts && vstart < len(b) && b[vstart] == '{' && m.keyFlags&flagEscape == 0 && isPartKey(m.key) {
			i, m.depth, err = s.splitPart(b, vstart, &m)
		} else {
			i, m.depth, err = s.value(b, vstart)
		}
		if err != nil {
			return dst, i, 0, err
		}
		m.val, m.flags = b[vstart:i], s.flags
		depth = max(depth, m.depth+1)
		dst = append(dst, m)
		if i = skipSpace(b, i); i < len(b) && b[i] == '}' {
			return dst, i + 1, depth, nil
		}
		if i >= len(b) || b[i] != ',' {
			return dst, i, 0, errAt(b, i, "',' or '}'")
		}
		i = skipSpace(b, i+1)
	}
}

// lastQuote returns the offset of the closing quote of the key that ends
// just before the ':' preceding offset i.
func lastQuote(b []byte, i int) int {
	i-- // the ':'
	for b[i] != '"' {
		i--
	}
	return i
}

// decodeSingle splits the body of a single call (/v1/track and the like):
// the body is the message.
func decodeSingle(s *scanner, d *decoded, body []byte) *mosaic.Error {
	d.reset()
	s.parts, s.ctxTraits = s.parts[:0], s.ctxTraits[:0]
	var err error
	var end, depth int
	if d.members, end, depth, err = s.members(body, 0, d.members); err != nil {
		return notObjectOrInvalid(s, body, err)
	}
	if end = skipSpace(body, end); end != len(body) {
		return invalidJSON(errAt(body, end, "the end of the body"))
	}
	d.items = append(d.items, item{raw: body, first: 0, last: len(d.members), depth: depth})
	for i := range d.members {
		if string(d.members[i].key) == "writeKey" {
			d.env.writeKey = d.members[i]
		}
	}
	return nil
}

// notObjectOrInvalid tells apart a body that is JSON but not an object from
// one that is not JSON at all.
func notObjectOrInvalid(s *scanner, body []byte, err error) *mosaic.Error {
	i := skipSpace(body, 0)
	if i < len(body) && body[i] != '{' {
		if _, verr := s.validate(body); verr == nil {
			return mosaic.Errorf(mosaic.EINVALIDFIELD,
				"The body is JSON but not an object. Send one Segment message as a JSON object, e.g. {\"userId\": \"u1\", \"event\": \"Signed Up\"}.")
		}
	}
	return invalidJSON(err)
}

// decodeBatch splits a batch body ({"batch": [...], "context": ..., ...})
// into its messages, in the same pass that validates it. A body-level
// problem is returned as the error; problems of single messages are left to
// normalize.
func decodeBatch(s *scanner, d *decoded, body []byte, lim limits) *mosaic.Error {
	d.reset()
	s.parts, s.ctxTraits = s.parts[:0], s.ctxTraits[:0]
	var other member // a "batch" field that is not an array
	sawBatch := false
	err := s.eachMember(body, func(m *member, vstart int) (int, error) {
		if string(m.key) != "batch" || vstart >= len(body) || body[vstart] != '[' {
			return s.envelopeField(&d.env, m, body, vstart, &other, lim)
		}
		sawBatch = true
		d.items, d.members = d.items[:0], d.members[:0] // a repeated key: the last one wins
		return d.splitBatch(s, body, vstart, lim)
	})
	if err != nil {
		var merr *mosaic.Error
		if errors.As(err, &merr) {
			return merr
		}
		return notObjectOrInvalid(s, body, err)
	}
	if err := checkEnvelope(&d.env, lim); err != nil {
		return err
	}
	switch {
	case sawBatch:
		return nil
	case other.val == nil || string(other.val) == "null":
		return mosaic.Errorf(mosaic.EEMPTYBATCH,
			`The body has no "batch" array. Send {"batch": [{"type": "track", ...}, ...]}.`)
	}
	return mosaic.Errorf(mosaic.EINVALIDFIELD,
		`The body's "batch" field must be an array of messages, not %s.`, kindName(other.val))
}

// eachMember walks the object that is the whole of body, calling fn with
// each member's key and the offset of its value; fn scans the value and
// returns the offset after it.
func (s *scanner) eachMember(body []byte, fn func(m *member, vstart int) (int, error)) error {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return errAt(body, i, "'{'")
	}
	if i = skipSpace(body, i+1); i < len(body) && body[i] == '}' {
		i++
	} else {
		for {
			var m member
			start := i
			var err error
			s.flags = 0
			if i, err = s.key(body, i); err != nil {
				return err
			}
			m.key, m.keyFlags = body[start+1:lastQuote(body, i)], s.flags
			if i, err = fn(&m, skipSpace(body, i)); err != nil {
				return err
			}
			if i = skipSpace(body, i); i < len(body) && body[i] == '}' {
				i++
				break
			}
			if i >= len(body) || body[i] != ',' {
				return errAt(body, i, "',' or '}'")
			}
			i = skipSpace(body, i+1)
		}
	}
	if i = skipSpace(body, i); i != len(body) {
		return errAt(body, i, "the end of the body")
	}
	return nil
}

// envelopeField scans a batch-level field other than the batch itself and
// keeps those that matter.
func (s *scanner) envelopeField(env *envelope, m *member, body []byte, vstart int, other *member, lim limits) (int, error) {
	s.flags = 0
	end, depth, err := s.value(body, vstart)
	if err != nil {
		return end, err
	}
	m.val, m.depth, m.flags = body[vstart:end], depth, s.flags
	switch string(m.key) {
	case "batch":
		*other = *m
	case "writeKey":
		env.writeKey = *m
	case "sentAt":
		env.sentAt = *m
	case "context":
		env.context = *m
	case "integrations":
		env.integrations = *m
	}
	if depth+1 > lim.MaxDepth {
		return end, mosaic.Errorf(mosaic.ETOODEEP,
			"The batch's %q field nests %d levels deep; the limit is %d. Flatten it.", m.name(), depth+1, lim.MaxDepth)
	}
	return end, nil
}

// checkEnvelope checks the batch-level fields that are merged into every
// message.
func checkEnvelope(env *envelope, lim limits) *mosaic.Error {
	for _, f := range []struct {
		name string
		m    member
	}{{"context", env.context}, {"integrations", env.integrations}} {
		if f.m.val != nil && f.m.val[0] != '{' && string(f.m.val) != "null" {
			return mosaic.Errorf(mosaic.EINVALIDFIELD,
				"The batch's %q field must be an object, not %s.", f.name, kindName(f.m.val))
		}
		if bad := f.m.flags & (flagNUL | flagSurrogate); bad != 0 {
			return mosaic.Errorf(mosaic.EINVALIDFIELD, "The batch's %q field %s", f.name, badEscapeText(bad))
		}
	}
	if n := len(env.context.val) + len(env.integrations.val); n > lim.MaxEnvelopeBytes {
		return mosaic.Errorf(mosaic.ETOOLARGE,
			"The batch's context and integrations take %d bytes together; the limit is %d, because they are copied into every message. Move large values into the messages.",
			n, lim.MaxEnvelopeBytes)
	}
	return nil
}

// splitBatch validates the batch array at body[i] and splits it into items;
// it returns the offset after the array.
func (d *decoded) splitBatch(s *scanner, body []byte, i int, lim limits) (int, error) {
	if i = skipSpace(body, i+1); i < len(body) && body[i] == ']' {
		return i + 1, mosaic.Errorf(mosaic.EEMPTYBATCH,
			`The "batch" array is empty. Send at least one message, or nothing at all.`)
	}
	for {
		if len(d.items) == lim.MaxBatchEvents {
			return i, mosaic.Errorf(mosaic.ETOOLARGE,
				"The batch holds more than %d messages. Split it into several requests.", lim.MaxBatchEvents)
		}
		it := item{first: len(d.members)}
		start := i
		var err error
		if i < len(body) && body[i] == '{' {
			d.members, i, it.depth, err = s.members(body, i, d.members)
		} else {
			it.notObject = true
			i, _, err = s.value(body, i)
		}
		if err != nil {
			return i, err
		}
		it.raw, it.last = body[start:i], len(d.members)
		d.items = append(d.items, it)
		switch i = skipSpace(body, i); {
		case i < len(body) && body[i] == ']':
			return i + 1, nil
		case i >= len(body) || body[i] != ',':
			return i, errAt(body, i, "',' or ']'")
		}
		i = skipSpace(body, i+1)
	}
}

// kindName names the JSON type of a raw value for error messages.
func kindName(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// badEscapeText explains a refused escape, for error messages.
func badEscapeText(f scanFlags) string {
	if f&flagNUL != 0 {
		return `contains the escape \u0000 (a NUL character), which Mosaic does not store. Remove NUL characters from the value.`
	}
	return `contains a \uD800-\uDFFF escape that is not part of a surrogate pair, so it names no character. Send the text as UTF-8 or as a complete pair.`
}
