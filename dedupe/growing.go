package dedupe

import "iter"

// growing is the current generation: the one that takes new keys. A Go map
// would cost 25 to 40 bytes a key and grows by doubling; this set keeps most
// of its keys packed as sealed generations are (16 bytes a key plus the
// directory) and only the newest in small maps.
//
// Keys are split into 256 shards by their first byte. Each shard is a
// packed part (a sealed, with a directory over the bits after that byte)
// plus a delta map of the keys added since it was last packed. When the
// delta reaches an eighth of the packed part (or minDelta keys, for small
// shards), the shard is packed again with the delta's keys. So the maps
// hold at most about a ninth of the keys, repacking costs about eight key
// copies per key added, and since a shard is a 256th of the generation, the
// memory a repack needs on top of the set is small.
type growing struct {
	shards   [growShards]growShard
	n        int
	minDelta int
}

// growShard is one shard of a growing set.
type growShard struct {
	packed *sealed // nil until first packed
	delta  map[Key]struct{}
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

// has reports whether k is in the set.
func (g *growing) has(k Key) bool {
	sh := g.shard(k)
	if _, ok := sh.delta[k]; ok {
		return true
	}
	return sh.packed != nil && sh.packed.contains(k)
}

// add puts k, which the caller knows is not in the set, into it.
func (g *growing) add(k Key) {
	sh := g.shard(k)
	if sh.delta == nil {
		sh.delta = make(map[Key]struct{})
	}
	sh.delta[k] = struct{}{}
	g.n++
	packed := 0
	if sh.packed != nil {
		packed = len(sh.packed.keys)
	}
	if len(sh.delta) >= max(g.minDelta, packed/deltaFraction) {
		sh.repack()
	}
}

// repack moves the delta's keys into the packed part: group by group when
// the directory keeps its size, from scratch when it doubles. The delta map
// is cleared, not dropped, so it keeps its room for the keys to come.
func (sh *growShard) repack() {
	n := len(sh.delta)
	var old []Key
	if sh.packed != nil {
		old = sh.packed.keys
		n += len(old)
		if dirBitsFor(n) == dirBitsFor(len(old)) {
			sh.packed = sh.packed.with(sh.delta)
			clear(sh.delta)
			return
		}
	}
	keys := func(yield func(Key) bool) {
		for _, k := range old {
			if !yield(k) {
				return
			}
		}
		for k := range sh.delta {
			if !yield(k) {
				return
			}
		}
	}
	sh.packed = sealSkipping(0, n, keys, growShardBits)
	clear(sh.delta)
}

// len returns the number of keys in the set.
func (g *growing) len() int { return g.n }

// all yields every key of the set, in no particular order.
func (g *growing) all() iter.Seq[Key] {
	return func(yield func(Key) bool) {
		for i := range g.shards {
			sh := &g.shards[i]
			if sh.packed != nil {
				for _, k := range sh.packed.keys {
					if !yield(k) {
						return
					}
				}
			}
			for k := range sh.delta {
				if !yield(k) {
					return
				}
			}
		}
	}
}
