package storetest_test

import (
	"testing"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic/store"
)

// The rule lives in package store, which has no tests of its own; the suite
// relies on it for its expectations, so it is pinned here.
func TestCleanText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"web", "web"},
		{"Zürich 日本 🎉", "Zürich 日本 🎉"},
		{"a\x00b", "ab"},
		{"\x00\x00", ""},
		{"a\xffb", "a\uFFFDb"},
		{"a\xff\xfe\xfdb", "a\uFFFDb"},                   // one run, one replacement
		{"\xc3\x00\xa9", "\uFFFD\uFFFD"},                 // removing NUL must not make "é" of stray bytes
		{"\xed\xa0\x80", "\uFFFD"},                       // a UTF-16 surrogate is not UTF-8
		{"ok\uFFFDalready", "ok\uFFFDalready"},           // U+FFFD itself is valid
		{"tab\tnewline\n\u0001", "tab\tnewline\n\u0001"}, // other control characters stay
	}
	for _, tt := range tests {
		got := store.CleanText(tt.in)
		if got != tt.want {
			t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("CleanText(%q) = %q, not valid UTF-8", tt.in, got)
		}
		if again := store.CleanText(got); again != got {
			t.Errorf("CleanText(CleanText(%q)) = %q, want %q unchanged", tt.in, again, got)
		}
	}
}
