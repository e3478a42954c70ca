package e164

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Valid answers what phonenumbers.IsValidNumber answers for the
// number with country code cc and national significant number national
// (digits, no leading zero), without its costs. The library builds each
// pattern's key by concatenation, looks the compiled expression up under a
// lock, and matches each of up to eleven number types' patterns twice; it
// was a fifth of a contact import's CPU. Here every region's patterns are
// compiled once, and the types that make a number valid are joined, per
// number length, into one expression: a number is valid if it matches the
// region's general pattern and any type's, which is what the library's
// type search comes down to. A differential test and a fuzz target hold
// the two to the same answers.
func Valid(cc int, national string) bool {
	v := validators()
	regions := phonenumbers.GetRegionCodesForCountryCode(cc)
	var r *regionValidator
	switch {
	case len(regions) == 0:
		return false
	case regions[0] == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
		r = v.nonGeo[cc]
	case len(regions) == 1:
		r = v.regions[regions[0]]
	default:
		r = v.regionOf(regions, national)
	}
	return r != nil && r.valid(national)
}

// numberDesc is one of a region's number descriptions: the lengths it
// allows (none listed: any) and its pattern, matched whole.
type numberDesc struct {
	lengths []int32
	re      *regexp.Regexp
}

func newNumberDesc(d *phonenumbers.PhoneNumberDesc) numberDesc {
	if d == nil {
		return numberDesc{lengths: []int32{-1}} // matches no number
	}
	return numberDesc{lengths: d.PossibleLength, re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
}

func (d *numberDesc) match(s string) bool {
	if len(d.lengths) > 0 && !slices.Contains(d.lengths, int32(len(s))) {
		return false
	}
	return d.re != nil && d.re.MatchString(s)
}

// regionValidator holds a region's compiled patterns, compiled on first
// use (all regions' take half a second).
type regionValidator struct {
	once sync.Once
	md   *phonenumbers.PhoneMetadata

	general numberDesc
	// byLength[n] is the union of the patterns of the number types that
	// allow length n (nil: none does).
	byLength [phonenumbers.MAX_LENGTH_FOR_NSN + 1]*regexp.Regexp
	// types are the same patterns one by one, for longer numbers.
	types []numberDesc
	// leading is the region's leading-digits pattern, for telling apart
	// the regions that share a country code (nil: none).
	leading *regexp.Regexp
}

func newRegionValidator(md *phonenumbers.PhoneMetadata) *regionValidator {
	return &regionValidator{md: md}
}

func (r *regionValidator) compile() {
	md := r.md
	r.general = newNumberDesc(md.GetGeneralDesc())
	if ld := md.GetLeadingDigits(); ld != "" {
		r.leading = regexp.MustCompile("^(?:" + ld + ")")
	}
	// The types the library's getNumberTypeHelper tries; any match is a
	// type other than UNKNOWN, so a valid number. Mobile counts only when
	// its pattern differs from the fixed line's: when they are the same
	// the library never tries it on its own (and it would give the same
	// answer as the fixed line's).
	types := []*phonenumbers.PhoneNumberDesc{md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(), md.GetVoip(),
		md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine()}
	if !md.GetSameMobileAndFixedLinePattern() {
		types = append(types, md.GetMobile())
	}
	for _, d := range types {
		r.types = append(r.types, newNumberDesc(d))
	}
	for n := 1; n < len(r.byLength); n++ {
		var alts []string
		for _, d := range types {
			if d == nil || (len(d.PossibleLength) > 0 && !slices.Contains(d.PossibleLength, int32(n))) {
				continue
			}
			alts = append(alts, "(?:"+d.GetNationalNumberPattern()+")")
		}
		if len(alts) > 0 {
			r.byLength[n] = regexp.MustCompile("^(?:" + strings.Join(alts, "|") + ")$")
		}
	}
}

func (r *regionValidator) valid(national string) bool {
	r.once.Do(r.compile)
	if !r.general.match(national) {
		return false
	}
	if len(national) < len(r.byLength) {
		re := r.byLength[len(national)]
		return re != nil && re.MatchString(national)
	}
	for i := range r.types {
		if r.types[i].match(national) {
			return true
		}
	}
	return false
}

// validatorSet is every region's validator, built on first use.
type validatorSet struct {
	regions map[string]*regionValidator
	nonGeo  map[int]*regionValidator // non-geographic entities (region 001) by country code
}

var (
	validatorsOnce sync.Once
	validatorsAll  validatorSet
)

func validators() *validatorSet {
	validatorsOnce.Do(func() {
		validatorsAll = validatorSet{regions: map[string]*regionValidator{}, nonGeo: map[int]*regionValidator{}}
		coll, err := phonenumbers.MetadataCollection()
		if err != nil {
			return // every number is invalid here; the fast path then leaves all to the parser
		}
		for _, md := range coll.GetMetadata() {
			if md.GetId() == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY {
				validatorsAll.nonGeo[int(md.GetCountryCode())] = newRegionValidator(md)
			} else {
				validatorsAll.regions[md.GetId()] = newRegionValidator(md)
			}
		}
	})
	return &validatorsAll
}

// regionOf picks among the regions sharing a country code the way
// phonenumbers.GetRegionCodeForNumber does: the first whose leading digits
// match, or, for a region without leading digits, that finds the number
// valid.
func (v *validatorSet) regionOf(regions []string, national string) *regionValidator {
	for _, code := range regions {
		r := v.regions[code]
		if r == nil {
			continue
		}
		r.once.Do(r.compile)
		if r.leading != nil {
			if r.leading.MatchString(national) {
				return r
			}
		} else if r.valid(national) {
			return r
		}
	}
	return nil
}
