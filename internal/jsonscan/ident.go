package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// StringEnd returns the offset after the string starting at b[i] ('"'),
// or len(b) if it is not closed, and whether it holds an escape. A reader
// that matches keys against a few names can then compare the raw bytes
// and decode only the keys that need it, without a second look at every
// key. It steps eight bytes at a time, as skipString does.
func StringEnd(b []byte, i int) (end int, escaped bool) {
	for i++; i+8 <= len(b); {
		w := binary.LittleEndian.Uint64(b[i:])
		m := hasByte(w, '"') | hasByte(w, '\\')
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) / 8
		if b[i] == '"' {
			return i + 1, escaped
		}
		escaped = true
		i += 2 // a backslash and the byte it escapes
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i + 1, escaped
		}
	}
	return len(b), escaped
}
