package e164

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// libraryValid is phonenumbers.IsValidNumber on the number Valid
// is asked about.
func libraryValid(cc int, national string) bool {
	nn, err := strconv.ParseUint(national, 10, 64)
	if err != nil {
		return false
	}
	cc32 := int32(cc)
	return phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &nn})
}

func checkValidNumber(t *testing.T, cc int, national string) bool {
	t.Helper()
	want := libraryValid(cc, national)
	if got := Valid(cc, national); got != want {
		t.Errorf("Valid(%d, %q) = %v, phonenumbers.IsValidNumber says %v", cc, national, got, want)
	}
	return want
}

// TestValidNumberAgrees holds Valid to the library's answer for
// every region's example numbers of every type, for numbers one digit
// away from them (longer, shorter, changed), and for random digits, over
// every country code.
func TestValidNumberAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	valid, checked := 0, 0
	check := func(cc int, national string) {
		if national == "" || national[0] == '0' || len(national) > 17 {
			return // never asked: validE164 leaves such numbers to the parser
		}
		checked++
		if checkValidNumber(t, cc, national) {
			valid++
		}
	}
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	for _, md := range coll.GetMetadata() {
		cc := int(md.GetCountryCode())
		var examples []string
		for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetFixedLine(), md.GetMobile(), md.GetTollFree(), md.GetPremiumRate(),
			md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetGeneralDesc()} {
			if d != nil && d.GetExampleNumber() != "" {
				examples = append(examples, d.GetExampleNumber())
			}
		}
		for _, typ := range types {
			if n := phonenumbers.GetExampleNumberForType(md.GetId(), typ); n != nil {
				examples = append(examples, strconv.FormatUint(n.GetNationalNumber(), 10))
			}
		}
		for _, ex := range examples {
			check(cc, ex)
			check(cc, ex+strconv.Itoa(rng.IntN(10)))
			check(cc, ex[:len(ex)-1])
			for range 20 {
				b := []byte(ex)
				b[rng.IntN(len(b))] = byte('0' + rng.IntN(10))
				check(cc, string(b))
			}
		}
		for range 50 {
			b := make([]byte, 1+rng.IntN(17))
			for i := range b {
				b[i] = byte('0' + rng.IntN(10))
			}
			check(cc, string(b))
		}
	}
	for _, cc := range []int{0, 2, 999, 1000} {
		check(cc, "612345678")
	}
	if valid < checked/10 {
		t.Errorf("only %d of %d numbers checked were valid; the test no longer exercises valid numbers", valid, checked)
	}
	t.Logf("%d numbers checked, %d valid", checked, valid)
}

// FuzzValidNumber checks Valid against the library on any number.
func FuzzValidNumber(f *testing.F) {
	f.Add(31, "612345678")
	f.Add(1, "4155552671")
	f.Add(44, "7911123456")
	f.Add(7, "7012345678")
	f.Add(800, "12345678")
	f.Fuzz(func(t *testing.T, cc int, national string) {
		if national == "" || national[0] == '0' || len(national) > 17 || !allDigits(national) {
			return
		}
		checkValidNumber(t, cc, national)
	})
}
