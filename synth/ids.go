package synth

import (
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Identifiers that must never collide between two people (user ids,
// e-mail addresses, phone numbers) are not drawn at random: they are a
// person's index put through a bijection of a fixed-size space (scramble),
// so they look random, stay unique without any table, and repeat exactly
// for the same seed. Random ones (anonymous ids, device ids) are UUIDs
// from the person's own random source, where a collision is as unlikely as
// in real data.

// scrambleMul is a prime that shares no factor with the sizes of the
// spaces below (all of the form 2^a 3^b 5^c), so x*scrambleMul+salt mod n
// is a bijection of [0, n).
const scrambleMul = 48271

// scramble maps k in [0, n) to a unique value in [0, n).
func scramble(k, n, salt uint64) uint64 { return (k%n*scrambleMul + salt%n) % n }

// mix is SplitMix64's finaliser: it spreads a seed and an index into an
// independent-looking 64-bit value.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// userID returns person idx's user id: nine digits, like a database key.
func userID(idx int, salt uint64) string {
	return strconv.FormatUint(100_000_000+scramble(uint64(idx), 900_000_000, salt), 10)
}

// emailNumber returns the number that makes e-mail address j of person
// idx unique: a trailing run of digits no other address shares.
func emailNumber(idx, j int, space, salt uint64) string {
	return strconv.FormatUint(scramble(uint64(idx)*4+uint64(j), space, salt), 10)
}

// emailSpace is the smallest power of ten that holds four addresses per
// person, at least 1000 so that numbers look like numbers.
func emailSpace(people int) uint64 {
	n := uint64(1000)
	for n < uint64(people)*4 {
		n *= 10
	}
	return n
}

// personalEmail builds an address at a mail provider in one of the
// styles people choose. It is lower-case: the form identity stores.
func personalEmail(rng *rand.Rand, first, last, num, domain string) string {
	var local string
	switch rng.IntN(5) {
	case 0:
		local = first + "." + last + num
	case 1:
		local = first[:1] + last + num
	case 2:
		local = first + "_" + last + num
	case 3:
		local = first + num
	default:
		local = last + "." + first + num
	}
	return local + "@" + domain
}

// writtenEmail returns email as a person types it into a form: mostly as
// stored, sometimes capitalised or with a stray space, which
// normalisation must undo.
func writtenEmail(rng *rand.Rand, email string) string {
	switch rng.IntN(12) {
	case 0:
		return strings.ToUpper(email[:1]) + email[1:]
	case 1:
		at := strings.IndexByte(email, '@')
		return email[:at+1] + strings.ToUpper(email[at+1:at+2]) + email[at+2:]
	case 2:
		return " " + email
	case 3:
		return email + " "
	}
	return email
}

// appendUUID appends a random version 4 UUID, in upper case if upper (as
// iOS writes identifierForVendor and the advertising id).
func appendUUID(dst []byte, rng *rand.Rand, upper bool) []byte {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	if upper {
		for i, c := range s {
			if 'a' <= c && c <= 'f' {
				s[i] = c - 'a' + 'A'
			}
		}
	}
	return append(dst, s[:]...)
}

// newUUID returns a random version 4 UUID.
func newUUID(rng *rand.Rand, upper bool) string {
	return string(appendUUID(make([]byte, 0, 36), rng, upper))
}

// androidID returns 16 hex digits, the form of Settings.Secure.ANDROID_ID.
func androidID(rng *rand.Rand) string {
	var b [8]byte
	v := rng.Uint64()
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// pad returns v in decimal with leading zeros to width digits.
func pad(v uint64, width int) string {
	s := strconv.FormatUint(v, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}
