package collect

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestCache(src Sources) (*SourceCache, *fakeClock) {
	clock := &fakeClock{t: testNow}
	c := NewSourceCache(src, time.Minute)
	c.now = clock.now
	return c, clock
}

func lookup(t *testing.T, c *SourceCache, key string) string {
	t.Helper()
	src, err := c.SourceByWriteKey(context.Background(), key)
	switch {
	case err == nil:
		return src.ID
	case mosaic.ErrorCode(err) == mosaic.ENOTFOUND:
		return "not found"
	}
	return "error"
}

func TestSourceCache(t *testing.T) {
	store := newMemSources(testSource)
	c, clock := newTestCache(store)
	steps := []struct {
		name    string
		do      func()
		key     string
		want    string
		lookups int // store lookups so far
	}{
		{"first lookup asks the store", nil, testKey, "src_1", 1},
		{"second is cached", nil, testKey, "src_1", 1},
		{"misses are asked once", nil, "other", "not found", 2},
		{"and then cached", nil, "other", "not found", 2},
		{"a source created meanwhile is seen after the TTL", func() {
			store.add(&mosaic.Source{ID: "src_2", WriteKey: "other"})
			clock.t = clock.t.Add(time.Minute)
		}, "other", "src_2", 3},
		{"a deleted source is cached until the TTL", func() { store.delete(testKey) }, testKey, "not found", 4},
		{"invalidate forgets at once", func() {
			store.add(testSource)
			c.Invalidate(testKey)
		}, testKey, "src_1", 5},
		{"invalidate all", func() {
			store.delete("other")
			c.InvalidateAll()
		}, "other", "not found", 6},
		{"errors are not cached", func() { store.fail = errors.New("down") }, "new", "error", 7},
		{"and the next lookup retries", func() { store.fail = nil }, "new", "not found", 8},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		if got := lookup(t, c, s.key); got != s.want {
			t.Fatalf("%s: lookup(%q) = %s, want %s", s.name, s.key, got, s.want)
		}
		if got := store.count(); got != s.lookups {
			t.Fatalf("%s: store lookups = %d, want %d", s.name, got, s.lookups)
		}
	}
}

// racingSources deletes the key and invalidates the cache while a lookup is
// in flight, as the admin API may do.
type racingSources struct {
	*memSources
	cache *SourceCache
}

func (r *racingSources) SourceByWriteKey(ctx context.Context, key string) (*mosaic.Source, error) {
	src, err := r.memSources.SourceByWriteKey(ctx, key)
	r.memSources.delete(key)
	r.cache.Invalidate(key)
	return src, err
}

func TestSourceCacheInvalidateDuringLookup(t *testing.T) {
	rs := &racingSources{memSources: newMemSources(testSource)}
	c, _ := newTestCache(rs)
	rs.cache = c
	if got := lookup(t, c, testKey); got != "src_1" {
		t.Fatalf("lookup = %s, want src_1 (the answer of the time)", got)
	}
	if got := lookup(t, c, testKey); got != "not found" {
		t.Fatalf("lookup after an invalidation that raced = %s, want not found: a stale answer was cached", got)
	}
}

func TestSourceCacheBounded(t *testing.T) {
	store := newMemSources()
	c, _ := newTestCache(store)
	for i := range maxCacheEntries + 10 {
		lookup(t, c, fmt.Sprintf("random-%d", i))
	}
	if n := len(c.entries); n > maxCacheEntries {
		t.Errorf("cache holds %d entries, want at most %d", n, maxCacheEntries)
	}
}
