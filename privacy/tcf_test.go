package privacy

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bitWriter builds TC strings for tests, field by field, as the spec lays
// them out.
type bitWriter struct{ bits []byte }

func (w *bitWriter) put(v, n int) *bitWriter {
	for i := n - 1; i >= 0; i-- {
		w.bits = append(w.bits, byte(v>>i&1))
	}
	return w
}

func (w *bitWriter) set(n int, ids ...int) *bitWriter {
	field := make([]int, n)
	for _, id := range ids {
		field[id-1] = 1
	}
	for _, b := range field {
		w.put(b, 1)
	}
	return w
}

func (w *bitWriter) String() string {
	b := make([]byte, (len(w.bits)+7)/8)
	for i, bit := range w.bits {
		b[i/8] |= bit << (7 - i%8)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// core writes a core segment with the given policy version, purposes with
// consent and vendor consents (bit field).
func core(policy int, serviceSpecific int, purposes []int, vendors []int) *bitWriter {
	w := &bitWriter{}
	ds := int(time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC).UnixMilli() / 100)
	w.put(2, 6).put(ds, 36).put(ds, 36).put(880, 12).put(3, 12).put(1, 6)
	w.put(4, 6).put(13, 6)       // "EN"
	w.put(48, 12).put(policy, 6) // vendor list, policy version
	w.put(serviceSpecific, 1).put(0, 1).set(12).set(24, purposes...).set(24).put(0, 1)
	w.put(3, 6).put(4, 6) // "DE"
	top := 0
	for _, v := range vendors {
		top = max(top, v)
	}
	w.put(top, 16).put(0, 1).set(top, vendors...)
	w.put(0, 16).put(0, 1) // no vendor LI
	w.put(0, 12)           // no publisher restrictions
	return w
}

func TestDecodeTCStringSpecExamples(t *testing.T) {
	tc, err := DecodeTCString("CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA")
	if err != nil {
		t.Fatalf("DecodeTCString(current spec sample) = %v", err)
	}
	created := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
	if tc.Created != created || tc.LastUpdated != created || tc.CmpID != 880 || tc.ConsentLanguage != "EN" ||
		tc.VendorListVersion != 48 || tc.PolicyVersion != 2 || !tc.IsServiceSpecific || tc.PublisherCC != "DE" ||
		len(tc.PurposesConsent) != 0 || tc.Publisher == nil || len(tc.Publisher.PurposesConsent) != 0 {
		t.Errorf("DecodeTCString(current spec sample) = %+v", tc)
	}
	if want := map[int]bool{1: true, 2: true, 3: true, 4: true}; !cmp.Equal(tc.VendorConsents, want) {
		t.Errorf("vendor consents = %v, want %v", tc.VendorConsents, want)
	}
	if err := tc.Valid22(); !errors.Is(err, ErrTCString) {
		t.Errorf("Valid22(policy version 2) = %v, want ErrTCString", err)
	}

	tc, err = DecodeTCString("COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA")
	if err != nil {
		t.Fatalf("DecodeTCString(earlier spec sample) = %v", err)
	}
	if tc.CmpID != 27 || tc.Created.UnixMilli() != 1582243059300 || tc.VendorListVersion != 15 || tc.IsServiceSpecific || tc.PublisherCC != "AA" {
		t.Errorf("DecodeTCString(earlier spec sample) = %+v", tc)
	}
	for name, got := range map[string]map[int]bool{"purposes": tc.PurposesConsent, "vendor consents": tc.VendorConsents, "vendor LI": tc.VendorLI} {
		want := map[int]bool{1: true, 2: true, 3: true}
		if name != "purposes" {
			want = map[int]bool{2: true, 6: true, 8: true}
		}
		if !cmp.Equal(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestDecodeTCStringRefuses(t *testing.T) {
	valid := core(4, 1, []int{1, 2}, []int{3}).String()
	for name, s := range map[string]string{
		"empty":                       "",
		"not base64":                  "C*!",
		"truncated":                   valid[:20],
		"version 1":                   "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA",
		"bad later segment":           valid + ".!!",
		"truncated publisher segment": valid + "." + (&bitWriter{}).put(3, 3).put(0, 5).String(),
	} {
		t.Run(name, func(t *testing.T) {
			if tc, err := DecodeTCString(s); !errors.Is(err, ErrTCString) {
				t.Errorf("DecodeTCString(%q) = %+v, %v, want ErrTCString", s, tc, err)
			}
		})
	}
}

func TestTCStringPurposes(t *testing.T) {
	for _, c := range []struct {
		name      string
		s         string
		want      map[string]bool
		wantValid bool
	}{
		{"all", core(4, 1, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []int{1}).String(), map[string]bool{Analytics: true, Personalisation: true, Advertising: true}, true},
		{"analytics only", core(5, 1, []int{1, 8}, nil).String(), map[string]bool{Analytics: true, Personalisation: false, Advertising: false}, true},
		{"no storage consent", core(4, 1, []int{2, 3, 4, 5, 6, 7, 8}, nil).String(), map[string]bool{Analytics: false, Personalisation: false, Advertising: false}, true},
		{"publisher segment wins", core(4, 1, nil, nil).String() + "." + (&bitWriter{}).put(3, 3).set(24, 1, 5, 6).set(24).put(0, 6).String(),
			map[string]bool{Analytics: false, Personalisation: true, Advertising: false}, true},
		{"not service-specific", core(4, 0, []int{1, 8}, nil).String(), map[string]bool{Analytics: true, Personalisation: false, Advertising: false}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tc, err := DecodeTCString(c.s)
			if err != nil {
				t.Fatalf("DecodeTCString = %v", err)
			}
			if got := tc.Purposes(); !cmp.Equal(got, c.want) {
				t.Errorf("Purposes() = %v, want %v", got, c.want)
			}
			if err := tc.Valid22(); (err == nil) != c.wantValid {
				t.Errorf("Valid22() = %v, want valid %v", err, c.wantValid)
			}
		})
	}
}

func FuzzDecodeTCString(f *testing.F) {
	f.Add("CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA")
	f.Add("COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA")
	f.Add(core(4, 1, []int{1}, []int{1, 5}).String())
	f.Fuzz(func(t *testing.T, s string) {
		tc, err := DecodeTCString(s)
		if err == nil {
			_ = tc.Purposes()
			_ = tc.Valid22()
		} else if !strings.Contains(err.Error(), "TC string") {
			t.Errorf("error %v does not say it is about the TC string", err)
		}
	})
}
