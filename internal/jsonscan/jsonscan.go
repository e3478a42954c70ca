// Package jsonscan reads the members of JSON objects in place, without
// decoding them: the stages that follow the event log read a few members of
// every stored message, and decoding each whole message into maps cost
// them most of their time. Input must be valid JSON, as every stored
// message is; on anything else the functions stop and report false, never
// panic.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Object calls fn with each member of the JSON object b, in order: the key
// as its raw bytes between the quotes (escapes not decoded; see Key) and
// the value's raw bytes without surrounding space. fn returns false to
// stop. Object reports whether b was an object it could read to the end.
func Object(b []byte, fn func(key, val []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		end := skipString(b, i)
		key := b[i+1 : max(i+1, end-1)]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		start := i
		i = skipValue(b, i)
		// A value that runs to the end is cut short (a string or container
		// never closed) or ends an object never closed: either way fn must
		// not see it as a whole value.
		if i == start || i >= len(b) {
			return false
		}
		if !fn(key, b[start:i]) {
			return true
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return true
		default:
			return false
		}
	}
	return false
}

// Key returns a key Object gave as a string, decoding its escapes and, as
// encoding/json does, replacing bytes that are not UTF-8 with U+FFFD.
func Key(raw []byte) (string, bool) {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw), true
	}
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) != nil {
		return "", false
	}
	return s, true
}

// String returns the JSON string value val decoded, and false if val is
// not a string.
func String(val []byte) (string, bool) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return "", false
	}
	return Key(val[1 : len(val)-1])
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the offset after the string starting at b[i] ('"').
// Strings are most of a message's bytes (user agents, URLs, titles), and
// most are short, so it looks at eight bytes at a time for a quote or a
// backslash: stepping through them one at a time was most of the time a
// read took, and a vectorised search costs more per call than a short
// string takes.
func skipString(b []byte, i int) int {
	end, _ := StringEnd(b, i)
	return end
}

// hasByte returns a word with the high bit set in the lowest byte of w
// that equals c, if any. Bytes above a match may be flagged too, falsely
// (the subtraction borrows), so only the lowest flagged byte is certain.
func hasByte(w uint64, c byte) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := w ^ (ones * uint64(c))
	return (x - ones) &^ x & highs
}

// skipValue returns the offset after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !isSpace(b[i]) {
		i++
	}
	return i
}

// Member is one key/value pair of an object, as spans of its bytes: the
// key's raw bytes between its quotes (escapes not decoded) and the value's
// raw bytes without surrounding space. Code that rewrites a few values of
// a message and must keep every other byte works on these.
type Member struct {
	Key []byte
	Val []byte
}

// Members splits the object b into its members, appending them to dst. ok
// is false if b is not an object; on other malformed input it returns the
// members read before the problem.
func Members(b []byte, dst []Member) ([]Member, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return dst, false
	}
	dst, _, _ = MembersAt(b, i, dst)
	return dst, true
}

// MembersAt splits the object starting at b[i] ('{') into its members,
// appending them to dst, and returns the offset of its closing brace (or
// where it stopped). ok is false if it stopped at something that is not a
// member.
func MembersAt(b []byte, i int, dst []Member) ([]Member, int, bool) {
	for i = skipSpace(b, i+1); i < len(b) && b[i] != '}'; {
		if b[i] != '"' {
			return dst, i, false
		}
		k := skipString(b, i)
		var m Member
		m.Key = b[i+1 : max(i+1, k-1)]
		i = skipSpace(b, k)
		if i >= len(b) || b[i] != ':' {
			return dst, i, false
		}
		v := skipSpace(b, i+1)
		i = skipValue(b, v)
		m.Val = b[v:i]
		dst = append(dst, m)
		if i = skipSpace(b, i); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return dst, i, true
}

// AppendObject appends the object of ms to dst, each key between quotes
// as it is.
func AppendObject(dst []byte, ms []Member) []byte {
	dst = append(dst, '{')
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, m.Key...)
		dst = append(dst, '"', ':')
		dst = append(dst, m.Val...)
	}
	return append(dst, '}')
}

// SkipSpace returns the offset of the first byte at or after b[i] that is
// not JSON white space.
func SkipSpace(b []byte, i int) int { return skipSpace(b, i) }

// SkipValue returns the offset after the value starting at b[i].
func SkipValue(b []byte, i int) int { return skipValue(b, i) }
