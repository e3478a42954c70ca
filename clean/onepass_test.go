package clean

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/mosaic-cdp/mosaic/clean/mmdbtest"
)

// The cleaner as it was before it split a message in one pass: it split
// the message, then its traits, properties and context again. Kept as the
// reference the one-pass cleaner must agree with; past the splitting, both
// share messageSplit.

func (vc *valueCleaner) messageTwoPass(msg []byte) []byte {
	top, ok := members(msg, make([]member, 0, memberHint))
	if !ok {
		return msg
	}
	return vc.messageSplit(msg, top, func(int) ([]member, bool) { return nil, false })
}

var onePassCases = []string{
	`{"type":"track","event":"X","properties":{"sku":"A1"}}`,
	`{"type":"identify","traits":{"email":" A@B.NL","address":{"country":"Belgie"},"isVip":"ja"}}`,
	`{"type":"track","properties":{"revenue":"12,50"},"context":{"ip":"1.2.3.4","traits":{"phone":"0612345678"}}}`,
	`{"type":"identify","traits":{"email":"nope"}}`,
	`{"type":"track","properties":{"a":{"b":{"country":"x"}}},"context":"x","traits":[1,{"email":"A@B.NL"}]}`,
	`{"context":{"traits":{"email":"X@Y.NL"}},"context":{"ip":"192.0.2.7","traits":{"phone":"06 12345678"}},"traits":{"name":" a  b "},"traits":{"name":"c"}}`,
	` { "traits" : { "email" : " A@B.NL " , "x" : { "country" : "Nederland" } } , "context" : { "ip" : "2001:db8::1" } } `,
	`{"type":"page","properties":{"na\"me":"x","name":"a\u0020 b"},"context":{"page":{"url":"https://x/?a={}"},"traits":{}}}`,
	`{"type":"track","messageId":"m","properties":{"price":89.99,"name":"Trail Runner"},"context":{"ip":"192.0.2.1","userAgent":"Mozilla/5.0 (X11)","traits":{"email":"ada@example.com","plan":"pro"}}}`,
}

// cleanersForOnePass are cleaners in every IP and geolocation setting.
func cleanersForOnePass(t testing.TB) []valueCleaner {
	db := filepath.Join(t.TempDir(), "geo.mmdb")
	err := mmdbtest.Write(db, "dbip-city", []mmdbtest.Network{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Record: map[string]any{"country_code": "NL", "city": "Amsterdam"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	geo, err := OpenGeoDB(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { geo.Close() })
	var out []valueCleaner
	for _, g := range []*GeoDB{nil, geo} {
		for _, ip := range []string{"", IPTruncate, IPRemove} {
			out = append(out, valueCleaner{phones: &Phones{}, region: "NL", disabled: map[string]bool{}, geo: g, ip: ip})
		}
	}
	return out
}

// TestMessageOnePassAgrees: the one-pass cleaner writes what the two-pass
// one wrote.
func TestMessageOnePassAgrees(t *testing.T) {
	for _, vc := range cleanersForOnePass(t) {
		for _, in := range onePassCases {
			if !json.Valid([]byte(in)) {
				t.Fatalf("case %s is not JSON", in)
			}
			want := string(vc.messageTwoPass([]byte(in)))
			if got := string(vc.message([]byte(in))); got != want {
				t.Errorf("geo %v, ip %q: message(%s) =\n %s\nthe two-pass cleaner wrote\n %s", vc.geo != nil, vc.ip, in, got, want)
			}
		}
	}
}

// FuzzMessageOnePass: on any JSON the one-pass cleaner writes what the
// two-pass one wrote (messages reach the cleaner validated).
func FuzzMessageOnePass(f *testing.F) {
	for _, in := range onePassCases {
		f.Add([]byte(in), uint8(0))
	}
	vcs := cleanersForOnePass(f)
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		if !json.Valid(b) {
			return
		}
		vc := vcs[int(which)%len(vcs)]
		want := string(vc.messageTwoPass(b))
		if got := string(vc.message(b)); got != want {
			t.Errorf("geo %v, ip %q: message(%s) =\n %s\nthe two-pass cleaner wrote\n %s", vc.geo != nil, vc.ip, b, got, want)
		}
	})
}
