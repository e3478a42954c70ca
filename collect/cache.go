package collect

import (
	"context"
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// DefaultCacheTTL is how long SourceCache trusts an answer. It bounds how
// long a key keeps working after its source is deleted by anything that
// does not call Invalidate (the admin API does call it, so there the key
// stops at once), and how long a new key stays refused if it was tried
// before it existed.
const DefaultCacheTTL = 5 * time.Second

// maxCacheEntries bounds the cache, so a client trying many random keys
// cannot grow it without limit.
const maxCacheEntries = 10000

// SourceCache remembers write-key lookups for a short time, hits and misses
// alike, so the Tracking API's hot path does not query the store for every
// request and a flood of wrong keys costs one query per key per TTL. It
// implements Sources and is safe for concurrent use. Returned sources are
// shared: callers must not modify them.
type SourceCache struct {
	src Sources
	ttl time.Duration
	now func() time.Time

	mu      sync.RWMutex
	gen     uint64 // bumped by every invalidation
	entries map[string]cacheEntry
}

type cacheEntry struct {
	src     *mosaic.Source // nil: no such key
	expires time.Time
}

// NewSourceCache returns a cache in front of src that trusts each answer for
// ttl (DefaultCacheTTL if ttl <= 0).
func NewSourceCache(src Sources, ttl time.Duration) *SourceCache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &SourceCache{src: src, ttl: ttl, now: time.Now, entries: make(map[string]cacheEntry)}
}

// SourceByWriteKey returns the active source with that write key, from the
// cache if the answer is younger than the TTL. Like Sources, it returns a
// *mosaic.Error with ENOTFOUND for an unknown key. Other errors are not
// cached.
func (c *SourceCache) SourceByWriteKey(ctx context.Context, key string) (*mosaic.Source, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[key]
	gen := c.gen
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.found()
	}
	src, err := c.src.SourceByWriteKey(ctx, key)
	if err != nil && mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// An Invalidate that ran while we asked the store may have been about
	// this key: our answer could be stale, so do not keep it.
	if c.gen == gen {
		c.put(key, cacheEntry{src: src, expires: now.Add(c.ttl)}, now)
	}
	return src, err
}

func (e cacheEntry) found() (*mosaic.Source, error) {
	if e.src == nil {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No active source has this write key.")
	}
	return e.src, nil
}

// put stores an entry, first making room if the cache is full: expired
// entries go, and if that is not enough, everything does.
func (c *SourceCache) put(key string, e cacheEntry, now time.Time) {
	if len(c.entries) >= maxCacheEntries {
		for k, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCacheEntries {
			clear(c.entries)
		}
	}
	c.entries[key] = e
}

// Invalidate forgets what the cache knows about a write key. Call it when a
// source is deleted (or its key changes) so the key stops working at once.
func (c *SourceCache) Invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, key)
}

// InvalidateAll forgets everything, e.g. after sources were changed in bulk.
func (c *SourceCache) InvalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}
