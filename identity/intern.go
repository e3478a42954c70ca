package identity

import (
	"encoding/hex"
	"hash/maphash"
)

// Identifier values are interned: each distinct (type, value) is one node,
// its bytes stored once in a chunked arena, found through an open-addressing
// table of node indices. Nothing here holds a Go pointer per identifier, so
// the garbage collector never scans the graph, and a node costs a few dozen
// bytes instead of a string header, a map entry and a struct.

// A node's value reference packs where its bytes are and how to read them.
const (
	refOffBits  = 40 // byte offset in the arena
	refLenBits  = 14 // stored length
	refEncShift = refOffBits + refLenBits
	refTypShift = refEncShift + 2

	encRaw       = 0 // the value's bytes as they are
	encUUIDLower = 1 // a lower-case canonical UUID, stored as 16 bytes
	encUUIDUpper = 2 // an upper-case canonical UUID, stored as 16 bytes

	chunkBits = 20 // arena chunks of 1 MiB, so growing never copies values
	chunkSize = 1 << chunkBits
)

func makeRef(off uint64, n int, enc, typ uint8) uint64 {
	return off | uint64(n)<<refOffBits | uint64(enc)<<refEncShift | uint64(typ)<<refTypShift
}

func refOff(r uint64) uint64 { return r & (1<<refOffBits - 1) }
func refLen(r uint64) int    { return int(r >> refOffBits & (1<<refLenBits - 1)) }
func refEnc(r uint64) uint8  { return uint8(r >> refEncShift & 3) }
func refType(r uint64) uint8 { return uint8(r >> refTypShift) }

// key is a value in its stored form, ready to hash and compare.
type key struct {
	typ   uint8
	enc   uint8
	raw   string   // for encRaw
	uuid  [16]byte // for the UUID encodings
	value string   // the value as given
}

func makeKey(typ uint8, v string) key {
	k := key{typ: typ, raw: v, value: v}
	if enc, ok := parseUUID(v, &k.uuid); ok {
		k.enc, k.raw = enc, ""
	}
	return k
}

func (k *key) bytesLen() int {
	if k.enc != encRaw {
		return 16
	}
	return len(k.raw)
}

func (k *key) hash(seed maphash.Seed) uint64 {
	var h uint64
	if k.enc != encRaw {
		h = maphash.Bytes(seed, k.uuid[:])
	} else {
		h = maphash.String(seed, k.raw)
	}
	return mix(h ^ (uint64(k.typ)<<2|uint64(k.enc))*0x9E3779B97F4A7C15)
}

func mix(h uint64) uint64 {
	h ^= h >> 31
	h *= 0xBF58476D1CE4E5B9
	return h ^ h>>29
}

// parseUUID reports whether v is a canonical UUID in one case
// (8-4-4-4-12 hex digits) and fills u with its bytes.
func parseUUID(v string, u *[16]byte) (uint8, bool) {
	if len(v) != 36 || v[8] != '-' || v[13] != '-' || v[18] != '-' || v[23] != '-' {
		return 0, false
	}
	var seen uint8
	for j, i := range uuidPairs {
		hi, lo := hexDigit[v[i]], hexDigit[v[i+1]]
		seen |= hi | lo
		u[j] = hi<<4 | lo&0xf
	}
	switch {
	case seen&hexBad != 0, seen&(hexLower|hexUpper) == hexLower|hexUpper:
		return 0, false
	case seen&hexUpper != 0:
		return encUUIDUpper, true
	}
	return encUUIDLower, true
}

// uuidPairs are the offsets of a canonical UUID's 16 hex pairs.
var uuidPairs = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// hexDigit maps a byte to its hex value, flagged with its case, or hexBad.
var hexDigit = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= '0' && c <= '9':
			t[c] = uint8(c - '0')
		case c >= 'a' && c <= 'f':
			t[c] = uint8(c-'a'+10) | hexLower
		case c >= 'A' && c <= 'F':
			t[c] = uint8(c-'A'+10) | hexUpper
		default:
			t[c] = hexBad
		}
	}
	return t
}()

const (
	hexLower = 0x10
	hexUpper = 0x20
	hexBad   = 0x40
)

func formatUUID(u []byte, upper bool) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	if upper {
		for i, c := range b {
			if c >= 'a' && c <= 'f' {
				b[i] = c - 'a' + 'A'
			}
		}
	}
	return string(b[:])
}

// arena stores values in fixed-size chunks.
type arena struct {
	chunks [][]byte
}

