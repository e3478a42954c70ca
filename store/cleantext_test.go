package store

import (
	"strings"
	"testing"
)

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain ascii", "plain ascii"},
		{"nul\x00inside", "nulinside"},
		{"café", "café"},
		{"bad \xff\xfe bytes", "bad \uFFFD bytes"},
		{"\x00\xff", "\uFFFD"},
	}
	for _, tt := range tests {
		got := CleanText(tt.in)
		if got != tt.want {
			t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// The fast path must agree with the two passes it skips.
		if ref := strings.ReplaceAll(strings.ToValidUTF8(tt.in, "\uFFFD"), "\x00", ""); got != ref {
			t.Errorf("CleanText(%q) = %q, the two passes give %q", tt.in, got, ref)
		}
	}
}
