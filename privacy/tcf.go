package privacy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TCString is a decoded IAB TCF v2 TC string: the core segment and, when
// present, the PublisherTC segment. Vendor sections are decoded so that a
// malformed string is refused as a whole, and kept for the consents.
type TCString struct {
	Version              int
	Created, LastUpdated time.Time
	CmpID, CmpVersion    int
	ConsentScreen        int
	ConsentLanguage      string
	VendorListVersion    int
	PolicyVersion        int
	IsServiceSpecific    bool
	UseNonStandardTexts  bool
	SpecialFeatureOptIns map[int]bool
	PurposesConsent      map[int]bool // TCF purpose ID → consent
	PurposesLI           map[int]bool
	PurposeOneTreatment  bool
	PublisherCC          string
	VendorConsents       map[int]bool
	VendorLI             map[int]bool
	NumPubRestrictions   int
	// Publisher is the PublisherTC segment, nil if absent.
	Publisher *PublisherTC
}

// PublisherTC is the publisher's own purposes (segment type 3).
type PublisherTC struct {
	PurposesConsent map[int]bool
	PurposesLI      map[int]bool
	CustomConsent   map[int]bool
	CustomLI        map[int]bool
}

// ErrTCString means a string is not a well-formed TCF v2 TC string.
var ErrTCString = errors.New("privacy: malformed TC string")

// bits reads a big-endian bit string.
type bits struct {
	b   []byte
	pos int
	err error
}

