package identity

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mosaic-cdp/mosaic"
)

func ids(pairs ...string) []Identifier {
	var out []Identifier
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Identifier{Type: pairs[i], Value: pairs[i+1]})
	}
	return out
}

func TestExtract(t *testing.T) {
	cfg := ExtractConfig{DefaultRegion: "NL", TraitIdentifiers: map[string]string{"crm": "crm_id", "work_email": TypeEmail}}
	tests := []struct {
		name, msg string
		want      []Identifier
		drops     []string // type:reason
	}{
		{"user and anonymous ids", `{"type":"track","userId":"u1","anonymousId":"a1","event":"X"}`,
			ids(TypeUserID, "u1", TypeAnonymousID, "a1"), nil},
		{"numeric user id", `{"type":"track","userId":42,"anonymousId":4.2e1}`,
			ids(TypeUserID, "42", TypeAnonymousID, "42"), nil},
		{"fractional number kept as written", `{"type":"track","userId":1.5}`, ids(TypeUserID, "1.5"), nil},
		{"identify traits", `{"type":"identify","userId":"u1","traits":{"email":" Jane@Mosaic.DEV","phone":"06 12345678","crm":"C-1","work_email":"J@Work.io"}}`,
			ids(TypeUserID, "u1", TypeEmail, "jane@mosaic.dev", TypePhone, "+31612345678", "crm_id", "C-1", TypeEmail, "j@work.io"), nil},
		{"track traits are not read", `{"type":"track","userId":"u1","traits":{"email":"j@mosaic.dev"}}`,
			ids(TypeUserID, "u1"), nil},
		{"group traits are the account's", `{"type":"group","userId":"u1","groupId":"g","traits":{"email":"acme@mosaic.dev"}}`,
			ids(TypeUserID, "u1"), nil},
		{"context traits on any call", `{"type":"page","anonymousId":"a","context":{"traits":{"email":"p@mosaic.dev","crm":7}}}`,
			ids(TypeAnonymousID, "a", TypeEmail, "p@mosaic.dev", "crm_id", "7"), nil},
		{"device and advertising ids", `{"type":"screen","anonymousId":"a","context":{"device":{"id":"D1","advertisingId":"AD-1","adTrackingEnabled":true}}}`,
			ids(TypeAnonymousID, "a", TypeDeviceID, "D1", TypeAdvertisingID, "AD-1"), nil},
		{"ad tracking disabled", `{"type":"screen","anonymousId":"a","context":{"device":{"advertisingId":"AD-1","adTrackingEnabled":false}}}`,
			ids(TypeAnonymousID, "a"), []string{"advertising_id:" + DropAdTracking}},
		{"external ids", `{"type":"track","userId":"u","context":{"externalIds":[
			{"id":"s-1","type":"Shopify_ID","collection":"users","encoding":"none"},
			{"id":"acme","type":"crm_account","collection":"accounts","encoding":"none"},
			{"id":"+31612345678","type":"phone","collection":"users","encoding":"none"},
			{"id":"x","type":"no spaces","collection":"users"},
			{"id":{"nested":1},"type":"obj_id"},
			"not an object"]}}`,
			ids(TypeUserID, "u", "shopify_id", "s-1", TypePhone, "+31612345678"),
			[]string{"no spaces:" + DropInvalidType, "obj_id:" + DropNotText}},
		{"alias previous id", `{"type":"alias","userId":"new","previousId":"old"}`,
			ids(TypeUserID, "new", TypePreviousID, "old"), nil},
		{"previousId outside alias ignored", `{"type":"track","userId":"u","previousId":"old"}`,
			ids(TypeUserID, "u"), nil},
		{"bad values dropped with reasons", `{"type":"identify","userId":"  ","anonymousId":true,"traits":{"email":"no-at-sign","phone":"12"}}`,
			nil, []string{"user_id:" + DropEmpty, "anonymous_id:" + DropNotText, "email:" + DropInvalidEmail, "phone:" + DropInvalidPhone}},
		{"nulls are absent", `{"type":"identify","userId":null,"anonymousId":"a","traits":null,"context":{"device":null}}`,
			ids(TypeAnonymousID, "a"), nil},
		{"duplicates once", `{"type":"identify","userId":"u","traits":{"email":"a@mosaic.dev"},"context":{"traits":{"email":"A@mosaic.dev"}}}`,
			ids(TypeUserID, "u", TypeEmail, "a@mosaic.dev"), nil},
		{"later duplicate key wins", `{"type":"track","userId":"first","userId":"second"}`, ids(TypeUserID, "second"), nil},
		{"escaped keys and values", `{"type":"identify","user\u0049d":"\u00e9t\u00e9","traits":{"em\u0061il":"x\u0040mosaic.dev"}}`,
			ids(TypeUserID, "été", TypeEmail, "x@mosaic.dev"), nil},
		{"too long", `{"type":"track","userId":"` + strings.Repeat("x", MaxValueBytes+1) + `"}`, nil, []string{"user_id:" + DropTooLong}},
	}
	x, err := NewExtractor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, drops, err := x.Extract(&mosaic.Event{Message: []byte(tt.msg)})
			if err != nil {
				t.Fatalf("Extract = %v", err)
			}
			if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("Extract identifiers (-want +got):\n%s", d)
			}
			var gotDrops []string
			for _, d := range drops {
				gotDrops = append(gotDrops, d.Type+":"+d.Reason)
			}
			if d := cmp.Diff(tt.drops, gotDrops, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("Extract drops (-want +got):\n%s", d)
			}
		})
	}
}

