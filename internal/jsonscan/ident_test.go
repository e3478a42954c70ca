package jsonscan

import (
	"bytes"
	"testing"
)

func TestStringEnd(t *testing.T) {
	tests := []struct {
		in      string
		end     int
		escaped bool
	}{
		{`""`, 2, false},
		{`"userId":1`, 8, false},
		{`"anonymousIdentifier":1`, 21, false},
		{`"a\"b"`, 6, true},
		{`"a\\"b"`, 5, true},
		{`"0123456789\u0041bcdef"`, 23, true},
		{`"0123456789abcdef\\"x`, 20, true},
		{`"unclosed`, 9, false},
		{`"unclosed\"`, 11, true},
		{`"`, 1, false},
	}
	for _, tt := range tests {
		end, esc := StringEnd([]byte(tt.in), 0)
		if end != tt.end || esc != tt.escaped {
			t.Errorf("StringEnd(%q) = %d, %v; want %d, %v", tt.in, end, esc, tt.end, tt.escaped)
		}
	}
}

// FuzzStringEnd: StringEnd ends where skipString does, and reports an
// escape exactly when the string's bytes hold a backslash.
func FuzzStringEnd(f *testing.F) {
	for _, s := range []string{`"a"`, `"a\"b" x`, `"\\\\"`, `"0123456789abcdef\"0123456789"`, `"x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		end, esc := StringEnd(b, 0)
		if want := skipString(b, 0); end != want {
			t.Fatalf("StringEnd(%q) = %d, want %d", b, end, want)
		}
		if want := bytes.IndexByte(b[1:end], '\\') >= 0; esc != want {
			t.Fatalf("StringEnd(%q) escaped = %v, want %v", b, esc, want)
		}
	})
}
