package passwd

import (
	"errors"
	"strings"
	"testing"
)

// fast keeps the tests quick; the format is the same at any cost.
var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("Hash = %s, want a PHC argon2id string", h)
	}
	h2, _ := Hash("correct horse battery", fast)
	if h == h2 {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
	for _, c := range []struct {
		pw, enc string
		want    error
	}{
		{"correct horse battery", h, nil},
		{"correct horse batterY", h, ErrMismatch},
		{"", h, ErrMismatch},
	} {
		if err := Verify(c.pw, c.enc); !errors.Is(err, c.want) {
			t.Errorf("Verify(%q) = %v, want %v", c.pw, err, c.want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, enc := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA"} {
		if err := Verify("whatever-password", enc); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a format error", enc, err)
		}
	}
}

func TestCheck(t *testing.T) {
	for pw, ok := range map[string]bool{"short": false, "ten chars!": true, strings.Repeat("x", 257): false, "\xff\xfe invalid utf8": false} {
		if err := Check(pw); (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok %v", pw, err, ok)
		}
	}
}
