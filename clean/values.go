package clean

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/mosaic-cdp/mosaic/internal/e164"
	"golang.org/x/net/idna"
)

// Email trims and lower-cases an address and checks its syntax loosely:
// one '@' with something before it, a dot inside the domain, no spaces.
// ok is false for an address that is not one (it is then returned trimmed,
// not lower-cased).
func Email(v string) (string, bool) {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(strings.TrimSuffix(v, ">"), "<")
	if hasMailto(v) {
		v = v[len("mailto:"):]
	}
	at := strings.LastIndexByte(v, '@')
	if at <= 0 || strings.ContainsAny(v, " \t\r\n,;<>") || strings.Count(v, "@") != 1 {
		return v, false
	}
	domain := v[at+1:]
	if dot := strings.IndexByte(domain, '.'); dot <= 0 || domain[len(domain)-1] == '.' || strings.Contains(domain, "..") {
		return v, false
	}
	if isASCII(v) {
		return strings.ToLower(v), true // local@domain lower-cased in one piece, as below
	}
	local := strings.ToLower(v[:at])
	if isASCII(domain) {
		return local + "@" + strings.ToLower(domain), true
	}
	// An internationalised domain (bücher.example) goes to its ASCII form
	// (xn--bcher-kva.example), the one mail servers and other systems'
	// exports use, so both spellings are one identifier. The local part
	// stays as written: only the domain has an ASCII form.
	ascii, err := idnaProfile.ToASCII(domain)
	if err != nil {
		return v, false
	}
	return local + "@" + ascii, true
}

// hasMailto reports strings.HasPrefix(strings.ToLower(v), "mailto:")
// without lower-casing all of v when its first bytes are ASCII, as they
// nearly always are.
func hasMailto(v string) bool {
	if len(v) < len("mailto:") || !isASCII(v[:len("mailto:")]) {
		return strings.HasPrefix(strings.ToLower(v), "mailto:")
	}
	return strings.EqualFold(v[:len("mailto:")], "mailto:")
}

// idnaProfile maps a domain as browsers and mail clients do (UTS #46:
// lower-casing and width folding first), then checks it as a host name.
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.BidiRule())

// phoneCacheSize bounds each region's cache; when full it starts again.
const phoneCacheSize = 8192

// Phones formats phone numbers as E.164, caching results: parsing costs
// microseconds and a person's number comes back on every event. Safe for
// concurrent use.
type Phones struct {
	mu    sync.Mutex
	cache map[[2]string]string // (region, raw) → E.164, "" if invalid
}

// Format returns v as E.164 ("+31612345678"). A number without a country
// code is read as one of region (ISO 3166-1 alpha-2, e.g. "NL"); without a
// region only international forms parse. ok is false for a number that is
// not valid for its region.
func (p *Phones) Format(v, region string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 64 {
		return v, false
	}
	// The fast path is cheaper than the cache (a contact import brings a
	// new number on every row, and each would be inserted): only the full
	// parser's answers are cached.
	if e := fastFormat(v, region); e != "" {
		return e, true
	}
	k := [2]string{region, v}
	p.mu.Lock()
	e, hit := p.cache[k]
	p.mu.Unlock()
	if !hit {
		e = formatPhone(v, region)
		p.mu.Lock()
		if p.cache == nil || len(p.cache) >= phoneCacheSize {
			p.cache = make(map[[2]string]string)
		}
		p.cache[k] = e
		p.mu.Unlock()
	}
	if e == "" {
		return v, false
	}
	return e, true
}

func formatPhone(v, region string) string {
	if e := fastFormat(v, region); e != "" {
		return e
	}
	return parsePhone(phoneInput(v, region))
}

// fastFormat is formatPhone's fast path: "" where it leaves the number to
// the parser.
func fastFormat(v, region string) string {
	return fastE164(phoneInput(v, region))
}

// phoneInput is what both paths read: the number with a leading 00 (the
// international prefix of most of Europe) written as +, and the region,
// ZZ (unknown) if none.
func phoneInput(v, region string) (string, string) {
	if region == "" {
		region = "ZZ"
	}
	if strings.HasPrefix(v, "00") {
		v = "+" + v[2:]
	}
	return v, region
}

// parsePhone is the full parser, for any form libphonenumber reads.
func parsePhone(v, region string) string {
	num, err := phonenumbers.Parse(v, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return ""
	}
	return phonenumbers.Format(num, phonenumbers.E164)
}

// Name trims a name and collapses runs of white space (including
// non-breaking spaces) into one space.
func Name(v string) string {
	return strings.Join(strings.FieldsFunc(v, unicode.IsSpace), " ")
}

