package privacy

import (
	"bytes"
	"testing"
)

// containsAnyMarker is the filter as it was written first, with
// bytes.Contains: the reference the faster search must agree with.
func containsAnyMarker(msg []byte) bool {
	for _, m := range consentMarkers {
		if bytes.Contains(msg, m.s) {
			return true
		}
	}
	return false
}

// typicalMessage is a stored page view as the synthetic journeys send
// them: no consent signal, a hundred quotes.
const typicalMessage = `{"type":"track","messageId":"ba87be48-ba5c-4835-b8bb-837b232bcd35","anonymousId":"0b1ba7e1-be39-4a2f-afa6-5032f3ba1c6d","event":"Product Viewed","properties":{"product_id":"P-10533","sku":"PB-10K","category":"Electronics","name":"Solar Power Bank 10,000 mAh","brand":"Lumen Works","price":49.90,"currency":"GBP"},"context":{"ip":"203.0.113.30","library":{"name":"analytics.js","version":"npm:next-1.70.0"},"locale":"en-GB","timezone":"Europe/London","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36","page":{"path":"/p/solar-power-bank","referrer":"https://www.example.com/","title":"Solar Power Bank 10,000 mAh | Northpeak Outdoor","url":"https://www.example.com/p/solar-power-bank"}},"originalTimestamp":"2024-01-01T00:10:42.880Z","timestamp":"2026-11-23T06:24:06.432818327Z","sentAt":"2024-01-01T00:10:43.268Z","receivedAt":"2026-11-23T06:24:06.820818327Z"}`

var filterCases = []struct {
	name string
	msg  string
	want bool
}{
	{"typical", typicalMessage, false},
	{"empty", ``, false},
	{"categoryPreferences", `{"context":{"consent":{"categoryPreferences":{"Analytics":true}}}}`, true},
	{"gpc", `{"gpc":true}`, true},
	{"tcf trait", `{"traits":{"tcfString":"CP"}}`, true},
	{"tcf_string", `{"context":{"traits":{"tcf_string":"CP"}}}`, true},
	{"IABTCF", `{"traits":{"IABTCF_TCString":"CP"}}`, true},
	{"api record", `{"mosaicConsent":{"purposes":{"analytics":true}}}`, true},
	{"marker at the start", `tcf`, true},
	{"marker at the end", `{"a":"x"}"gpc"`, true},
	{"anchor byte too early", `cf`, false},
	{"anchor byte at the start", `f"gpc`, false},
	{"partial marker at the end", `{"a":"TCStrin`, false},
	{"capitalised key", `{"Consent":{}}`, false},
	{"anchor byte repeated", `ccccc"consent"`, true},
	{"overlapping candidates", `"g"gpc"`, true},
	{"api record at a word's end", `{"x":1,"mosaicConsent":{}}`, true},
	{"TCString across words", `{"IABTCF_TCString":"CP"}`, true},
	{"capital anchor without its marker", `{"Chrome":"Consent"}`, false},
	{"marker in the tail", `123456789tcf`, true},
	{"anchor at the very end", `12345678"gpc`, false},
}

// fivePasses is the filter before it made one pass: a vectorised search
// per marker for its rarest byte. The benchmark compares with it.
func fivePasses(msg []byte) bool {
	for _, m := range []marker{{[]byte(`"consent"`), 1}, {[]byte(`"gpc"`), 1}, {[]byte(`tcf`), 2},
		{[]byte(`TCString`), 2}, {[]byte(`"mosaicConsent"`), 7}} {
		c, n := m.s[m.anchor], len(m.s)
		for i := m.anchor; i < len(msg); i++ {
			j := bytes.IndexByte(msg[i:], c)
			if j < 0 {
				break
			}
			i += j
			if start := i - m.anchor; start+n <= len(msg) && bytes.Equal(msg[start:start+n], m.s) {
				return true
			}
		}
	}
	return false
}

// TestMarkerAnchors: the one pass stops only at 'c' and 'C', and checks
// the byte before first, so every marker must be anchored on one, not at
// its start.
func TestMarkerAnchors(t *testing.T) {
	for _, m := range consentMarkers {
		if c := m.s[m.anchor]; c != 'c' && c != 'C' || m.anchor == 0 {
			t.Errorf("marker %q is anchored on %q at %d, want 'c' or 'C' after its first byte", m.s, c, m.anchor)
		}
	}
}

// TestMayCarryConsentAtEveryOffset slides each marker, whole and cut
// short, over every offset of a message longer than two of the words the
// search reads at a time.
func TestMayCarryConsentAtEveryOffset(t *testing.T) {
	for _, m := range consentMarkers {
		for _, cut := range []int{0, 1} {
			s := m.s[:len(m.s)-cut]
			for at := 0; at+len(s) <= 40; at++ {
				msg := append(append(bytes.Repeat([]byte("x"), at), s...), bytes.Repeat([]byte("y"), 40-at-len(s))...)
				if got, want := mayCarryConsent(msg), cut == 0; got != want {
					t.Errorf("mayCarryConsent(%q) = %v, want %v", msg, got, want)
				}
			}
		}
	}
}

func TestMayCarryConsent(t *testing.T) {
	for _, tc := range filterCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := mayCarryConsent([]byte(tc.msg)); got != tc.want {
				t.Errorf("mayCarryConsent(%q) = %v, want %v", tc.msg, got, tc.want)
			}
			if ref := containsAnyMarker([]byte(tc.msg)); ref != tc.want {
				t.Errorf("the bytes.Contains filter on %q = %v, want %v", tc.msg, ref, tc.want)
			}
		})
	}
}

// FuzzMayCarryConsent holds the anchored search to bytes.Contains.
func FuzzMayCarryConsent(f *testing.F) {
	for _, tc := range filterCases {
		f.Add([]byte(tc.msg))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if got, want := mayCarryConsent(msg), containsAnyMarker(msg); got != want {
			t.Errorf("mayCarryConsent(%q) = %v, want %v as with bytes.Contains", msg, got, want)
		}
	})
}

func BenchmarkMayCarryConsent(b *testing.B) {
	msg := []byte(typicalMessage)
	b.Run("one pass", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			mayCarryConsent(msg)
		}
	})
	b.Run("five passes", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			fivePasses(msg)
		}
	})
	b.Run("bytes.Contains", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			containsAnyMarker(msg)
		}
	})
}
