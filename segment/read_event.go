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
	if t, ok := parseTimeZ(ts); ok {
		o.at = t
	} else if ts != nil {
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

// parseTimeZ returns what time.Parse(time.RFC3339Nano, s) returns for
// raw, the JSON string s, when s is a time in UTC written as
// 2006-01-02T15:04:05.999999999Z, as SDKs send it; false for anything else,
// left to time.Parse. Parsing from the message saves the copy of s that
// time.Parse needs: an allocation on every event. Its checks are
// time.Parse's own (parseRFC3339 in package time).
func parseTimeZ(raw []byte) (time.Time, bool) {
	const layout = len(`"2006-01-02T15:04:05Z"`)
	if len(raw) < layout || raw[0] != '"' || raw[len(raw)-2] != 'Z' || raw[len(raw)-1] != '"' {
		return time.Time{}, false
	}
	s := raw[1 : len(raw)-2] // no quotes, no Z
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4], 0, 9999)
	month, ok2 := digits(s[5:7], 1, 12)
	day, ok3 := digits(s[8:10], 1, 31)
	hour, ok4 := digits(s[11:13], 0, 23)
	minute, ok5 := digits(s[14:16], 0, 59)
	sec, ok6 := digits(s[17:19], 0, 59)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || day > daysIn(month, year) {
		return time.Time{}, false
	}
	nsec := 0
	if frac := s[19:]; len(frac) > 0 {
		// A '.' and at least one digit; digits past the ninth are
		// dropped, not rounded.
		if len(frac) < 2 || frac[0] != '.' {
			return time.Time{}, false
		}
		n, ok := digits(frac[1:min(len(frac), 10)], 0, 999999999)
		if !ok || len(frac) > 10 && !allDigits(frac[10:]) {
			return time.Time{}, false
		}
		for range 10 - min(len(frac), 10) {
			n *= 10
		}
		nsec = n
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// digits returns the decimal number b holds, and whether it is one between
// lo and hi.
func digits(b []byte, lo, hi int) (int, bool) {
	if !allDigits(b) {
		return 0, false
	}
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n, lo <= n && n <= hi
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// daysIn returns the number of days in a month of the proleptic Gregorian
// calendar, as package time counts them.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
