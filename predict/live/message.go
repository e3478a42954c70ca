package live

import (
	"bytes"
	"strings"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
	"github.com/mosaic-cdp/mosaic/profile"
)

// readMessage reads the members of a stored message that the predictions
// use, in place, exactly as json.Unmarshal into a message would: keys
// match without regard to case, the last of repeated keys wins, null
// leaves a member as it was, and a member of the wrong type makes the
// whole read fail. Decoding every such message with encoding/json cost a
// seventh of the processing of a replay.
func readMessage(b []byte) (message, bool) {
	var m message
	if string(bytes.TrimSpace(b)) == "null" {
		return m, true
	}
	ok := true
	set := func(dst *string, val []byte) { ok = readString(dst, val) && ok }
	read := jsonscan.Object(b, func(raw, val []byte) bool {
		switch memberOf(raw) {
		case memberType:
			set(&m.Type, val)
		case memberEvent:
			set(&m.Event, val)
		case memberTimestamp:
			set(&m.Timestamp, val)
		case memberProperties:
			m.Props = val
		case memberContext:
			if string(val) == "null" {
				return true
			}
			ok = jsonscan.Object(val, func(raw, val []byte) bool {
				if keyIs(raw, "timezone") {
					set(&m.Context.Timezone, val)
				}
				return ok
			}) && ok
		}
		return ok
	})
	return m, read && ok
}

// readString reads the JSON value val into *dst as json.Unmarshal reads
// it into a string: null leaves *dst as it was, and anything but a string
// is an error.
func readString(dst *string, val []byte) bool {
	switch string(val) { // the usual types without a copy
	case "null":
		return true
	case `"page"`:
		*dst = mosaic.TypePage
		return true
	case `"screen"`:
		*dst = mosaic.TypeScreen
		return true
	case `"track"`:
		*dst = mosaic.TypeTrack
		return true
	}
	s, ok := jsonscan.String(val)
	if ok {
		*dst = s
	}
	return ok
}

// readEnvelope reads the members of a message the profile located (see
// profile.Envelope), for messages where that gives what readMessage
// gives: all but the properties, which only orders need. Reading the spans
// instead of the message spared a pass over each page view and engagement
// event, a twentieth of a replay's processing.
//
// A Stamped envelope's timestamp is a string, whose time the caller takes
// from the change: it is left out, sparing its copy. Strings are shared
// through strs (see stringCache).
func readEnvelope(e *profile.Envelope, strs *stringCache) (message, bool) {
	var m message
	ts := e.Timestamp
	if e.Stamped {
		ts = nil
	}
	ok := true
	for _, f := range [...]struct {
		dst    *string
		val    []byte
		shared bool // few values repeat: worth sharing through strs
	}{{&m.Type, e.Type, true}, {&m.Event, e.Event, true}, {&m.Timestamp, ts, false}, {&m.Context.Timezone, e.Timezone, true}} {
		if b, plain := plainString(f.val); plain && f.shared {
			*f.dst = strs.get(b)
		} else if plain {
			*f.dst = string(b)
		} else if f.val != nil {
			ok = readString(f.dst, f.val) && ok
		}
	}
	return m, ok
}

// plainString returns the contents of the JSON string val if they are
// what it decodes to: printable ASCII without escapes.
func plainString(val []byte) ([]byte, bool) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return nil, false
	}
	b := val[1 : len(val)-1]
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return nil, false
		}
	}
	return b, true
}

// stringCache shares the strings of the few values that most events
// repeat (types, event names, time zones): copying them out of every
// message was most of reading the envelope.
type stringCache struct {
	m map[string]string
}

// maxCachedStrings bounds a stringCache, so odd values cannot fill memory.
const maxCachedStrings = 1000

// get returns b as a string, shared with earlier calls for the same bytes.
func (c *stringCache) get(b []byte) string {
	if s, ok := c.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if c.m == nil {
		c.m = map[string]string{}
	}
	if len(c.m) < maxCachedStrings {
		c.m[s] = s
	}
	return s
}

// The top-level members readMessage reads.
const (
	memberOther = iota
	memberType
	memberEvent
	memberTimestamp
	memberProperties
	memberContext
)

// memberOf returns which member a raw key (as jsonscan.Object gives it)
// names. Most keys are told apart by their first byte without decoding
// them: decoding every key of every message into a string was a third of
// the read.
func memberOf(raw []byte) int {
	if len(raw) == 0 {
		return memberOther
	}
	// Only a key starting with one of these letters, in either case, or with
	// an escape can name a member: no other character folds to an ASCII
	// t, e, p or c.
	switch raw[0] | 0x20 {
	case 't', '|': // '|' is '\\' | 0x20
	case 'e':
		if keyIs(raw, "event") {
			return memberEvent
		}
		return memberOther
	case 'p':
		if keyIs(raw, "properties") {
			return memberProperties
		}
		return memberOther
	case 'c':
		if keyIs(raw, "context") {
			return memberContext
		}
		return memberOther
	default:
		return memberOther
	}
	for _, c := range [...]struct {
		name   string
		member int
	}{{"type", memberType}, {"event", memberEvent}, {"timestamp", memberTimestamp}, {"properties", memberProperties}, {"context", memberContext}} {
		if keyIs(raw, c.name) {
			return c.member
		}
	}
	return memberOther
}

// keyIs reports whether a raw key names the member name (lower case
// ASCII) as encoding/json matches keys: the decoded key equal to name
// without regard to case.
func keyIs(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		// Without escapes the key is its bytes. Bytes that are not UTF-8,
		// which decoding replaces by U+FFFD, match no name either way.
		return bytes.EqualFold(raw, []byte(name))
	}
	key, _ := jsonscan.Key(raw)
	return strings.EqualFold(key, name)
}
