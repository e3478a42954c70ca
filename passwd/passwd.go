// Package passwd hashes and checks user passwords with Argon2id (RFC
// 9106), in the PHC string format other tools read:
//
//	$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>
//
// The parameters travel with each hash, so they can be raised later and
// old hashes still verify.
package passwd

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are Argon2id's costs. Default follows RFC 9106's second
// recommended option scaled to a server: 64 MiB, 2 passes, 1 lane —
// about 50–100 ms on one core, so guessing is slow and a login still fast.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default is the cost new hashes get.
var Default = Params{Memory: 64 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinLen and MaxLen bound a password in characters: long enough to
	// resist guessing (NIST SP 800-63B), short enough to hash quickly.
	MinLen = 10
	MaxLen = 256
)

// ErrMismatch is Verify's answer to a wrong password.
var ErrMismatch = errors.New("passwd: wrong password")

// Check says what is wrong with a new password, if anything.
func Check(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return errors.New("a password must be valid UTF-8 text")
	case n < MinLen:
		return fmt.Errorf("a password needs at least %d characters (a few random words make a good one)", MinLen)
	case n > MaxLen:
		return fmt.Errorf("a password can have at most %d characters", MaxLen)
	}
	return nil
}

// Hash returns the PHC string of pw with a random salt.
func Hash(pw string, p Params) (string, error) {
	if err := Check(pw); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks pw against a PHC string from Hash in constant time: nil if
// it matches, ErrMismatch if not, another error if encoded is malformed.
func Verify(pw, encoded string) error {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

// Dummy is a valid hash of no one's password: checking a login for an
// unknown user against it takes as long as for a known one, so timing does
// not tell which names exist.
var Dummy = sync.OnceValue(func() string {
	h, _ := Hash("not a password of anyone", Default)
	return h
})

func decode(s string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("passwd: not an argon2id PHC string")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("passwd: unsupported argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 || p.Memory < 8*uint32(p.Threads) || p.Memory > 4<<20 {
		return p, nil, nil, fmt.Errorf("passwd: bad parameters %q", parts[3])
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return p, nil, nil, errors.New("passwd: bad salt or hash")
	}
	return p, salt, key, nil
}
