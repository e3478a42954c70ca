package dedupe

import (
	"iter"
	"math/bits"
)

// sealed is a generation that takes no more keys: a past time bucket. It
// packs its keys into one array grouped by their leading bits, with a
// directory of where each group starts. That costs 16 bytes a key plus at
// most 2 for the directory, against 25 to 38 for a Go map, and since most of
// the window is sealed this is most of the index's memory.
//
// Keys are uniformly distributed hashes, so groups hold 2 to 4 keys on
// average and a lookup reads one directory entry and one cache line or two
// of keys.
type sealed struct {
	bucket int64
	keys   []Key    // grouped by prefix() << skip >> shift, in group order
	dir    []uint32 // group g is keys[dir[g]:dir[g+1]]
	skip   uint     // leading bits all keys share, which the directory skips
	shift  uint     // 64 - the number of directory bits
}

// seal builds a sealed generation from the n keys that keys yields. keys is
// iterated twice (count, then place) so no intermediate copy is needed.
func seal(bucket int64, n int, keys iter.Seq[Key]) *sealed {
	return sealSkipping(bucket, n, keys, 0)
}

// sealSkipping is seal for keys whose first skip bits are all the same, as
// in a shard of the current generation (see growing): the directory uses
// the bits after those.
func sealSkipping(bucket int64, n int, keys iter.Seq[Key], skip uint) *sealed {
	dirBits := dirBitsFor(n)
	s := &sealed{
		bucket: bucket,
		keys:   make([]Key, n),
		dir:    make([]uint32, 1<<dirBits+1),
		skip:   skip,
		shift:  uint(64 - dirBits),
	}
	// Counting sort on the group number: count, prefix sums, place.
	for k := range keys {
		s.dir[s.group(k)+1]++
	}
	for g := 1; g < len(s.dir); g++ {
		s.dir[g] += s.dir[g-1]
	}
	next := make([]uint32, len(s.dir)-1)
	copy(next, s.dir)
	for k := range keys {
		g := s.group(k)
		s.keys[next[g]] = k
		next[g]++
	}
	return s
}

// with returns s plus the n keys extra yields, which must not be in s, for
// a total with the same number of directory bits: each group is copied
// whole, and only extra's keys are placed one by one. extra is iterated
// twice.
func (s *sealed) with(n int, extra iter.Seq[Key]) *sealed {
	t := &sealed{
		bucket: s.bucket,
		keys:   make([]Key, len(s.keys)+n),
		dir:    make([]uint32, len(s.dir)),
		skip:   s.skip,
		shift:  s.shift,
	}
	for k := range extra {
		t.dir[t.group(k)+1]++
	}
	next := make([]uint32, len(t.dir)-1)
	for g := range next {
		t.dir[g+1] += t.dir[g] + s.dir[g+1] - s.dir[g]
		next[g] = t.dir[g] + uint32(copy(t.keys[t.dir[g]:], s.keys[s.dir[g]:s.dir[g+1]]))
	}
	for k := range extra {
		g := t.group(k)
		t.keys[next[g]] = k
		next[g]++
	}
	return t
}

// dirBitsFor returns how many leading key bits index the directory for n
// keys: between n/4 and n/2 groups, so 2 to 4 keys a group.
func dirBitsFor(n int) int {
	if n < 8 {
		return 0
	}
	return min(bits.Len(uint(n-1))-2, 30)
}

// group returns the directory slot of k. A shift of 64 yields 0 in Go, which
// is what a one-group directory needs.
func (s *sealed) group(k Key) uint64 {
	return k.prefix() << s.skip >> s.shift
}

// contains reports whether k is in the generation.
func (s *sealed) contains(k Key) bool {
	g := s.group(k)
	for _, c := range s.keys[s.dir[g]:s.dir[g+1]] {
		if c == k {
			return true
		}
	}
	return false
}

// chunkKeys yields the keys of checkpoint chunk blobs, which are
// concatenations of KeySize-byte keys.
func chunkKeys(blobs [][]byte) iter.Seq[Key] {
	return func(yield func(Key) bool) {
		for _, b := range blobs {
			for ; len(b) >= KeySize; b = b[KeySize:] {
				if !yield(Key(b[:KeySize])) {
					return
				}
			}
		}
	}
}
