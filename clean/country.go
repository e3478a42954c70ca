package clean

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// countryNames maps a folded country name or code (see foldName) to its
// ISO 3166-1 alpha-2 code. It is built once from CLDR's names in English,
// Dutch, German, French and Spanish, plus the alpha-3 codes and the
// common short forms CLDR does not list.
var countryNames = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 2048)
	namers := []display.Namer{
		display.English.Regions(), display.Dutch.Regions(), display.German.Regions(),
		display.French.Regions(), display.Spanish.Regions(),
	}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() || r.String() != code || r.ISO3() == "" {
				continue
			}
			if deprecatedRegions[code] {
				continue
			}
			m[foldName(code)] = code
			m[foldName(r.ISO3())] = code
			for _, n := range namers {
				if name := foldName(n.Name(r)); name != "" {
					if _, taken := m[name]; !taken {
						m[name] = code
					}
				}
			}
		}
	}
	for name, code := range extraCountryNames {
		m[foldName(name)] = code
	}
	return m
})

// deprecatedRegions are codes CLDR still names that are no longer (or
// never were) ISO 3166-1 countries, and whose names would shadow a real
// country's ("France métropolitaine").
var deprecatedRegions = map[string]bool{
	"FX": true, "SU": true, "YU": true, "ZR": true, "TP": true, "CS": true, "DD": true, "BU": true,
	"NT": true, "AN": true, "QO": true, "EU": true, "EZ": true, "UN": true, "ZZ": true,
}

// extraCountryNames are forms seen in exports that CLDR does not give.
var extraCountryNames = map[string]string{
	"Holland": "NL", "The Netherlands": "NL", "Nederland (NL)": "NL", "NLD": "NL",
	"UK": "GB", "Great Britain": "GB", "England": "GB", "Scotland": "GB", "Wales": "GB",
	"Groot-Brittannië": "GB", "Engeland": "GB",
	"USA": "US", "U.S.A.": "US", "U.S.": "US", "United States of America": "US", "Amerika": "US",
	"Verenigde Staten van Amerika": "US", "Deutschland": "DE", "Duitsland": "DE",
	"België": "BE", "Belgique": "BE", "Belgien": "BE",
}

// foldName lower-cases a name, strips accents and keeps only letters and
// digits, so "België", "belgie" and " BELGIË " are the same key.
func foldName(s string) string {
	t := s
	if !isASCII(s) { // a chain is stateful: one per call, for concurrent use
		stripped, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
		if err == nil {
			t = stripped
		}
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, t)
}

// Country returns the ISO 3166-1 alpha-2 code of a country name (English,
// Dutch, German, French or Spanish, accents optional) or code (alpha-2 or
// alpha-3, any case). ok is false if v names no country.
func Country(v string) (string, bool) {
	code, ok := countryNames()[foldName(v)]
	return code, ok
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
