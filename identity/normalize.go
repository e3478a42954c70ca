package identity

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/mosaic-cdp/mosaic/internal/e164"
)

// Reasons Extract gives for values it drops.
const (
	DropEmpty        = "empty"                // nothing left after trimming
	DropTooLong      = "too_long"             // over MaxValueBytes
	DropNotText      = "not_text"             // not a string (or a number, for ids)
	DropInvalidEmail = "invalid_email"        // not one '@' with a dot in the domain
	DropInvalidPhone = "invalid_phone"        // not a valid number for its region
	DropInvalidType  = "invalid_type"         // an externalIds type that is not a valid name
	DropAdTracking   = "ad_tracking_disabled" // advertisingId with adTrackingEnabled false
	DropBadUTF8      = "invalid_utf8"
)

// normalizeEmail trims and lower-cases an address and checks it loosely:
// one '@', something before it, and a dot inside the domain. It returns the
// reason when the address is dropped.
func normalizeEmail(v string) (string, string) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		return "", DropEmpty
	}
	at := strings.IndexByte(v, '@')
	if at <= 0 || strings.IndexByte(v[at+1:], '@') >= 0 {
		return "", DropInvalidEmail
	}
	domain := v[at+1:]
	dot := strings.IndexByte(domain, '.')
	if dot <= 0 || domain[len(domain)-1] == '.' || strings.ContainsAny(v, " \t\r\n") {
		return "", DropInvalidEmail
	}
	return v, ""
}

// phoneCacheSize bounds the phone cache; when full it starts again.
const phoneCacheSize = 4096

// phoneNormalizer formats phone numbers as E.164. Parsing a number costs
// microseconds, and the same numbers come back on every event of a person,
// so results are cached.
type phoneNormalizer struct {
	region string
	cache  map[string]string // raw → E.164, or "" if invalid
}

func newPhoneNormalizer(region string) *phoneNormalizer {
	return &phoneNormalizer{region: region, cache: make(map[string]string)}
}

// normalize returns v as E.164 ("+31612345678"). A number without a country
// code is read as a number of the default region; without a default region
// only numbers starting with '+' (or an international prefix) are kept.
// Numbers that are not valid for their region are dropped.
func (p *phoneNormalizer) normalize(v string) (string, string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", DropEmpty
	}
	if e, ok := p.cache[v]; ok {
		if e == "" {
			return "", DropInvalidPhone
		}
		return e, ""
	}
	e := formatPhone(v, p.region)
	if len(p.cache) >= phoneCacheSize {
		clear(p.cache)
	}
	p.cache[v] = e
	if e == "" {
		return "", DropInvalidPhone
	}
	return e, ""
}

func formatPhone(v, region string) string {
	if len(v) > 64 {
		return ""
	}
	if region == "" {
		region = "ZZ" // unknown region: only international forms parse
	}
	// Imported contacts bring a new number on every event, where the
	// cache never hits; the fast path reads the common forms (and the
	// E.164 that cleaning wrote) exactly as the parser does, at a
	// twentieth of its cost.
	if e := e164.Fast(v, region); e != "" {
		return e
	}
	num, err := phonenumbers.Parse(v, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return ""
	}
	return phonenumbers.Format(num, phonenumbers.E164)
}

// checkValue trims v and checks what every identifier value must satisfy.
func checkValue(v string) (string, string) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", DropEmpty
	case len(v) > MaxValueBytes:
		return "", DropTooLong
	case !utf8.ValidString(v):
		return "", DropBadUTF8
	}
	return v, ""
}

// numberText turns a JSON number used as an id into text: integers as
// plain decimal digits (so 42, 42.0 and 4.2e1 are all "42"), anything else
// as written.
func numberText(lit string) string {
	if i, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err == nil && f == float64(int64(f)) && f > -1<<53 && f < 1<<53 {
		return strconv.FormatInt(int64(f), 10)
	}
	return lit
}
