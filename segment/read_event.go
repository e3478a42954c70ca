package segment

import (
	"bytes"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
)

// Every event the profile stage applies comes to Observe, and most are
// read by no audience: reading them must cost little. decodeEvent looked
// each member up with a scan of its own, and a message's context (the
// bulk of what SDKs send) was skipped over three times. readEvent reads the
// same members in one pass, takes the name the profile stage read when it
// is the same string, and looks for consent and traits only when asked.
//
// The profile stage's reading of the time is not the segment engine's: it
// takes the last "timestamp" member rather than the first, accepts more
// layouts, keeps microseconds and clamps to the years 1 to 9999. Telling
// whether the two agree for one message costs what parsing the timestamp
// costs, so the engine parses it as it always has.

// wants says which of the optional parts of an event to read.
type wants struct {
	consent bool // the categoryPreferences of context.consent
	traits  bool // whether the event may set traits
}

// readEvent returns what decodeEvent returns for ev (only the parts of
// want among the optional ones). known is the event name the profile stage
// read, "" for none: it is used when the message holds the same string.
func readEvent(ev *mosaic.Event, known string, want wants) observed {
	msg := ev.Message
	track := ev.Type == mosaic.TypeTrack
	var ts, name, props []byte
	plain := true
	// decodeEvent's lookups take a key's first occurrence and decode
	// escapes in keys; a key with an escape is left to it. The pass stops
	// once it has what it reads: SDKs send the context, the bulk of a
	// message, after these.
	read := jsonscan.Object(msg, func(key, val []byte) bool {
		switch string(key) {
		case "timestamp":
			if ts == nil {
				ts = val
			}
		case "event":
			if name == nil {
				name = val
			}
		case "properties":
			if props == nil {
				props = val
			}
		default:
			if bytes.IndexByte(key, '\\') >= 0 {
				plain = false
				return false
			}
		}
		return ts == nil || track && (name == nil || props == nil)
	})
	if !read || !plain {
		o := decodeEvent(ev)
		if !want.consent {
			o.consent = nil
		}
		if !want.traits {
			o.traits = false
		}
		return o
	}
	o := observed{at: ev.ReceivedAt}
	if ts != nil {
		if s, ok := unquote(ts); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				o.at = t
			}
		}
	}
	if track {
		if name != nil {
			o.name = sameString(name, known)
		}
		if len(props) > 0 && props[0] == '{' {
			o.props = props
		}
	}
	if want.consent && bytes.Contains(msg, consentKey) {
		o.consent = consentOf(msg)
	}
	if want.traits {
		o.traits = ev.Type == mosaic.TypeIdentify || bytes.Contains(msg, traitsKey)
	}
	return o
}

// sameString returns the JSON string raw holds as unquote does ("" if it
// is not one), as known itself when it is that string: no copy is made.
func sameString(raw []byte, known string) string {
	if known != "" && len(raw) == len(known)+2 && raw[0] == '"' && raw[len(raw)-1] == '"' &&
		string(raw[1:len(raw)-1]) == known && bytes.IndexByte(raw, '\\') < 0 && utf8.ValidString(known) {
		return known
	}
	s, _ := unquote(raw)
	return s
}
