package synth

// Phone numbers are valid numbers of their country (mobile numbers, and
// Dutch landlines), unique per person, written the many ways people write
// them: "06 12345678", "+31 6 12345678", "(415) 555-2671", "0151 23456789".
// A number written without its country code can only be read with the
// right default region; see nationalSafe.

// phone is one person's number.
type phone struct {
	Region string // "NL"
	CC     string // country calling code, "31"
	NSN    string // national significant number, "612345678"
	Area   int    // digits of NSN written as the area or mobile prefix
}

// E164 returns the number as the identity package stores it.
func (p phone) E164() string { return "+" + p.CC + p.NSN }

// phoneFormat writes a number one way.
type phoneFormat struct {
	National bool // written without the country code
	Write    func(p phone) string
	// Dial00 marks "0031 6 …": international, but with the dialling
	// prefix of Europe, which means nothing in the US (011 there).
	Dial00 bool
}

// nat writes the trunk prefix 0, the area, sep and the rest.
func nat(sep string) func(phone) string {
	return func(p phone) string { return "0" + p.NSN[:p.Area] + sep + p.NSN[p.Area:] }
}

// intl writes +CC, the area, sep and the rest.
func intl(sep string) func(phone) string {
	return func(p phone) string { return "+" + p.CC + sep + p.NSN[:p.Area] + sep + p.NSN[p.Area:] }
}

// grouped writes the subscriber part in groups of two, as Belgians do.
func grouped(prefix string) func(phone) string {
	return func(p phone) string {
		rest := p.NSN[p.Area:]
		s := prefix + p.NSN[:p.Area]
		for i := 0; i < len(rest); i += 2 {
			s += " " + rest[i:min(i+2, len(rest))]
		}
		return s
	}
}

// phoneFormats are the ways numbers of each region are written, national
// ones first.
var phoneFormats = map[string][]phoneFormat{
	"NL": {
		national(nat(" ")), national(nat("")), national(nat("-")),
		national(func(p phone) string {
			return "0" + p.NSN[:p.Area] + " " + p.NSN[p.Area:p.Area+4] + " " + p.NSN[p.Area+4:]
		}),
		international(intl(" ")), international(intl("")),
		dial00(func(p phone) string { return "0031 " + p.NSN[:p.Area] + " " + p.NSN[p.Area:] }),
		international(func(p phone) string { return "+31 (0)" + p.NSN[:p.Area] + " " + p.NSN[p.Area:] }),
	},
	"US": {
		national(func(p phone) string { return "(" + p.NSN[:3] + ") " + p.NSN[3:6] + "-" + p.NSN[6:] }),
		national(func(p phone) string { return p.NSN[:3] + "-" + p.NSN[3:6] + "-" + p.NSN[6:] }),
		national(func(p phone) string { return p.NSN[:3] + "." + p.NSN[3:6] + "." + p.NSN[6:] }),
		international(func(p phone) string { return "+1 " + p.NSN[:3] + "-" + p.NSN[3:6] + "-" + p.NSN[6:] }),
		international(intl("")),
		international(func(p phone) string { return "+1 (" + p.NSN[:3] + ") " + p.NSN[3:6] + "-" + p.NSN[6:] }),
	},
	"DE": {national(nat(" ")), national(nat("")), international(intl(" ")), international(intl(""))},
	"GB": {national(nat(" ")), international(intl(" ")), international(intl(""))},
	"BE": {national(grouped("0")), international(grouped("+32 ")), international(intl(""))},
}

// national, international and dial00 make the formats above.
func national(w func(phone) string) phoneFormat      { return phoneFormat{National: true, Write: w} }
func international(w func(phone) string) phoneFormat { return phoneFormat{Write: w} }
func dial00(w func(phone) string) phoneFormat        { return phoneFormat{Write: w, Dial00: true} }

// nationalSafe reports whether a number of country may be written
// without its country code for a resolver whose default region is region.
// At home it is read correctly. Abroad it cannot be read as the number it
// is, and it is only written where it cannot be misread as a valid number
// of the region either, so that it is dropped: US and British numbers have
// ten national digits and German mobiles eleven, none of which is a valid
// Dutch length.
func nationalSafe(country, region string) bool {
	if country == region {
		return true
	}
	return region == "NL" && (country == "US" || country == "DE" || country == "GB")
}

// writable reports whether f may be written for a resolver whose default
// region is region, by someone from country.
func (f phoneFormat) writable(country, region string) bool {
	return (!f.National || nationalSafe(country, region)) && (!f.Dial00 || region != "US")
}

// readable reports whether a resolver whose default region is region
// reads f as the number it is.
func (f phoneFormat) readable(country, region string) bool {
	return (!f.National || country == region) && (!f.Dial00 || region != "US")
}

// usAreas are area codes of large US cities.
var usAreas = []string{"212", "213", "312", "415", "510", "617", "646", "702", "718", "206",
	"303", "404", "512", "602", "713", "305", "503", "612", "615", "919"}

// mobileNumber returns number k (unique per person and slot) of region.
func mobileNumber(region string, k, salt uint64) phone {
	switch region {
	case "NL":
		x := scramble(k, 60_000_000, salt)
		return phone{"NL", "31", "6" + string("123458"[x/10_000_000]) + pad(x%10_000_000, 7), 1}
	case "US":
		x := scramble(k, 160_000_000, salt)
		r := x % 8_000_000
		return phone{"US", "1", usAreas[x/8_000_000] + pad(200+r/10_000, 3) + pad(r%10_000, 4), 3}
	case "DE":
		x := scramble(k, 500_000_000, salt)
		return phone{"DE", "49", "15" + string("12579"[x/100_000_000]) + pad(x%100_000_000, 8), 3}
	case "GB":
		x := scramble(k, 300_000_000, salt)
		return phone{"GB", "44", "7" + string("123"[x/100_000_000]) + pad(x%100_000_000, 8), 4}
	default: // BE
		x := scramble(k, 40_000_000, salt)
		return phone{"BE", "32", "4" + string("6789"[x/10_000_000]) + pad(x%10_000_000, 7), 3}
	}
}

// dutchLandline returns landline number k in one of four big cities.
func dutchLandline(k, salt uint64) phone {
	x := scramble(k, 32_000_000, salt)
	areas := [4]string{"20", "10", "30", "70"}
	return phone{"NL", "31", areas[x/8_000_000] + pad(2_000_000+x%8_000_000, 7), 2}
}