func TestExtractUsesEventType(t *testing.T) {
	// The log repeats the call type outside the message; it wins.
	ev := &mosaic.Event{Type: mosaic.TypeIdentify, Message: []byte(`{"userId":"u","traits":{"email":"e@mosaic.dev"}}`)}
	got, err := Extract(ev, ExtractConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if want := ids(TypeUserID, "u", TypeEmail, "e@mosaic.dev"); !cmp.Equal(got, want) {
		t.Errorf("Extract = %v, want %v", got, want)
	}
}

func TestExtractMalformed(t *testing.T) {
	for _, msg := range []string{``, `[]`, `"x"`, `{"userId":"u"`, `{"userId" "u"}`, `{"context":{"device":{"id":"d"}`} {
		if _, err := Extract(&mosaic.Event{Message: []byte(msg)}, ExtractConfig{}); err == nil {
			t.Errorf("Extract(%q) = nil error, want one", msg)
		}
	}
}

func TestExtractConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  ExtractConfig
		ok   bool
	}{
		{"zero", ExtractConfig{}, true},
		{"region", ExtractConfig{DefaultRegion: "NL"}, true},
		{"unknown region", ExtractConfig{DefaultRegion: "XX"}, false},
		{"lower-case region", ExtractConfig{DefaultRegion: "nl"}, false},
		{"trait", ExtractConfig{TraitIdentifiers: map[string]string{"crm": "crm_id"}}, true},
		{"bad trait type", ExtractConfig{TraitIdentifiers: map[string]string{"crm": "CRM ID"}}, false},
		{"empty trait name", ExtractConfig{TraitIdentifiers: map[string]string{"": "crm_id"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"Jane@Mosaic.dev", "jane@mosaic.dev", ""},
		{"  jane@mosaic.dev\n", "jane@mosaic.dev", ""},
		{"jane.doe+tag@mail.mosaic.dev", "jane.doe+tag@mail.mosaic.dev", ""},
		{"", "", DropEmpty},
		{"jane", "", DropInvalidEmail},
		{"@mosaic.dev", "", DropInvalidEmail},
		{"jane@localhost", "", DropInvalidEmail},
		{"jane@mosaic.", "", DropInvalidEmail},
		{"jane@.dev", "", DropInvalidEmail},
		{"a@b@mosaic.dev", "", DropInvalidEmail},
		{"ja ne@mosaic.dev", "", DropInvalidEmail},
	}
	for _, tt := range tests {
		if got, reason := normalizeEmail(tt.in); got != tt.want || reason != tt.reason {
			t.Errorf("normalizeEmail(%q) = %q, %q, want %q, %q", tt.in, got, reason, tt.want, tt.reason)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct{ region, in, want string }{
		{"NL", "06 1234 5678", "+31612345678"},
		{"NL", "0031 6 12345678", "+31612345678"},
		{"NL", "+31 (0)6 12 34 56 78", "+31612345678"},
		{"NL", "+1 (415) 555-2671", "+14155552671"},
		{"US", "(415) 555-2671", "+14155552671"},
		{"", "+31612345678", "+31612345678"},
		{"", "0612345678", ""},
		{"NL", "612345", ""},
		{"NL", "not a phone", ""},
		{"NL", strings.Repeat("1", 100), ""},
	}
	for _, tt := range tests {
		p := newPhoneNormalizer(tt.region)
		for range 2 { // the second call comes from the cache
			if got, _ := p.normalize(tt.in); got != tt.want {
				t.Errorf("normalize(%q) in %q = %q, want %q", tt.in, tt.region, got, tt.want)
			}
		}
	}
}

func TestPhoneCacheBounded(t *testing.T) {
	p := newPhoneNormalizer("NL")
	for i := range phoneCacheSize + 10 {
		p.normalize(fmt.Sprintf("06%08d", i))
	}
	if n := len(p.cache); n > phoneCacheSize {
		t.Errorf("cache holds %d entries, want at most %d", n, phoneCacheSize)
	}
}

func TestNumberText(t *testing.T) {
	for in, want := range map[string]string{"42": "42", "-7": "-7", "42.0": "42", "4.2e1": "42", "1.5": "1.5", "1e300": "1e300", "007": "7"} {
		if got := numberText(in); got != want {
			t.Errorf("numberText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	x, err := NewExtractor(ExtractConfig{DefaultRegion: "NL"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"email: Jane@Mosaic.dev", "email:jane@mosaic.dev", true},
		{"phone:06 12345678", "phone:+31612345678", true},
		{"user_id: 42 ", "user_id:42", true},
		{"email:nope", "", false},
		{"phone:12", "", false},
		{"user_id: ", "", false},
	}
	for _, tt := range tests {
		id := mustParse(t, tt.in)
		got, err := x.Normalize(id)
		if (err == nil) != tt.ok || (tt.ok && got.String() != tt.want) {
			t.Errorf("Normalize(%s) = %s, %v, want %s (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
