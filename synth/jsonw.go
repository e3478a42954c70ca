package synth

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Messages are written straight into a byte slice, members in a fixed
// order: encoding/json with maps would cost most of the generator's time
// and sort the keys, which SDKs do not do.

// field appends an object member's key, after a comma unless it is the
// object's first member.
func field(b []byte, key string) []byte {
	if b[len(b)-1] != '{' && b[len(b)-1] != '[' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// open appends the key of a member whose value is an object, and '{'.
func open(b []byte, key string) []byte { return append(field(b, key), '{') }

// str appends a string member.
func str(b []byte, key, v string) []byte { return appendString(field(b, key), v) }

// integer appends an integer member.
func integer(b []byte, key string, v int64) []byte {
	return strconv.AppendInt(field(b, key), v, 10)
}

// boolean appends a boolean member.
func boolean(b []byte, key string, v bool) []byte { return strconv.AppendBool(field(b, key), v) }

// money appends an amount in cents as a number with two decimals.
func money(b []byte, key string, cents int) []byte {
	b = strconv.AppendInt(field(b, key), int64(cents/100), 10)
	b = append(b, '.', byte('0'+cents%100/10), byte('0'+cents%10))
	return b
}

// timeLayout is ISO-8601 in UTC with milliseconds, as the SDKs send it.
const timeLayout = "2006-01-02T15:04:05.000Z"

// timestamp appends a member with the time ms (Unix milliseconds).
func timestamp(b []byte, key string, ms int64) []byte {
	b = append(field(b, key), '"')
	b = time.UnixMilli(ms).UTC().AppendFormat(b, timeLayout)
	return append(b, '"')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		default: // other control characters and invalid UTF-8
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
