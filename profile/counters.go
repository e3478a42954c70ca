package profile

import (
	"cmp"
	"encoding/binary"
)

// Kinds of counters a profile keeps.
const (
	kindType   byte = iota // events per call type
	kindSource             // events per source
	kindEvent              // track events per event name
	numKinds
)

// maxCounts caps the distinct names counted per kind, dropping the names
// that sort last, for the reason given at maxTraits. Real data stays far
// below; a client inventing event names does not grow a profile without end.
var maxCounts = [numKinds]int{kindType: 32, kindSource: 256, kindEvent: 1024}

// cnt is one counter.
type cnt struct {
	kind byte
	name ref
	n    uint64
}

func compareCnt(a, b cnt) int {
	return cmp.Or(cmp.Compare(a.kind, b.kind), compareRef(a.name, b.name))
}

// The counters section of a profile is a list sorted by compareCnt of
//
//	kind byte, name ref, uvarint count

// readCounts decodes b, appending to dst.
func readCounts(b []byte, dst []cnt) ([]cnt, error) {
	for len(b) > 0 {
		c, rest, err := readCount(b)
		if err != nil {
			return dst, err
		}
		dst, b = append(dst, c), rest
	}
	return dst, nil
}

func readCount(b []byte) (cnt, []byte, error) {
	var c cnt
	var err error
	if c.kind = b[0]; c.kind >= numKinds {
		return c, nil, errCorrupt
	}
	if c.name, b, err = readRef(b[1:]); err != nil {
		return c, nil, err
	}
	var k int
	if c.n, k = binary.Uvarint(b); k <= 0 {
		return c, nil, errCorrupt
	}
	return c, b[k:], nil
}

func appendCounts(b []byte, cs []cnt) []byte {
	for _, c := range cs {
		b = append(b, c.kind)
		b = appendRef(b, c.name)
		b = binary.AppendUvarint(b, c.n)
	}
	return b
}

// findCount returns the offset of the count of counter c in the encoding
// b, if c is there and adding c.n to it keeps its length.
func findCount(b []byte, c cnt) (int, bool) {
	for off := 0; off < len(b); {
		got, rest, err := readCount(b[off:])
		if err != nil {
			return 0, false
		}
		switch compareCnt(got, c) {
		case 0:
			end := len(b) - len(rest)
			return end - uvarintLen(got.n), uvarintLen(got.n+c.n) == uvarintLen(got.n)
		case 1:
			return 0, false
		}
		off = len(b) - len(rest)
	}
	return 0, false
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// mergeCounts appends to dst the sum of the sorted counter lists a and b,
// capped per kind at maxCounts.
func mergeCounts(dst, a, b []cnt) []cnt {
	start := len(dst)
	for len(a) > 0 && len(b) > 0 {
		switch c := compareCnt(a[0], b[0]); {
		case c < 0:
			dst, a = append(dst, a[0]), a[1:]
		case c > 0:
			dst, b = append(dst, b[0]), b[1:]
		default:
			sum := a[0]
			sum.n += b[0].n
			dst, a, b = append(dst, sum), a[1:], b[1:]
		}
	}
	dst = append(append(dst, a...), b...)
	return capCounts(dst, start)
}

// capCounts applies maxCounts to the counters in dst[start:], which are
// grouped by kind.
func capCounts(dst []cnt, start int) []cnt {
	out := dst[:start]
	for i := start; i < len(dst); {
		j := i
		for j < len(dst) && dst[j].kind == dst[i].kind {
			j++
		}
		kept := capByName(dst[i:j], maxCounts[dst[i].kind])
		out = append(out, kept...)
		i = j
	}
	return out
}
