package profile

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// diffSeeds are messages where the single-pass decoder could part from the
// reference one: repeated and escaped keys, derived trait objects that are
// not objects or repeat, values that are not strings, broken grammar at
// every level, escapes and control characters at the end of a string.
var diffSeeds = []string{
	`{"type":"page","name":"Home","context":{"browser":{"name":"A","name":"B"},"os":{"name":1},"device":"x","location":{"city":"C","country":"NL","city":"D"},"location":{"country":"DE"}}}`,
	`{"context":{"browser":{"name":"A"}},"context":{"os":{"name":"B"}}}`,
	`{"context":{"browser":{"name":"A"}},"context":null}`,
	`{"context":{"traits":{"a":1},"traits":{"b":2},"br\u006fwser":{"n\u0061me":"E"}},"type":"identify","traits":{"a":3,"last_os":"X"}}`,
	`{"c\u006fntext":{"traits":{"x":"y"},"os":{"name":"\u00e9\ud83d\ude00"}}}`,
	`{"context":{"location":{"city":"","country":"\"q\""}},"timestamp":"2024-05-01T10:00:00Z"}`,
	`{"context":{"browser":{"name":"A"},"os":{"name":"B"`,
	`{"context":{"browser":{"name":"A"},"os":{"name":"B"}}`,
	`{"context":{"browser":{"name":"A",}}}`,
	`{"context":{"browser":{"name":"A"}} x`,
	`{"context":{"device":{"type":"mobile"},"traits":{"a":[1,{"b":null}]}}}`,
	`{"type":"group","groupId":12,"traits":{"name":"Acme"},"context":{"traits":{"plan":"x"}}}`,
	`{"a":"\u12"}`, `{"a":"\x"}`, `{"a":"` + "\x01" + `"}`, `{"a":"abc\`, `{"a":"abcdefgh\"ijklmnop"}`,
	`{"a":"` + "\xff\xfe" + `","context":{"os":{"name":"` + "\xff" + `"}}}`,
	`{"a":-0.5e+3,"b":[true,false,null],"c":{}}`, `{"a":01}`, `{"a":tru}`, `{}`, ` { } `, `{`, `}`, `[]`, ``,
	`{"context":` + strings.Repeat(`[`, 510) + strings.Repeat(`]`, 510) + `}`,
	`{"context":` + strings.Repeat(`[`, 511) + strings.Repeat(`]`, 511) + `}`,
	`{"context":{"browser":` + strings.Repeat(`{"a":`, 509) + `1` + strings.Repeat(`}`, 509) + `}}`,
	`{"context":{"browser":` + strings.Repeat(`{"a":`, 510) + `1` + strings.Repeat(`}`, 510) + `}}`,
	`{"context":{"browser":` + strings.Repeat(`{"a":`, 511) + `1` + strings.Repeat(`}`, 511) + `}}`,
}

// checkDecode fails if the decoder and the reference decoder read msg
// differently.
func checkDecode(t *testing.T, typ string, msg []byte) {
	t.Helper()
	ev := &mosaic.Event{Seq: 3, SourceID: "web", MessageID: "m3", Type: typ, ReceivedAt: received, Message: msg}
	var d decoder
	var old oldDecoder
	got, err := d.decode(ev)
	want, wantErr := old.decode(ev)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decode(%q, %q) error = %v, reference %v", typ, msg, err, wantErr)
	}
	if err != nil {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decode(%q, %q) =\n%s\nreference\n%s", typ, msg, dumpUpdate(got), dumpUpdate(want))
	}
}

func dumpUpdate(u *update) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seq %d time %d typ %s source %s event %s name %q group %q\n",
		u.seq, u.time, u.typ, u.source, u.event, u.name, u.groupID)
	for _, l := range [][]kv{u.traits, u.group} {
		for _, t := range l {
			fmt.Fprintf(&b, "  %s=%s derived=%v\n", t.name, t.value, t.derived)
		}
		b.WriteString("  --\n")
	}
	return b.String()
}

// TestDecodeMatchesReference holds the single-pass decoder to the decoder
// it replaced, on logged messages, the fuzz seeds and the cases above, each
// also cut short at every length.
func TestDecodeMatchesReference(t *testing.T) {
	msgs := append([]string{}, diffSeeds...)
	msgs = append(msgs, fuzzSeeds...)
	for _, ev := range loggedEvents(t) {
		msgs = append(msgs, string(ev.Message))
	}
	for _, msg := range msgs {
		for _, typ := range []string{"", "identify", "group", "page", "track"} {
			checkDecode(t, typ, []byte(msg))
		}
		for n := range len(msg) {
			checkDecode(t, "identify", []byte(msg[:n]))
		}
	}
}

// FuzzDecode: the decoder reads any message as the reference decoder
// does, and the skipper accepts exactly what the reference one does.
func FuzzDecode(f *testing.F) {
	for _, s := range append(diffSeeds, fuzzSeeds...) {
		f.Add("", []byte(s))
		f.Add("identify", []byte(s))
	}
	f.Fuzz(func(t *testing.T, typ string, msg []byte) {
		checkDecode(t, typ, msg)
		for _, depth := range []int{0, maxDepth - 2} {
			end, err := skip(msg, 0, depth)
			wantEnd, wantErr := oldSkip(msg, 0, depth)
			if (err != nil) != (wantErr != nil) || err == nil && end != wantEnd {
				t.Fatalf("skip(%q, 0, %d) = %d, %v; reference %d, %v", msg, depth, end, err, wantEnd, wantErr)
			}
		}
	})
}

// FuzzParseUTC: what parseUTC reads, time.Parse reads the same.
func FuzzParseUTC(f *testing.F) {
	for _, s := range []string{"2026-11-23T09:24:12.859319483Z", "2024-01-01T00:51:02.640Z", "2024-02-29T23:59:59Z",
		"2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999999999Z",
		"2024-05-01T10:00:00.Z", "2024-05-01T10:00:00+02:00", "2024-05-01T24:00:00Z", "2024-05-01T10:00:60Z", "2024-05-01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		us, ok := parseUTC(b)
		if !ok {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, string(b))
		if err != nil {
			t.Fatalf("parseUTC(%q) = %d, true; time.Parse: %v", b, us, err)
		}
		if us != micros(want) {
			t.Fatalf("parseUTC(%q) = %d, time.Parse gives %d", b, us, micros(want))
		}
	})
}

// TestDaysIn holds daysIn to the time package's calendar.
func TestDaysIn(t *testing.T) {
	for _, year := range []int{0, 1, 1900, 2000, 2023, 2024, 2100, 9999} {
		for month := 1; month <= 12; month++ {
			want := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
			if got := daysIn(month, year); got != want {
				t.Errorf("daysIn(%d, %d) = %d, want %d", month, year, got, want)
			}
		}
	}
}