// add stores k's bytes and returns their offset.
func (a *arena) add(k *key) uint64 {
	n := k.bytesLen()
	switch {
	case len(a.chunks) == 0:
		// Small graphs (tests, dry runs) should not cost a whole chunk; the
		// first one grows by append, which keeps offsets valid.
		a.chunks = append(a.chunks, make([]byte, 0, 4096))
	case len(a.chunks[len(a.chunks)-1])+n > chunkSize:
		a.chunks = append(a.chunks, make([]byte, 0, chunkSize))
	}
	c := len(a.chunks) - 1
	off := uint64(c)<<chunkBits | uint64(len(a.chunks[c]))
	if k.enc != encRaw {
		a.chunks[c] = append(a.chunks[c], k.uuid[:]...)
	} else {
		a.chunks[c] = append(a.chunks[c], k.raw...)
	}
	return off
}

// bytes returns the stored bytes of ref.
func (a *arena) bytes(ref uint64) []byte {
	off := refOff(ref)
	c := a.chunks[off>>chunkBits]
	i := int(off & (chunkSize - 1))
	return c[i : i+refLen(ref)]
}

// value returns the value ref stores, as the caller gave it.
func (a *arena) value(ref uint64) string {
	b := a.bytes(ref)
	switch refEnc(ref) {
	case encUUIDLower:
		return formatUUID(b, false)
	case encUUIDUpper:
		return formatUUID(b, true)
	}
	return string(b)
}

// equal reports whether ref stores k.
func (a *arena) equal(ref uint64, k *key) bool {
	if refType(ref) != k.typ || refEnc(ref) != k.enc || refLen(ref) != k.bytesLen() {
		return false
	}
	b := a.bytes(ref)
	if k.enc != encRaw {
		return string(b) == string(k.uuid[:])
	}
	return string(b) == k.raw
}

// hashRef hashes a stored value the way key.hash hashes the key.
func (a *arena) hashRef(seed maphash.Seed, ref uint64) uint64 {
	h := maphash.Bytes(seed, a.bytes(ref))
	return mix(h ^ (uint64(refType(ref))<<2|uint64(refEnc(ref)))*0x9E3779B97F4A7C15)
}

// nodeTable finds nodes by value: open addressing with linear probing over
// slots holding a node index plus one (zero: empty) in the low half and the
// high half of the value's hash in the high half, so a probe only reads a
// node when the hashes agree. It never deletes: reset nodes stay interned.
type nodeTable struct {
	slots []uint64
	n     int
}

// tableSize returns the slot count a table needs for n entries.
func tableSize(n int) int {
	size := minTableSize
	for size*7 < n*10 {
		size *= 2
	}
	return size
}

func slotOf(h uint64, idx int32) uint64 { return h&^(1<<32-1) | uint64(idx+1) }

// grow doubles the table when it is 80% full (tags keep probing cheap);
// hash gives a node's hash.
func (t *nodeTable) grow(hash func(int32) uint64) {
	if len(t.slots) == 0 {
		t.slots = make([]uint64, minTableSize)
		return
	}
	if t.n*10 < len(t.slots)*8 {
		return
	}
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	for _, s := range old {
		if s != 0 {
			idx := int32(uint32(s)) - 1
			t.place(hash(idx), idx)
		}
	}
}

func (t *nodeTable) place(h uint64, idx int32) {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = slotOf(h, idx)
			return
		}
	}
}

// table is an open-addressing hash set of int32 indices (stored plus one,
// zero meaning empty) with linear probing. The owner supplies hashes and
// equality, so the table stores nothing but the indices.
type table struct {
	slots []int32
	n     int
}

const minTableSize = 1 << 10

// grow doubles the table when it is 70% full; rehash gives each index's hash.
func (t *table) grow(rehash func(int32) uint64) {
	if len(t.slots) == 0 {
		t.slots = make([]int32, minTableSize)
		return
	}
	if t.n*10 < len(t.slots)*7 {
		return
	}
	old := t.slots
	t.slots = make([]int32, 2*len(old))
	for _, s := range old {
		if s != 0 {
			t.place(rehash(s-1), s-1)
		}
	}
}

// place puts idx in the first free slot from h's.
func (t *table) place(h uint64, idx int32) {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = idx + 1
			return
		}
	}
}

// remove deletes idx, whose hash is h, shifting later entries of its probe
// run back so lookups still find them (no tombstones).
func (t *table) remove(h uint64, idx int32, rehash func(int32) uint64) {
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i] != idx+1 {
		if t.slots[i] == 0 {
			return
		}
		i = (i + 1) & mask
	}
	t.n--
	for j := (i + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		home := rehash(t.slots[j]-1) & mask
		// Move slot j into the hole at i unless its home lies cyclically
		// in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = 0
}

// names interns small sets of strings (identifier types, source IDs) as
// indices.
type names struct {
	list  []string
	index map[string]int
}

func (n *names) lookup(s string) (int, bool) {
	i, ok := n.index[s]
	return i, ok
}

func (n *names) add(s string) int {
	if n.index == nil {
		n.index = map[string]int{}
	}
	if i, ok := n.index[s]; ok {
		return i
	}
	n.list = append(n.list, s)
	n.index[s] = len(n.list) - 1
	return len(n.list) - 1
}
