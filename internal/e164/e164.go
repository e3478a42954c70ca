// Package e164 reads phone numbers as E.164 quickly where that is easy,
// giving exactly what libphonenumber (github.com/nyaruka/phonenumbers)
// gives, and says when it is not sure, so the caller asks the library.
// Both cleaning and identity resolution read every phone number of every
// event, and the library's parser costs ten microseconds or more.
package e164

import (
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// A fast path for the common phone numbers. phonenumbers.Parse runs a
// dozen regular expressions (extensions, viability, national prefixes,
// carrier codes) and costs tens of microseconds; a contact import brings
// a new number on every row, so the cache never helps. Most numbers,
// though, are plain digits with spaces, dashes, dots or parentheses,
// written either internationally (+31 6 1234 5678, 0031…) or nationally
// with the region's simple national prefix (06 1234 5678). For those the
// country code and national number can be read directly, and the number is
// accepted only if it is valid (Valid: what
// phonenumbers.IsValidNumber says, faster); everything
// else (extensions, letters, carrier codes, Italian leading zeros, regions
// with national-prefix rewriting) goes to the full parser. A differential
// test checks the two agree.

// prefixRule is how a region writes national numbers: with this national
// prefix (possibly none). ok is false for regions whose national prefix
// parsing is more than removing a fixed prefix.
type prefixRule struct {
	prefix string
	ok     bool
}

var (
	rulesOnce sync.Once
	rules     map[string]prefixRule
)

func regionRule(region string) prefixRule {
	rulesOnce.Do(func() {
		rules = map[string]prefixRule{}
		coll, err := phonenumbers.MetadataCollection()
		if err != nil {
			return // no fast path: every number goes to the parser
		}
		for _, md := range coll.GetMetadata() {
			p, pfp := md.GetNationalPrefix(), md.GetNationalPrefixForParsing()
			simple := md.GetNationalPrefixTransformRule() == "" && (pfp == "" || pfp == p) && allDigits(p)
			rules[md.GetId()] = prefixRule{prefix: p, ok: simple}
		}
	})
	return rules[region]
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// plainDigits returns v's digits and whether it was written
// internationally ('+' or "00" first), if v holds only digits and the
// separators people type; ok is false otherwise.
func plainDigits(v string) (digits string, intl, ok bool) {
	var b [24]byte
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(b) {
				return "", false, false
			}
			b[n] = c
			n++
		case c == '+' && n == 0 && !intl:
			intl = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/':
		default:
			return "", false, false
		}
	}
	d := string(b[:n])
	if !intl && strings.HasPrefix(d, "00") {
		d, intl = d[2:], true
	}
	return d, intl, n > 0
}

// Fast returns v in E.164 if the fast path can read it and the number is
// valid, or "" to leave v to the full parser: where it answers, the answer
// is phonenumbers.Parse(v, region), then IsValidNumber and Format(E164).
// region is an ISO 3166-1 alpha-2 code in capitals, or ZZ for none.
func Fast(v, region string) string {
	if len(v) > phonenumbers.MAX_INPUT_STRING_LENGTH {
		return "" // the parser refuses such input outright; so must we (found by fuzzing)
	}
	d, intl, ok := plainDigits(v)
	if !ok || len(d) < 5 {
		return ""
	}
	if intl && !strings.Contains(v, "+") {
		// A leading 00 is the international prefix only in regions that
		// dial abroad with 00 (not the US's 011, nor an unknown region):
		// the parser knows each region's, so it decides (fuzzing found
		// the fast path reading "0 0321…" as Belgian for any region).
		return ""
	}
	if intl {
		if d[0] == '0' {
			return "" // no country code starts with 0
		}
		for n := 1; n <= 3 && n < len(d); n++ {
			cc, _ := strconv.Atoi(d[:n])
			if phonenumbers.GetRegionCodeForCountryCode(cc) != phonenumbers.UNKNOWN_REGION {
				return validE164(cc, d[n:]) // country codes are prefix-free: only one n can match
			}
		}
		return ""
	}
	r := regionRule(region)
	cc := phonenumbers.GetCountryCodeForRegion(region)
	if !r.ok || cc == 0 {
		return ""
	}
	if r.prefix != "" {
		d = strings.TrimPrefix(d, r.prefix)
	}
	return validE164(cc, d)
}

// validE164 returns +cc national if that is a valid number. A national
// number with a leading zero (Italy and a few others keep it) is left to
// the parser, which records it apart.
func validE164(cc int, national string) string {
	if national == "" || national[0] == '0' || len(national) > 17 {
		return ""
	}
	if !allDigits(national) || !Valid(cc, national) {
		return ""
	}
	return "+" + strconv.Itoa(cc) + national
}
