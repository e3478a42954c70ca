package jsonscan

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

// members reads b with Object into a map, keys decoded, the last of
// repeated keys winning as in encoding/json.
func members(b []byte) (map[string]string, bool) {
	out := map[string]string{}
	ok := Object(b, func(key, val []byte) bool {
		k, kok := Key(key)
		if !kok {
			return false
		}
		out[k] = string(val)
		return true
	})
	return out, ok
}

func TestObject(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		ok   bool
	}{
		{`{}`, map[string]string{}, true},
		{` { } `, map[string]string{}, true},
		{`{"a":1,"b":"x"}`, map[string]string{"a": "1", "b": `"x"`}, true},
		{"{ \"a\" :\n [1, {\"c\": \"}\"}] , \"b\" : null }", map[string]string{"a": `[1, {"c": "}"}]`, "b": "null"}, true},
		{`{"q\"k":"v\\","e\u0078":true}`, map[string]string{`q"k`: `"v\\"`, "ex": "true"}, true},
		{`{"a":1,"a":2}`, map[string]string{"a": "2"}, true},
		{`{"a":-1.5e3}`, map[string]string{"a": "-1.5e3"}, true},
		{`[1]`, map[string]string{}, false},
		{`"s"`, map[string]string{}, false},
		{`null`, map[string]string{}, false},
		{``, map[string]string{}, false},
		{`{"a":1`, map[string]string{}, false},
		{`{"a":{`, map[string]string{}, false},
		{`{"a":"x`, map[string]string{}, false},
		{`{"a":[1,"]"`, map[string]string{}, false},
		{`{"a":1,"b":{"c":2}`, map[string]string{"a": "1"}, false},
		{`{"a" 1}`, map[string]string{}, false},
		{`{a:1}`, map[string]string{}, false},
		{`{"a":}`, map[string]string{}, false},
	}
	for _, tt := range tests {
		got, ok := members([]byte(tt.in))
		if ok != tt.ok || !maps.Equal(got, tt.want) {
			t.Errorf("Object(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`"Order Completed"`, "Order Completed", true},
		{`"caf\u00e9 \"x\""`, `café "x"`, true},
		{`""`, "", true},
		{`12`, "", false},
		{`null`, "", false},
		{`"`, "", false},
	}
	for _, tt := range tests {
		if got, ok := String([]byte(tt.in)); got != tt.want || ok != tt.ok {
			t.Errorf("String(%s) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzObject: for every valid JSON object, Object reads the members
// encoding/json decodes, value bytes included; on anything else it never
// panics.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,{"c":"}"}]}`, `{"k\"":"v","k\"":null}`, `[]`, `{"a":` + "\n" + `true }`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := members(b)
		var want map[string]json.RawMessage
		if !json.Valid(b) || json.Unmarshal(b, &want) != nil || want == nil {
			return
		}
		if !ok {
			t.Fatalf("Object(%q) = false for a valid object", b)
		}
		if len(got) != len(want) {
			t.Fatalf("Object(%q) found %d members, encoding/json %d", b, len(got), len(want))
		}
		for k, v := range want {
			if g, found := got[k]; !found || g != string(bytes.TrimSpace(v)) {
				t.Fatalf("Object(%q): member %q = %q (%v), encoding/json %q", b, k, g, found, v)
			}
		}
	})
}

// skipStringByBytes is skipString as first written, one byte at a time:
// the reference the word-at-a-time search must agree with.
func skipStringByBytes(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

func TestSkipString(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{`""`, 2},
		{`"abc"`, 5},
		{`"abcdefghijklmnop" tail`, 18},
		{`"a\"b"`, 6},
		{`"a\\"b"`, 5},
		{`"abcdefg\\\"hijklm"x`, 19},
		{`"abcdefgh\\`, 11},
		{`"abcdefg\`, 9},
		{`"abcdefgh\"`, 11},
		{`"unterminated and longer than a word`, 36},
		{`"`, 1},
		{`"caf` + "\u00e9" + ` \"x\""`, 13},
	}
	for _, tt := range tests {
		if got := skipString([]byte(tt.in), 0); got != tt.want {
			t.Errorf("skipString(%q, 0) = %d, want %d", tt.in, got, tt.want)
		}
		if ref := skipStringByBytes([]byte(tt.in), 0); ref != tt.want {
			t.Errorf("skipStringByBytes(%q, 0) = %d, want %d", tt.in, ref, tt.want)
		}
	}
}

// FuzzSkipString holds skipString to the byte-at-a-time loop on any input,
// from every quote in it.
func FuzzSkipString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b\\" "c"`, `{"k":"` + strings.Repeat(`x\\`, 9) + `\""}`, `"\\\\\\\\\\\\\\\\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := range b {
			if b[i] != '"' {
				continue
			}
			if got, want := skipString(b, i), skipStringByBytes(b, i); got != want {
				t.Fatalf("skipString(%q, %d) = %d, byte by byte %d", b, i, got, want)
			}
		}
	})
}

// BenchmarkObject reads every member of a stored page view.
func BenchmarkObject(b *testing.B) {
	msg := []byte(`{"type":"page","messageId":"940e7841-acce-4714-90b2-d8daebe129cb","anonymousId":"137fde0a-9a9f-44b5-9c77-7d8981640a86","name":"Product","properties":{"path":"/p/trekking-pack-45l","referrer":"https://www.example.com/","title":"Trekking Pack 45L | Northpeak Outdoor","url":"https://www.example.com/p/trekking-pack-45l"},"context":{"ip":"198.51.100.154","library":{"name":"analytics.js","version":"npm:next-1.70.0"},"locale":"nl-NL","timezone":"Europe/Amsterdam","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36","page":{"path":"/p/trekking-pack-45l","referrer":"https://www.example.com/","title":"Trekking Pack 45L | Northpeak Outdoor","url":"https://www.example.com/p/trekking-pack-45l"}},"originalTimestamp":"2024-01-01T00:10:41.513Z","timestamp":"2026-11-23T06:24:06.431818327Z","sentAt":"2024-01-01T00:10:41.750Z","receivedAt":"2026-11-23T06:24:06.668818327Z"}`)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if !Object(msg, func(_, _ []byte) bool { return true }) {
			b.Fatal("Object failed")
		}
	}
}
