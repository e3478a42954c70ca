package dedupe

import (
	"crypto/sha256"
	"strings"
	"testing"
)

func TestKeyOf(t *testing.T) {
	long := strings.Repeat("m", 500) // past the stack buffer
	tests := []struct {
		name, source, message string
	}{
		{"short", "src_1", "msg-1"},
		{"uuid", "2bT9kQ0v8xYpWm3ZrL7cA1dE4fG", "0f8fad5b-d9cb-469f-a165-70867728950e"},
		{"empty message", "src_1", ""},
		{"long message", "src_1", long},
		{"NUL in message", "src_1", "a\x00b"},
		{"invalid UTF-8", "src_1", "\xff\xfe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := sha256.Sum256([]byte(tt.source + "\x00" + tt.message))
			want := Key(sum[:KeySize])
			if got := KeyOf(tt.source, tt.message); got != want {
				t.Errorf("KeyOf(%q, %q) = %x, want %x", tt.source, tt.message, got, want)
			}
		})
	}
}

func TestKeyOfDistinguishes(t *testing.T) {
	tests := []struct {
		name   string
		a1, a2 string // source, message of the first key
		b1, b2 string // of the second
	}{
		{"same message other source", "src_1", "m", "src_2", "m"},
		{"other message same source", "src_1", "m1", "src_1", "m2"},
		{"boundary moved", "src_1", "2m", "src_12", "m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if KeyOf(tt.a1, tt.a2) == KeyOf(tt.b1, tt.b2) {
				t.Errorf("KeyOf(%q, %q) == KeyOf(%q, %q), want different keys", tt.a1, tt.a2, tt.b1, tt.b2)
			}
		})
	}
}

func TestKeyOfAllocations(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		KeyOf("2bT9kQ0v8xYpWm3ZrL7cA1dE4fG", "0f8fad5b-d9cb-469f-a165-70867728950e")
	})
	if allocs != 0 {
		t.Errorf("KeyOf allocates %v times a call, want 0", allocs)
	}
}