// Bool reads the common string forms of a boolean, in English and Dutch:
// true/false, yes/no, y/n, ja/nee, j, 1/0, on/off, waar/onwaar.
func Bool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "y", "ja", "j", "1", "on", "waar", "t":
		return true, true
	case "false", "no", "n", "nee", "0", "off", "onwaar", "f":
		return false, true
	}
	return false, false
}

// Number reads an amount as written in exports: "12.50", "12,50",
// "1.234,56", "1,234.56", "€ 12,50", "12.50 EUR", "-3". A single comma
// or dot followed by exactly three digits is read as a thousands separator
// only when another separator also appears; "1,250" alone is 1.25, as in
// most European exports, while "1,250.00" is 1250.
func Number(v string) (float64, bool) {
	s := strings.TrimSpace(v)
	s = strings.TrimFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9') && r != '-' && r != '+' && r != '.' && r != ','
	})
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '\'' || r == '_' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return 0, false
	}
	lastDot, lastComma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	switch {
	case lastDot >= 0 && lastComma >= 0 && lastComma > lastDot: // 1.234,56
		s = strings.ReplaceAll(s, ".", "")
		s = strings.Replace(s, ",", ".", 1)
	case lastDot >= 0 && lastComma >= 0: // 1,234.56
		s = strings.ReplaceAll(s, ",", "")
	case lastComma >= 0:
		if strings.Count(s, ",") > 1 { // 1,234,567
			s = strings.ReplaceAll(s, ",", "")
		} else {
			s = strings.Replace(s, ",", ".", 1)
		}
	case strings.Count(s, ".") > 1: // 1.234.567
		s = strings.ReplaceAll(s, ".", "")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// dateLayouts are the forms exports write dates and times in. Day-first
// forms come before month-first ones: Mosaic's users are mostly European,
// and a US-style export should give its format (see docs/data-quality.md).
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02",
	"2006/01/02 15:04:05",
	"02-01-2006",
	"02-01-2006 15:04:05",
	"02-01-2006 15:04",
	"2-1-2006",
	"02/01/2006",
	"02/01/2006 15:04:05",
	"02/01/2006 15:04",
	"2/1/2006",
	"02.01.2006",
	"2.1.2006",
	"20060102",
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"2 January 2006",
	"2 Jan 2006",
	"January 2, 2006",
	"Jan 2, 2006",
}

// Time reads a date or date-time in one of the forms exports use (ISO 8601,
// day-first dates with -, / or ., RFC 1123, written-out months, Unix
// seconds or milliseconds). Values without a zone are UTC. dateOnly reports
// that v held no time of day.
func Time(v string) (t time.Time, dateOnly, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false, false
	}
	if t, ok := fastDate(v); ok {
		return t, true, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && len(v) >= 9 {
		switch {
		case n > 1e11 && n < 1e14: // milliseconds
			return time.UnixMilli(n).UTC(), false, true
		case n > 1e8 && n < 1e11:
			return time.Unix(n, 0).UTC(), false, true
		}
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, !strings.Contains(layout, "15"), true
		}
	}
	return time.Time{}, false, false
}

// fastDate reads the two date forms exports mostly use, 2006-01-02 and
// day-first 02-01-2006 (or with / or .), without time.Parse: trying the
// layouts in turn made every failed attempt build an error, which
// profiling an import showed costing more than the parse. Other forms, and
// invalid dates, go the long way (which reports them the same).
func fastDate(v string) (time.Time, bool) {
	if len(v) != 10 {
		return time.Time{}, false
	}
	var y, m, d int
	var ok bool
	switch {
	case v[4] == '-' && v[7] == '-':
		y, ok = digits(v[0:4])
		m2, ok2 := digits(v[5:7])
		d2, ok3 := digits(v[8:10])
		m, d, ok = m2, d2, ok && ok2 && ok3
	case v[2] == v[5] && (v[2] == '-' || v[2] == '/' || v[2] == '.'):
		d, ok = digits(v[0:2])
		m2, ok2 := digits(v[3:5])
		y2, ok3 := digits(v[6:10])
		m, y, ok = m2, y2, ok && ok2 && ok3
	}
	if !ok || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 31-02-2024: not a date
		return time.Time{}, false
	}
	return t, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// FormatTime writes t as RFC 3339 in UTC, or as a full date (2006-01-02)
// when dateOnly.
func FormatTime(t time.Time, dateOnly bool) string {
	if dateOnly {
		return t.Format(time.DateOnly)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// fastE164 is the fast path of the phone step (see package e164).
func fastE164(v, region string) string { return e164.Fast(v, region) }
