package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
)

// referencePseudonym is Pseudonym as it was before it reused keyed HMACs.
func referencePseudonym(key []byte, ref string) string {
	typ, value, ok := strings.Cut(ref, ":")
	if !ok {
		typ, value = "ref", ref
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(value))))
	return typ + ":h_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func TestPseudonym(t *testing.T) {
	key := []byte("installation-secret")
	a := NewAuditor(nil, key, nil)
	tests := []struct{ name, ref string }{
		{"email", "email:jane@example.com"},
		{"case and spaces", "email: JANE@Example.com "},
		{"user id", "user_id:42"},
		{"no type", "jane"},
		{"empty value", "phone:"},
		{"empty", ""},
		{"colon in value", "anonymous_id:a:b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 { // a reused HMAC must start from the key again
				if got, want := a.Pseudonym(tt.ref), referencePseudonym(key, tt.ref); got != want {
					t.Fatalf("Pseudonym(%q) = %q, want %q", tt.ref, got, want)
				}
			}
		})
	}
	if a.Pseudonym("email:a@b") == NewAuditor(nil, []byte("other"), nil).Pseudonym("email:a@b") {
		t.Error("two keys gave one pseudonym")
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				ref := tests[(i+j)%len(tests)].ref
				if got, want := a.Pseudonym(ref), referencePseudonym(key, ref); got != want {
					t.Errorf("concurrent Pseudonym(%q) = %q, want %q", ref, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzPseudonym holds Pseudonym to the reference.
func FuzzPseudonym(f *testing.F) {
	for _, s := range []string{"email:a@b", "x", ":", " user_id : 42 "} {
		f.Add(s)
	}
	key := []byte("k")
	a := NewAuditor(nil, key, nil)
	f.Fuzz(func(t *testing.T, ref string) {
		if got, want := a.Pseudonym(ref), referencePseudonym(key, ref); got != want {
			t.Errorf("Pseudonym(%q) = %q, want %q", ref, got, want)
		}
	})
}
