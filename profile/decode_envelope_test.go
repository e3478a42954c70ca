package profile

import (
	"strings"
	"testing"
	"unicode"

	"github.com/mosaic-cdp/mosaic"
)

func TestEnvelope(t *testing.T) {
	tests := []struct {
		name, msg                       string
		typ, event, timestamp, timezone string // raw spans, "" for nil
		plain, stamped                  bool
	}{
		{"page", `{"type":"page","timestamp":"2025-03-02T19:01:00Z","context":{"ip":"x","timezone":"Europe/Paris"}}`,
			`"page"`, "", `"2025-03-02T19:01:00Z"`, `"Europe/Paris"`, true, true},
		{"track", `{"type":"track","event":"Email Opened","context":{"os":{"name":"iOS"},"timezone":null}}`,
			`"track"`, `"Email Opened"`, "", "null", true, false},
		{"offset", `{"timestamp":"2025-03-02T19:01:00+02:00"}`, "", "", `"2025-03-02T19:01:00+02:00"`, "", true, true},
		{"other form", `{"timestamp":"2025-03-02"}`, "", "", `"2025-03-02"`, "", true, false},
		{"escaped time", `{"timestamp":"2025-03-02T19:01:00\u005a"}`, "", "", `"2025-03-02T19:01:00\u005a"`, "", true, false},
		{"clamped", `{"timestamp":"0000-03-02T19:01:00Z"}`, "", "", `"0000-03-02T19:01:00Z"`, "", true, false},
		{"last µs", `{"timestamp":"9999-12-31T23:59:59.999999Z"}`, "", "", `"9999-12-31T23:59:59.999999Z"`, "", true, false},
		{"not a time", `{"timestamp":5}`, "", "", `5`, "", true, false},
		{"type twice", `{"type":"page","type":"track"}`, `"track"`, "", "", "", false, false},
		{"type in capitals", `{"TYPE":"page"}`, "", "", "", "", false, false},
		{"long s", `{"timeſtamp":"2025-03-02T19:01:00Z"}`, "", "", "", "", false, false},
		{"escaped name", `{"\u0074ype":"page"}`, `"page"`, "", "", "", false, false},
		{"event in capitals", `{"Event":"x","event":"y"}`, "", `"y"`, "", "", false, false},
		{"context twice", `{"context":{"timezone":"UTC"},"context":{}}`, "", "", "", "", false, false},
		{"context in capitals", `{"Context":{"timezone":"UTC"}}`, "", "", "", "", false, false},
		{"context null", `{"context":null}`, "", "", "", "", true, false},
		{"context a string", `{"context":"web"}`, "", "", "", "", false, false},
		{"timezone twice", `{"context":{"timezone":"UTC","timezone":"Asia/Tokyo"}}`, "", "", "", `"Asia/Tokyo"`, false, false},
		{"timezone in capitals", `{"context":{"timeZone":"UTC"}}`, "", "", "", "", false, false},
		{"escaped context name", `{"context":{"\u006fs":{}}}`, "", "", "", "", false, false},
		{"other names", `{"traits":{},"channel":"web","Properties":{},"tz":1,"":2,"c":3}`, "", "", "", "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSet()
			if err := s.Apply(1, &mosaic.Event{Seq: 1, Message: []byte(tt.msg), ReceivedAt: received}); err != nil {
				t.Fatal(err)
			}
			_, _, e := s.Applied()
			for _, f := range []struct {
				what string
				got  []byte
				want string
			}{{"Type", e.Type, tt.typ}, {"Event", e.Event, tt.event}, {"Timestamp", e.Timestamp, tt.timestamp}, {"Timezone", e.Timezone, tt.timezone}} {
				if string(f.got) != f.want || (f.got == nil) != (f.want == "") {
					t.Errorf("Applied of %s: %s = %q, want %q", tt.msg, f.what, f.got, f.want)
				}
			}
			if e.Plain != tt.plain || e.Stamped != tt.stamped {
				t.Errorf("Applied of %s: Plain, Stamped = %v, %v, want %v, %v", tt.msg, e.Plain, e.Stamped, tt.plain, tt.stamped)
			}
		})
	}
}

// TestFoldsToFirstByte checks what foldsTo assumes: the only characters
// that match an ASCII t, e or c without regard to case are that letter's
// two cases.
func TestFoldsToFirstByte(t *testing.T) {
	for _, c := range "tec" {
		for r := rune(0); r <= unicode.MaxRune; r++ {
			if strings.EqualFold(string(r), string(c)) && r != c && r != unicode.ToUpper(c) {
				t.Errorf("%q matches %q without regard to case", r, c)
			}
		}
	}
}
