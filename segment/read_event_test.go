package segment

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// readEventCases are messages readEvent must read as decodeEvent does:
// the common ones and every way the two readings could part.
var readEventCases = []struct {
	name, typ, msg, known string
}{
	{"track", mosaic.TypeTrack, `{"type":"track","event":"Order Completed","timestamp":"2026-03-01T12:00:00.123456789Z","properties":{"revenue":10},"context":{"page":{"path":"/"},"traits":{"plan":"pro"}}}`, "Order Completed"},
	{"name unknown to the profile", mosaic.TypeTrack, `{"event":"Order Completed","properties":{}}`, ""},
	{"a different name known", mosaic.TypeTrack, `{"event":"Order Completed"}`, "Order"},
	{"escaped name", mosaic.TypeTrack, `{"event":"Caf\u00e9 Visited"}`, "Café Visited"},
	{"name with an escaped quote", mosaic.TypeTrack, `{"event":"a\"b"}`, `a"b`},
	{"name not UTF-8", mosaic.TypeTrack, "{\"event\":\"bad \xff\"}", "bad \xff"},
	{"name not a string", mosaic.TypeTrack, `{"event":12,"properties":{"a":1}}`, "12"},
	{"repeated keys: the first counts", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-03-01T12:00:00Z","event":"B","timestamp":"2027-01-01T00:00:00Z","properties":{"x":1},"properties":{"y":2}}`, "B"},
	{"escaped key", mosaic.TypeTrack, `{"even\u0074":"A","timestamp":"2026-03-01T12:00:00Z"}`, "A"},
	{"escaped key after the members", mosaic.TypeTrack, `{"event":"A","time\u0073tamp":"2027-01-01T00:00:00Z"}`, "A"},
	{"timestamp with a zone", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-03-01T14:00:00+02:00"}`, "A"},
	{"timestamp in another layout", mosaic.TypePage, `{"name":"Home","timestamp":"2026-03-01T12:00:00"}`, "Home"},
	{"timestamp a date", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-03-01"}`, "A"},
	{"timestamp escaped", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-03-01T12:00:00\u005a"}`, "A"},
	{"timestamp not a string", mosaic.TypeTrack, `{"event":"A","timestamp":1700000000}`, "A"},
	{"timestamp null", mosaic.TypeTrack, `{"event":"A","timestamp":null}`, "A"},
	{"timestamp year 0", mosaic.TypeTrack, `{"event":"A","timestamp":"0000-01-01T00:00:00Z"}`, "A"},
	{"timestamp with 12 digits of second", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-03-01T12:00:00.123456789999Z"}`, "A"},
	{"timestamp on a day February lacks", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-02-29T12:00:00Z"}`, "A"},
	{"timestamp with a point and no digits", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-03-01T12:00:00.Z"}`, "A"},
	{"timestamp with a comma", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-03-01T12:00:00,5Z"}`, "A"},
	{"timestamp with a lower-case z", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-03-01T12:00:00z"}`, "A"},
	{"nested keys are not members", mosaic.TypeTrack, `{"properties":{"event":"X","timestamp":"2027-01-01T00:00:00Z"},"event":"A"}`, "A"},
	{"properties not an object", mosaic.TypeTrack, `{"event":"A","properties":[1,2]}`, "A"},
	{"page: no name, no properties", mosaic.TypePage, `{"type":"page","name":"Home","properties":{"path":"/"}}`, "Home"},
	{"identify", mosaic.TypeIdentify, `{"type":"identify","traits":{"plan":"pro"},"timestamp":"2026-03-01T12:00:00Z"}`, ""},
	{"traits inside a string", mosaic.TypeTrack, `{"event":"A","properties":{"note":"\"traits\""}}`, "A"},
	{"consent", mosaic.TypeTrack, `{"event":"A","context":{"consent":{"categoryPreferences":{"marketing":true,"ads":false,"x":"yes"}}}}`, "A"},
	{"consent not an object", mosaic.TypeTrack, `{"event":"A","context":{"consent":{"categoryPreferences":null}}}`, "A"},
	{"consent as a dotted key", mosaic.TypeTrack, `{"context.consent.categoryPreferences":{"ads":true},"event":"A"}`, "A"},
	{"spaces", mosaic.TypeTrack, " {\n \"event\" : \"A\" ,\t\"timestamp\" : \"2026-03-01T12:00:00Z\" , \"properties\" : { } } ", "A"},
	{"empty object", mosaic.TypeTrack, `{}`, ""},
	{"not an object", mosaic.TypeTrack, `[1]`, ""},
	{"malformed", mosaic.TypeTrack, `{"event":"A","timestamp":"2026-03-01T12:00:00Z",`, "A"},
	{"malformed after the members", mosaic.TypeTrack, `{"event":"A","properties":{"a":1} "x"}`, "A"},
	{"truncated string", mosaic.TypeTrack, `{"event":"A`, "A"},
	{"truncated properties after the members read", mosaic.TypeTrack, `{"event":0,"timestamp":0,"properties":{`, "0"},
	{"empty", mosaic.TypeTrack, ``, ""},
}

// TestReadEvent: the one-pass reading gives what decodeEvent gives, for
// every part asked for, and nothing for those not asked for.
func TestReadEvent(t *testing.T) {
	for _, tt := range readEventCases {
		t.Run(tt.name, func(t *testing.T) {
			checkReadEvent(t, tt.typ, []byte(tt.msg), tt.known)
		})
	}
}

func checkReadEvent(t *testing.T, typ string, msg []byte, known string) {
	t.Helper()
	ev := &mosaic.Event{Type: typ, Message: msg, ReceivedAt: time.Date(2026, 3, 2, 8, 0, 0, 987654321, time.UTC)}
	want := decodeEvent(ev)
	for _, w := range []wants{{}, {consent: true}, {traits: true}, {consent: true, traits: true}} {
		got := readEvent(ev, known, w)
		exp := want
		if !w.consent {
			exp.consent = nil
		}
		if !w.traits {
			exp.traits = false
		}
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("readEvent(%s %q, known %q, %+v) =\n%+v\nwant (decodeEvent)\n%+v", typ, msg, known, w, got, exp)
		}
	}
}

// TestParseTimeZ: the reading of a timestamp in UTC from the message
// gives what unquote and time.Parse give, on the forms SDKs send and on
// strings near them, and declines the others.
func TestParseTimeZ(t *testing.T) {
	cases := []string{
		`"2026-03-01T12:00:00Z"`, `"2026-03-01T12:00:00.000Z"`, `"2026-03-01T12:00:00.5Z"`,
		`"2026-03-01T12:00:00.123456789Z"`, `"2026-03-01T12:00:00.1234567891234Z"`,
		`"2024-02-29T00:00:00Z"`, `"2100-02-29T00:00:00Z"`, `"2000-02-29T23:59:59Z"`, `"2026-04-31T00:00:00Z"`,
		`"0000-01-01T00:00:00Z"`, `"9999-12-31T23:59:59.999999999Z"`, `"2026-13-01T00:00:00Z"`,
		`"2026-00-01T00:00:00Z"`, `"2026-01-00T00:00:00Z"`, `"2026-01-01T24:00:00Z"`, `"2026-01-01T00:60:00Z"`,
		`"2026-01-01T00:00:60Z"`, `"2026-01-01T00:00:00.Z"`, `"2026-01-01T00:00:00.1a2Z"`, `"2026-01-01T00:00:00.123456789aZ"`,
		`"2026-01-01T00:00:00+00:00"`, `"2026-01-01T00:00:00"`, `"2026-01-01 00:00:00Z"`, `"+026-01-01T00:00:00Z"`,
		`"2026-01-01T00:00:00\u005a"`, `2026`, `""`, `"Z"`, `null`, ``,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		cases = append(cases, randomTimestamp(rng))
	}
	fast := 0
	for _, c := range cases {
		got, ok := parseTimeZ([]byte(c))
		want, err := time.Time{}, errors.New("not a string")
		if s, isString := unquote([]byte(c)); isString {
			want, err = time.Parse(time.RFC3339Nano, s)
		}
		if ok {
			fast++
			if err != nil || got != want {
				t.Fatalf("parseTimeZ(%s) = %v, want %v (time.Parse error %v)", c, got, want, err)
			}
		} else if err == nil && strings.HasSuffix(c, `Z"`) && !strings.Contains(c, `\`) && !strings.Contains(c, ",") {
			t.Errorf("parseTimeZ(%s) declined a time time.Parse reads as %v", c, want)
		}
	}
	if fast < len(cases)/10 {
		t.Errorf("parseTimeZ read %d of %d cases, want more: the random ones are too often malformed", fast, len(cases))
	}
}

// randomTimestamp returns a timestamp in the layout SDKs send, its fields
// often out of range, its fraction of any length, and now and then a
// character changed.
func randomTimestamp(rng *rand.Rand) string {
	s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", rng.IntN(10000), rng.IntN(14), rng.IntN(33), rng.IntN(26), rng.IntN(62), rng.IntN(62))
	if n := rng.IntN(14); n > 0 {
		s += "."
		for range n - 1 {
			s += strconv.Itoa(rng.IntN(10))
		}
	}
	s += []string{"Z", "Z", "Z", "+02:00", "", "z"}[rng.IntN(6)]
	b := []byte(`"` + s + `"`)
	if rng.IntN(8) == 0 {
		b[rng.IntN(len(b))] = `0a:.-TZ\ "`[rng.IntN(10)]
	}
	return string(b)
}

// FuzzReadEvent compares the one-pass reading with decodeEvent on any
// message, type and name the profile stage may have read.
func FuzzReadEvent(f *testing.F) {
	for _, tt := range readEventCases {
		f.Add(tt.typ, []byte(tt.msg), tt.known)
	}
	f.Fuzz(func(t *testing.T, typ string, msg []byte, known string) {
		checkReadEvent(t, typ, msg, known)
	})
}

// BenchmarkReadEvent compares decodeEvent with readEvent on a message as
// analytics.js sends it (context after the members read) and as the
// benchmarks of Observe make them (no context).
func BenchmarkReadEvent(b *testing.B) {
	msgs := map[string]string{
		"analytics.js": `{"timestamp":"2024-05-01T12:59:58.000Z","integrations":{},"type":"track","properties":{"category":"c1","revenue":12},"event":"Product Viewed","messageId":"ajs-next-1714568398000-8c1f3b2a","anonymousId":"4b8e0c2a-7a7e-4d2a-9f0e-1f2e3d4c5b6a","context":{"page":{"path":"/shop","referrer":"","search":"","title":"Shop","url":"https://shop.example/shop"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64)","locale":"en-US","library":{"name":"analytics.js","version":"next-1.84.3"},"campaign":{}},"writeKey":"wk_test","userId":"u1","sentAt":"2024-05-01T13:00:00.000Z","_metadata":{"bundled":["Segment.io"],"unbundled":[],"bundledIds":[]}}`,
		"small":        `{"type":"track","userId":"u1","event":"Product Viewed","timestamp":"2026-03-01T12:00:00Z","properties":{"category":"c1"}}`,
	}
	for name, msg := range msgs {
		ev := &mosaic.Event{Type: mosaic.TypeTrack, Message: []byte(msg)}
		b.Run(name+"/decodeEvent", func(b *testing.B) {
			for b.Loop() {
				decodeEvent(ev)
			}
		})
		b.Run(name+"/readEvent", func(b *testing.B) {
			for b.Loop() {
				readEvent(ev, "Product Viewed", wants{traits: true})
			}
		})
	}
}
