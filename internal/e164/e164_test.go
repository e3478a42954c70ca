package e164

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// parse is what Fast stands in for.
func parse(v, region string) string {
	num, err := phonenumbers.Parse(v, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return ""
	}
	return phonenumbers.Format(num, phonenumbers.E164)
}

func checkFast(t *testing.T, v, region string) bool {
	t.Helper()
	fast := Fast(v, region)
	if fast == "" {
		return false
	}
	if slow := parse(v, region); slow != fast {
		t.Errorf("Fast(%q, %q) = %q, the parser says %q", v, region, fast, slow)
	}
	return true
}

// TestFastAgrees: wherever Fast answers, the parser gives the same, over
// generated numbers in the shapes exports and forms hold.
func TestFastAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	regions := []string{"NL", "BE", "DE", "GB", "FR", "US", "CA", "IT", "AU", "BR", "IN", "JP", "RU", "ZZ", "nl"}
	prefixes := []string{"", "0", "00", "+", "+31", "0031", "+1", "1", "+39 0", "+44 (0)", "06", "+32 4", "+49 1", "+7 7"}
	seps := []string{"", " ", "-", ".", "/", "(", ")"}
	fast, n := 0, 20000
	for range n {
		var sb strings.Builder
		sb.WriteString(prefixes[rng.IntN(len(prefixes))])
		for k := 4 + rng.IntN(10); k > 0; k-- {
			if rng.IntN(4) == 0 {
				sb.WriteString(seps[rng.IntN(len(seps))])
			}
			sb.WriteByte(byte('0' + rng.IntN(10)))
		}
		if checkFast(t, sb.String(), regions[rng.IntN(len(regions))]) {
			fast++
		}
	}
	for _, c := range []struct{ v, region, want string }{
		{"06 12345678", "NL", "+31612345678"},
		{"+31612345678", "ZZ", "+31612345678"},
		{"(415) 555-2671", "US", "+14155552671"},
	} {
		if got := Fast(c.v, c.region); got != c.want {
			t.Errorf("Fast(%q, %q) = %q, want %q", c.v, c.region, got, c.want)
		}
	}
	if fast < n/30 {
		t.Errorf("Fast answered %d of %d numbers; the test no longer exercises it", fast, n)
	}
}

// FuzzFast checks Fast against the parser on any input.
func FuzzFast(f *testing.F) {
	for _, s := range []string{"06 12345678", "+31612345678", "0032 470 123456", "(415) 555-2671", "+39 06 1234 5678", "00", "+"} {
		f.Add(s, "NL")
	}
	f.Fuzz(func(t *testing.T, v, region string) {
		if len(region) != 2 {
			region = "NL"
		}
		checkFast(t, v, region)
	})
}
