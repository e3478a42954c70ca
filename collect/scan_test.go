package collect

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScannerValidate(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		depth int
		flags scanFlags
		ok    bool
	}{
		{"empty object", `{}`, 1, 0, true},
		{"empty array", ` [ ] `, 1, 0, true},
		{"scalars", `[1,-0,0.5,1e10,-2.5E-3,true,false,null,"x"]`, 1, 0, true},
		{"nested", `{"a":[{"b":{}}]}`, 4, 0, true},
		{"escapes", `"a\"\\\/\b\f\n\r\t\u00e9"`, 0, flagEscape, true},
		{"surrogate pair", `"\ud83d\ude00"`, 0, flagEscape, true},
		{"NUL escape", `{"a":"x\u0000"}`, 1, flagEscape | flagNUL, true},
		{"lone high surrogate", `"\ud83dx"`, 0, flagEscape | flagSurrogate, true},
		{"lone low surrogate", `"\ude00"`, 0, flagEscape | flagSurrogate, true},
		{"high then non-low escape", `"\ud83d\u0041"`, 0, flagEscape | flagSurrogate, true},
		{"utf8", `"héllo 😀"`, 0, 0, true},
		{"raw NUL byte", "\"a\x00\"", 0, 0, false},
		{"raw newline in string", "\"a\nb\"", 0, 0, false},
		{"invalid utf8", "\"\xff\"", 0, 0, false},
		{"overlong utf8", "\"\xc0\xaf\"", 0, 0, false},
		{"encoded surrogate utf8", "\"\xed\xa0\x80\"", 0, 0, false},
		{"trailing comma object", `{"a":1,}`, 0, 0, false},
		{"trailing comma array", `[1,]`, 0, 0, false},
		{"leading zero", `01`, 0, 0, false},
		{"bare minus", `-`, 0, 0, false},
		{"dot without digits", `1.`, 0, 0, false},
		{"exponent without digits", `1e`, 0, 0, false},
		{"single quotes", `{'a':1}`, 0, 0, false},
		{"unquoted key", `{a:1}`, 0, 0, false},
		{"missing colon", `{"a" 1}`, 0, 0, false},
		{"mismatched close", `[}`, 0, 0, false},
		{"unclosed", `{"a":[1,2}`, 0, 0, false},
		{"two values", `{} {}`, 0, 0, false},
		{"bad escape", `"\x"`, 0, 0, false},
		{"short unicode escape", `"\u12"`, 0, 0, false},
		{"truncated literal", `tru`, 0, 0, false},
		{"empty", ``, 0, 0, false},
		{"NaN", `NaN`, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s scanner
			depth, err := s.validate([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("validate(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			}
			if want := json.Valid([]byte(tt.in)) && utf8.ValidString(tt.in); want != tt.ok {
				t.Fatalf("test case disagrees with encoding/json: json.Valid && utf8.Valid = %v", want)
			}
			if !tt.ok {
				return
			}
			if depth != tt.depth || s.flags != tt.flags {
				t.Errorf("validate(%q) = depth %d flags %b, want depth %d flags %b", tt.in, depth, s.flags, tt.depth, tt.flags)
			}
		})
	}
}

func TestScannerDeep(t *testing.T) {
	const n = 100000
	in := strings.Repeat("[", n) + strings.Repeat("]", n)
	var s scanner
	depth, err := s.validate([]byte(in))
	if err != nil || depth != n {
		t.Fatalf("validate(%d nested arrays) = %d, %v; want %d, nil", n, depth, err, n)
	}
	if _, err := s.validate([]byte(in[:len(in)-1])); err == nil {
		t.Fatalf("validate(%d nested arrays missing one ']') = nil error, want an error", n)
	}
}

func TestSyntaxErrorOffset(t *testing.T) {
	var s scanner
	_, err := s.validate([]byte(`{"a": tru}`))
	se, ok := err.(*syntaxError)
	if !ok || se.Offset != 6 {
		t.Fatalf("validate error = %#v, want a *syntaxError at offset 6", err)
	}
	_, err = s.validate([]byte("\"ab\xfe\""))
	if se, ok := err.(*syntaxError); !ok || !se.UTF8 || se.Offset != 3 {
		t.Fatalf("validate error = %#v, want a UTF-8 *syntaxError at offset 3", err)
	}
}

// TestSpecial checks the word-at-a-time test against the byte table for
// every byte value at every position, next to plain and special neighbours.
func TestSpecial(t *testing.T) {
	for _, fill := range []byte{'a', ' ', '~', 0x7f} {
		for pos := range 8 {
			for c := range 256 {
				w := bytes.Repeat([]byte{fill}, 8)
				w[pos] = byte(c)
				want := false
				for _, x := range w {
					want = want || !plain[x]
				}
				if got := special(binary.LittleEndian.Uint64(w)); got != want {
					t.Fatalf("special(%q) = %v, want %v", w, got, want)
				}
			}
		}
	}
}
