package synth

import (
	"testing"

	"github.com/mosaic-cdp/mosaic/identity"
)

// samplePhones returns n numbers of each kind for region.
func samplePhones(region string, n int) []phone {
	var out []phone
	for k := range uint64(n) {
		out = append(out, mobileNumber(region, k*7919, 12345))
		if region == "NL" {
			out = append(out, dutchLandline(k*7919, 12345))
		}
	}
	return out
}

func normalizer(t *testing.T, region string) *identity.Extractor {
	t.Helper()
	x, err := identity.NewExtractor(identity.ExtractConfig{DefaultRegion: region})
	if err != nil {
		t.Fatalf("NewExtractor(%s): %v", region, err)
	}
	return x
}

// Every way a number is written reads as the number, with its own
// country as the default region.
func TestPhoneFormatsNormaliseToE164(t *testing.T) {
	for _, c := range countries {
		t.Run(c.Code, func(t *testing.T) {
			x := normalizer(t, c.Code)
			for _, ph := range samplePhones(c.Code, 300) {
				for _, f := range phoneFormats[c.Code] {
					written := f.Write(ph)
					got, err := x.Normalize(identity.Identifier{Type: TypePhone, Value: written})
					if err != nil || got.Value != ph.E164() {
						t.Fatalf("Normalize(%q) in %s = %v, %v; want %s", written, c.Code, got.Value, err, ph.E164())
					}
				}
			}
		})
	}
}

// A national number written abroad is never read as another valid
// number: it is read correctly (international forms) or dropped.
func TestPhonesAbroadAreNeverMisread(t *testing.T) {
	for _, region := range countries {
		x := normalizer(t, region.Code)
		for _, c := range countries {
			if c == region {
				continue
			}
			t.Run(c.Code+" in "+region.Code, func(t *testing.T) {
				for _, ph := range samplePhones(c.Code, 300) {
					for _, f := range phoneFormats[c.Code] {
						if !f.writable(c.Code, region.Code) {
							continue // never written so
						}
						written := f.Write(ph)
						got, err := x.Normalize(identity.Identifier{Type: TypePhone, Value: written})
						readable := f.readable(c.Code, region.Code)
						if !readable && err == nil {
							t.Fatalf("Normalize(%q) with region %s = %s, want it dropped", written, region.Code, got.Value)
						}
						if readable && (err != nil || got.Value != ph.E164()) {
							t.Fatalf("Normalize(%q) with region %s = %v, %v; want %s", written, region.Code, got.Value, err, ph.E164())
						}
					}
				}
			})
		}
	}
}

func TestScrambleIsABijection(t *testing.T) {
	for _, n := range []uint64{1000, 60_000, 32_000} {
		seen := make([]bool, n)
		for k := range n {
			v := scramble(k, n, 987654321)
			if v >= n || seen[v] {
				t.Fatalf("scramble(%d, %d) = %d, repeated or out of range", k, n, v)
			}
			seen[v] = true
		}
	}
}

// No identifier belongs to two people, except the shared devices'.
func TestIdentifiersAreUniquePerPerson(t *testing.T) {
	d := generate(t, small(5000, 17))
	owner := map[Identifier]int{}
	for _, p := range d.people {
		for _, id := range p.Identifiers() {
			if o, ok := owner[id]; ok && o != p.Index {
				t.Fatalf("%s belongs to people %d and %d", id, o, p.Index)
			}
			owner[id] = p.Index
		}
	}
	for _, p := range d.people {
		for _, id := range p.Shared {
			if o, ok := owner[id]; ok {
				t.Errorf("shared %s of person %d is also owned by person %d", id, p.Index, o)
			}
		}
	}
}
