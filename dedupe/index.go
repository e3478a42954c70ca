package dedupe

import (
	"fmt"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// Options configure an Index.
type Options struct {
	// Window is how long a message is remembered: a copy received less than
	// Window after the first is always a duplicate. Default 7 days, the
	// window Mosaic promises. Raise it to catch SDK retries from clients
	// offline for longer, at the cost of memory proportional to the keys in
	// the window.
	Window time.Duration
	// Buckets is how many generations the window is split into. Default 7
	// (one a day). Expiry drops a whole generation, so a key may be
	// remembered up to Window/Buckets longer than Window; more buckets make
	// that margin smaller and lookups a little slower.
	Buckets int
}

// DefaultOptions returns the options Mosaic runs with.
func DefaultOptions() Options {
	return Options{Window: 7 * 24 * time.Hour, Buckets: 7}
}

// Index remembers message keys over a time window. It is not safe for
// concurrent use: the engine's dedupe stage owns it.
//
// Time is the server's receivedAt of events, never client timestamps. The
// index's clock is the newest receivedAt of any key it recorded; a key is
// recorded in the generation of the clock, and generations more than Buckets
// behind the clock are dropped. Seen on a key recorded at clock c, for an
// event received at t, reports a duplicate exactly when the generation of c
// is at most Buckets behind the generation of max(clock, t). Hence a copy
// within Window of the first is always a duplicate, and one more than Window
// plus one bucket later never is.
//
// Only recording a key changes the state, and every change reaches the next
// Pending chunk, so Load rebuilds exactly the state that was checkpointed.
type Index struct {
	width   int64 // nanoseconds per bucket
	buckets int64 // generations kept behind the current one

	clock   int64 // UnixNano of the newest recorded key; valid if started
	started bool

	curBucket int64
	cur       *growing  // the current generation
	sealed    []*sealed // oldest first, all older than curBucket
	minDelta  int       // for new current generations; see growing

	pending []byte // keys recorded since the last Pending, concatenated
}

// New returns an empty index. Zero or negative options take their defaults.
func New(opts Options) *Index {
	return newIndex(opts, defaultMinDelta)
}

// newIndex is New with the current generation's repacking threshold, which
// tests lower to exercise repacking with few keys.
func newIndex(opts Options, minDelta int) *Index {
	def := DefaultOptions()
	if opts.Window <= 0 {
		opts.Window = def.Window
	}
	if opts.Buckets <= 0 {
		opts.Buckets = def.Buckets
	}
	return &Index{
		width:    max(int64(opts.Window)/int64(opts.Buckets), 1),
		buckets:  int64(opts.Buckets),
		cur:      newGrowing(minDelta),
		minDelta: minDelta,
	}
}

// Seen reports whether k was recorded within the window before receivedAt.
// If not, it records k and returns false.
func (x *Index) Seen(k Key, receivedAt time.Time) bool {
	t := receivedAt.UnixNano()
	now := x.bucketOf(t)
	if x.started {
		now = max(now, x.curBucket)
	}
	if x.contains(k, now-x.buckets) {
		return true
	}
	if !x.started || t > x.clock {
		x.advance(t)
	}
	x.cur.add(k)
	x.pending = append(x.pending, k[:]...)
	return false
}

// contains reports whether k is in a generation at or after bucket oldest.
// The newest generations are searched first: that is where retries land.
func (x *Index) contains(k Key, oldest int64) bool {
	if !x.started {
		return false
	}
	if x.curBucket >= oldest && x.cur.has(k) {
		return true
	}
	for i := len(x.sealed) - 1; i >= 0 && x.sealed[i].bucket >= oldest; i-- {
		if x.sealed[i].contains(k) {
			return true
		}
	}
	return false
}

// advance moves the clock forward to t, sealing the current generation and
// dropping expired ones when t falls in a later bucket.
func (x *Index) advance(t int64) {
	b := x.bucketOf(t)
	x.clock = t
	if x.started && b == x.curBucket {
		return
	}
	if x.started && x.cur.len() > 0 {
		x.sealed = append(x.sealed, seal(x.curBucket, x.cur.len(), x.cur.all()))
		x.cur = newGrowing(x.minDelta)
	}
	x.started = true
	x.curBucket = b
	x.dropBefore(b - x.buckets)
}

// dropBefore forgets the sealed generations older than bucket oldest.
func (x *Index) dropBefore(oldest int64) {
	n := 0
	for n < len(x.sealed) && x.sealed[n].bucket < oldest {
		x.sealed[n] = nil // let the collector have it before the slice moves on
		n++
	}
	x.sealed = x.sealed[n:]
}

// MustFlush reports whether keys are pending and recording a key received at
// receivedAt would open a new generation. The caller must then checkpoint
// (call Pending and save it) before calling Seen, so that every chunk belongs
// to one generation and Load puts its keys back where they were.
func (x *Index) MustFlush(receivedAt time.Time) bool {
	return len(x.pending) > 0 && x.bucketOf(receivedAt.UnixNano()) > x.curBucket
}

// Pending returns the keys recorded since the last call as a checkpoint
// chunk, and starts a new one. Newest is the index's clock, the receivedAt of
// the newest key recorded so far, which places the chunk in its generation
// on Load. The caller owns the returned Keys.
func (x *Index) Pending() store.DedupeChunk {
	c := store.DedupeChunk{Keys: x.pending}
	if x.started {
		c.Newest = time.Unix(0, x.clock).UTC()
	}
	// The next chunk likely holds about as many keys: sizing it so spares
	// the dedupe stage regrowing (and copying) it from nothing each time.
	x.pending = make([]byte, 0, len(c.Keys))
	return c
}

// KeepSince returns the oldest time a chunk's Newest can have and still hold
// live keys: older chunks can be deleted, and loading every chunk at or after
// it rebuilds the index. Zero if the index holds nothing yet.
func (x *Index) KeepSince() time.Time {
	if !x.started {
		return time.Time{}
	}
	return time.Unix(0, (x.curBucket-x.buckets)*x.width).UTC()
}

// Len returns the number of keys the index holds.
func (x *Index) Len() int {
	n := x.cur.len()
	for _, s := range x.sealed {
		n += len(s.keys)
	}
	return n
}

// Load replaces the index's state with the one the chunks were checkpointed
// from, in any order. Chunks whose keys have expired are ignored. It fails,
// leaving the index empty, if a chunk is not a whole number of keys.
func (x *Index) Load(chunks []store.DedupeChunk) error {
	*x = Index{width: x.width, buckets: x.buckets, cur: newGrowing(x.minDelta), minDelta: x.minDelta}
	byBucket := make(map[int64][][]byte)
	counts := make(map[int64]int)
	for i, c := range chunks {
		if len(c.Keys)%KeySize != 0 {
			return fmt.Errorf("dedupe: load chunk %d of %d: %d bytes is not a whole number of %d-byte keys; the checkpoint is corrupt: restore the store from a backup", i+1, len(chunks), len(c.Keys), KeySize)
		}
		if c.Newest.IsZero() {
			continue // saved before any key was recorded
		}
		t := c.Newest.UnixNano()
		if !x.started || t > x.clock {
			x.clock, x.started = t, true
		}
		b := x.bucketOf(t)
		byBucket[b] = append(byBucket[b], c.Keys)
		counts[b] += len(c.Keys) / KeySize
	}
	if !x.started {
		return nil
	}
	x.curBucket = x.bucketOf(x.clock)
	for b := x.curBucket - x.buckets; b < x.curBucket; b++ {
		if counts[b] > 0 {
			x.sealed = append(x.sealed, seal(b, counts[b], chunkKeys(byBucket[b])))
		}
	}
	for k := range chunkKeys(byBucket[x.curBucket]) {
		if !x.cur.has(k) {
			x.cur.add(k)
		}
	}
	return nil
}

// bucketOf returns the bucket of a UnixNano time, rounding down also before
// 1970.
func (x *Index) bucketOf(t int64) int64 {
	b := t / x.width
	if t%x.width < 0 {
		b--
	}
	return b
}

// Restore puts back the keys of a chunk from Pending that could not be
// saved, ahead of any recorded since, so the next Pending holds them again.
func (x *Index) Restore(c store.DedupeChunk) {
	x.pending = append(c.Keys, x.pending...)
}