func (r *bits) uint(n int) int {
	if r.err != nil {
		return 0
	}
	if r.pos+n > len(r.b)*8 {
		r.err = fmt.Errorf("%w: it ends at bit %d, a field needs %d more bits", ErrTCString, len(r.b)*8, r.pos+n-len(r.b)*8)
		return 0
	}
	v := 0
	for range n {
		v = v<<1 | int(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

func (r *bits) bool() bool { return r.uint(1) == 1 }

func (r *bits) time() time.Time {
	ds := r.uint(36)
	return time.UnixMilli(int64(ds) * 100).UTC()
}

func (r *bits) letters() string {
	a, b := r.uint(6), r.uint(6)
	if a > 25 || b > 25 {
		if r.err == nil {
			r.err = fmt.Errorf("%w: a two-letter code has a letter beyond Z", ErrTCString)
		}
		return ""
	}
	return string(rune('A'+a)) + string(rune('A'+b))
}

// bitField reads n bits, bit i meaning ID i+1.
func (r *bits) bitField(n int) map[int]bool {
	m := map[int]bool{}
	for i := range n {
		if r.bool() {
			m[i+1] = true
		}
	}
	return m
}

// ranges reads NumEntries (12) range entries.
func (r *bits) ranges() map[int]bool {
	m := map[int]bool{}
	n := r.uint(12)
	for range n {
		isRange := r.bool()
		start := r.uint(16)
		end := start
		if isRange {
			end = r.uint(16)
		}
		if r.err != nil {
			return m
		}
		if end < start || start == 0 {
			r.err = fmt.Errorf("%w: a vendor range %d-%d is empty or starts at 0", ErrTCString, start, end)
			return m
		}
		for v := start; v <= end; v++ {
			m[v] = true
		}
	}
	return m
}

// vendors reads a vendor section: MaxVendorId, then a bit field or ranges.
func (r *bits) vendors() map[int]bool {
	max := r.uint(16)
	if r.bool() {
		m := r.ranges()
		for v := range m {
			if v > max && r.err == nil {
				r.err = fmt.Errorf("%w: vendor %d is above MaxVendorId %d", ErrTCString, v, max)
			}
		}
		return m
	}
	return r.bitField(max)
}

func decodeSegment(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty segment", ErrTCString)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: a segment is not base64url", ErrTCString)
	}
	return b, nil
}

// DecodeTCString decodes a TCF v2 TC string. It checks the structure only:
// version 2, every field within the bits, vendor sections consistent.
// Whether the string is acceptable under TCF 2.2 is Valid22's question.
func DecodeTCString(s string) (*TCString, error) {
	segs := strings.Split(strings.TrimSpace(s), ".")
	b, err := decodeSegment(segs[0])
	if err != nil {
		return nil, err
	}
	r := &bits{b: b}
	tc := &TCString{Version: r.uint(6)}
	if r.err == nil && tc.Version != 2 {
		return nil, fmt.Errorf("%w: version %d, only version 2 is supported", ErrTCString, tc.Version)
	}
	tc.Created, tc.LastUpdated = r.time(), r.time()
	tc.CmpID, tc.CmpVersion, tc.ConsentScreen = r.uint(12), r.uint(12), r.uint(6)
	tc.ConsentLanguage = r.letters()
	tc.VendorListVersion, tc.PolicyVersion = r.uint(12), r.uint(6)
	tc.IsServiceSpecific, tc.UseNonStandardTexts = r.bool(), r.bool()
	tc.SpecialFeatureOptIns = r.bitField(12)
	tc.PurposesConsent, tc.PurposesLI = r.bitField(24), r.bitField(24)
	tc.PurposeOneTreatment = r.bool()
	tc.PublisherCC = r.letters()
	tc.VendorConsents, tc.VendorLI = r.vendors(), r.vendors()
	tc.NumPubRestrictions = r.uint(12)
	for range tc.NumPubRestrictions {
		r.uint(6 + 2)
		r.ranges()
	}
	if r.err != nil {
		return nil, r.err
	}
	for _, seg := range segs[1:] {
		if err := tc.decodeExtra(seg); err != nil {
			return nil, err
		}
	}
	return tc, nil
}

// decodeExtra decodes one segment after the core. Types other than
// PublisherTC are checked for form and otherwise ignored.
func (tc *TCString) decodeExtra(seg string) error {
	b, err := decodeSegment(seg)
	if err != nil {
		return err
	}
	r := &bits{b: b}
	switch r.uint(3) {
	case 1, 2: // DisclosedVendors, AllowedVendors
		r.vendors()
	case 3:
		p := &PublisherTC{PurposesConsent: r.bitField(24), PurposesLI: r.bitField(24)}
		n := r.uint(6)
		p.CustomConsent, p.CustomLI = r.bitField(n), r.bitField(n)
		tc.Publisher = p
	}
	return r.err
}

// Valid22 reports why tc is not acceptable under TCF 2.2, or nil: the
// policy version must be 4 or more and the string service-specific.
func (tc *TCString) Valid22() error {
	switch {
	case tc.PolicyVersion < 4:
		return fmt.Errorf("%w: TCF policy version %d; TCF 2.2 strings carry 4 or more", ErrTCString, tc.PolicyVersion)
	case !tc.IsServiceSpecific:
		return fmt.Errorf("%w: IsServiceSpecific is 0; TCF 2.2 strings must be service-specific", ErrTCString)
	}
	return nil
}

// tcfPurposes maps Mosaic purposes to the TCF purposes that must all have
// consent (any of anyOf too, when given). Marketing through owned channels
// and sale/sharing have no TCF purpose, so a TC string leaves them alone.
var tcfPurposes = []struct {
	purpose string
	all     []int
	anyOf   []int
}{
	{Analytics, []int{1}, []int{8, 9, 10}},
	{Personalisation, []int{1, 5, 6}, nil},
	{Advertising, []int{1, 2, 3, 4, 7}, nil},
}

// Purposes maps tc to Mosaic purposes: the PublisherTC segment's purposes
// when present (a first-party CDP reads its own), else the core's.
func (tc *TCString) Purposes() map[string]bool {
	consent := tc.PurposesConsent
	if tc.Publisher != nil {
		consent = tc.Publisher.PurposesConsent
	}
	out := map[string]bool{}
	for _, m := range tcfPurposes {
		ok := true
		for _, id := range m.all {
			ok = ok && consent[id]
		}
		if len(m.anyOf) > 0 {
			any := false
			for _, id := range m.anyOf {
				any = any || consent[id]
			}
			ok = ok && any
		}
		out[m.purpose] = ok
	}
	return out
}
