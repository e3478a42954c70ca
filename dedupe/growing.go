package dedupe

import (
	"encoding/binary"
	"iter"
	"math/bits"
)

// growing is the current generation: the one that takes new keys. A Go map
// would cost 25 to 38 bytes a key and grows by doubling; this set keeps most
// of its keys packed as sealed generations are (16 bytes a key plus the
// directory) and only the newest in small hash tables.
//
// Keys are split into 256 shards by their first byte. Each shard is a
// packed part (a sealed, with a directory over the bits after that byte)
// plus a delta: an open-addressing table of the keys added since the shard
// was last packed. When the delta holds an eighth of the packed part (or
// minDelta keys, for small shards), the shard is packed again with the
// delta's keys. So the deltas hold at most about a ninth of the keys,
// repacking copies each key about eight times (mostly whole groups at
// once), and since a shard is a 256th of the generation, the memory a
// repack needs on top of the set is small.
type growing struct {
	shards   [growShards]growShard
	n        int
	zero     bool // the all-zero key, which marks empty delta slots, is in the set
	minDelta int
}

// growShard is one shard of a growing set.
type growShard struct {
	packed *sealed // nil until first packed
	delta  []Key   // linear probing, a power of two long; zero is empty
	used   int     // keys in delta
}

const (
	growShardBits = 8
	growShards    = 1 << growShardBits
	// deltaFraction: a shard is repacked when its delta holds this
	// fraction (1/deltaFraction) of its packed keys.
	deltaFraction = 8
	// defaultMinDelta is the delta size below which a shard is never
	// repacked, which keeps small sets from repacking on every few keys.
	defaultMinDelta = 64
)

func newGrowing(minDelta int) *growing {
	return &growing{minDelta: max(minDelta, 1)}
}

func (g *growing) shard(k Key) *growShard {
	return &g.shards[k[0]]
}

// slot is where k's probe sequence starts in a table of mask+1 slots. Keys
// are uniform hashes already, so their last bytes serve as the hash.
func slot(k Key, mask int) int {
	return int(binary.LittleEndian.Uint64(k[8:]) & uint64(mask))
}

// has reports whether k is in the set.
func (g *growing) has(k Key) bool {
	if k == (Key{}) {
		return g.zero
	}
	sh := g.shard(k)
	if mask := len(sh.delta) - 1; mask >= 0 {
		for i := slot(k, mask); sh.delta[i] != (Key{}); i = (i + 1) & mask {
			if sh.delta[i] == k {
				return true
			}
		}
	}
	return sh.packed != nil && sh.packed.contains(k)
}

// add puts k, which the caller knows is not in the set, into it.
func (g *growing) add(k Key) {
	g.n++
	if k == (Key{}) {
		g.zero = true
		return
	}
	sh := g.shard(k)
	limit := sh.limit(g.minDelta)
	if sh.delta == nil {
		sh.delta = make([]Key, tableSize(limit))
	}
	mask := len(sh.delta) - 1
	i := slot(k, mask)
	for sh.delta[i] != (Key{}) {
		i = (i + 1) & mask
	}
	sh.delta[i] = k
	if sh.used++; sh.used >= limit {
		sh.repack(g.minDelta)
	}
}

// limit is how many keys the shard's delta takes before a repack.
func (sh *growShard) limit(minDelta int) int {
	packed := 0
	if sh.packed != nil {
		packed = len(sh.packed.keys)
	}
	return max(minDelta, packed/deltaFraction)
}

// tableSize is the delta table length for limit keys: a power of two that
// keeps the table at most three quarters full.
func tableSize(limit int) int {
	return 1 << bits.Len(uint(limit*4/3))
}

// repack moves the delta's keys into the packed part: group by group when
// the directory keeps its size, from scratch when it doubles. The emptied
// table is kept for the keys to come unless the shard now needs a larger
// one.
func (sh *growShard) repack(minDelta int) {
	n := sh.used
	if sh.packed != nil && dirBitsFor(n+len(sh.packed.keys)) == dirBitsFor(len(sh.packed.keys)) {
		sh.packed = sh.packed.with(n, sh.deltaKeys())
	} else {
		var old []Key
		if sh.packed != nil {
			old = sh.packed.keys
			n += len(old)
		}
		keys := func(yield func(Key) bool) {
			for _, k := range old {
				if !yield(k) {
					return
				}
			}
			sh.deltaKeys()(yield)
		}
		sh.packed = sealSkipping(0, n, keys, growShardBits)
	}
	sh.used = 0
	if size := tableSize(sh.limit(minDelta)); size > len(sh.delta) {
		sh.delta = make([]Key, size)
	} else {
		clear(sh.delta)
	}
}

// deltaKeys yields the keys in the shard's delta table.
func (sh *growShard) deltaKeys() iter.Seq[Key] {
	return func(yield func(Key) bool) {
		for _, k := range sh.delta {
			if k != (Key{}) && !yield(k) {
				return
			}
		}
	}
}

// len returns the number of keys in the set.
func (g *growing) len() int { return g.n }

// all yields every key of the set, in no particular order.
func (g *growing) all() iter.Seq[Key] {
	return func(yield func(Key) bool) {
		if g.zero && !yield(Key{}) {
			return
		}
		for i := range g.shards {
			sh := &g.shards[i]
			if sh.packed != nil {
				for _, k := range sh.packed.keys {
					if !yield(k) {
						return
					}
				}
			}
			for k := range sh.deltaKeys() {
				if !yield(k) {
					return
				}
			}
		}
	}
}
