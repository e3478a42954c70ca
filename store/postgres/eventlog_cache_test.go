package postgres

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/eventlog"
)

// cacheRecs returns records from..to with payloads naming their seq.
func cacheRecs(from, to uint64) []eventlog.Record {
	var out []eventlog.Record
	for s := from; s <= to; s++ {
		out = append(out, eventlog.Record{Seq: s, Time: time.Unix(int64(s), 0), Data: fmt.Appendf(nil, "r%03d", s)})
	}
	return out
}

func seqsOf(recs []eventlog.Record) []uint64 {
	var out []uint64
	for _, r := range recs {
		out = append(out, r.Seq)
	}
	return out
}

func TestTailCache(t *testing.T) {
	tests := []struct {
		name         string
		puts         [][2]uint64 // seq ranges put in turn
		maxBytes     int
		after, until uint64
		n            int
		want         []uint64
		wantOK       bool
	}{
		{"hit", [][2]uint64{{1, 10}}, 1 << 20, 3, 10, 100, []uint64{4, 5, 6, 7, 8, 9, 10}, true},
		{"limited by n", [][2]uint64{{1, 10}}, 1 << 20, 0, 10, 3, []uint64{1, 2, 3}, true},
		{"limited by until", [][2]uint64{{1, 10}}, 1 << 20, 0, 2, 100, []uint64{1, 2}, true},
		{"before the cache", [][2]uint64{{5, 10}}, 1 << 20, 2, 10, 100, nil, false},
		{"after the cache", [][2]uint64{{1, 10}}, 1 << 20, 10, 20, 100, nil, false},
		{"consecutive puts", [][2]uint64{{1, 5}, {6, 9}}, 1 << 20, 4, 9, 100, []uint64{5, 6, 7, 8, 9}, true},
		{"overlapping put", [][2]uint64{{1, 5}, {3, 8}}, 1 << 20, 0, 8, 100, []uint64{1, 2, 3, 4, 5, 6, 7, 8}, true},
		{"gap starts anew", [][2]uint64{{1, 5}, {8, 9}}, 1 << 20, 0, 9, 100, nil, false},
		{"gap keeps the new run", [][2]uint64{{1, 5}, {8, 9}}, 1 << 20, 7, 9, 100, []uint64{8, 9}, true},
		{"older page is ignored", [][2]uint64{{5, 9}, {5, 6}}, 1 << 20, 4, 9, 100, []uint64{5, 6, 7, 8, 9}, true},
		{"evicts the oldest beyond maxBytes", [][2]uint64{{1, 10}}, 16, 6, 10, 100, []uint64{7, 8, 9, 10}, true},
		{"evicted is a miss", [][2]uint64{{1, 10}}, 16, 5, 10, 100, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTailCache(tt.maxBytes)
			for _, p := range tt.puts {
				c.put(cacheRecs(p[0], p[1]))
			}
			got, ok := c.get(tt.after, tt.until, tt.n)
			if ok != tt.wantOK || !slices.Equal(seqsOf(got), tt.want) {
				t.Fatalf("get(%d, %d, %d) = %v, %v; want %v, %v", tt.after, tt.until, tt.n, seqsOf(got), ok, tt.want, tt.wantOK)
			}
			for _, r := range got {
				if want := fmt.Appendf(nil, "r%03d", r.Seq); !bytes.Equal(r.Data, want) {
					t.Errorf("record %d has %q, want %q", r.Seq, r.Data, want)
				}
			}
		})
	}
}

// The readers own what they get: changing it changes nothing cached, and
// the caller's records put into the cache are copied too.
func TestTailCacheCopies(t *testing.T) {
	c := newTailCache(1 << 20)
	in := cacheRecs(1, 3)
	c.put(in)
	in[0].Data[0] = 'X'
	got, _ := c.get(0, 3, 10)
	got[1].Data[0] = 'Y'
	again, _ := c.get(0, 3, 10)
	if string(again[0].Data) != "r001" || string(again[1].Data) != "r002" {
		t.Fatalf("cached payloads changed to %q, %q", again[0].Data, again[1].Data)
	}
}

func TestTailCacheMaxAge(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newTailCache(1 << 20)
	c.now = func() time.Time { return now }
	c.put(cacheRecs(1, 3))
	now = now.Add(cacheMaxAge / 2)
	c.put(cacheRecs(4, 5))
	now = now.Add(cacheMaxAge/2 + time.Millisecond)
	if got, ok := c.get(0, 5, 10); ok {
		t.Fatalf("get() of expired records = %v, want a miss", seqsOf(got))
	}
	if got, ok := c.get(3, 5, 10); !ok || !slices.Equal(seqsOf(got), []uint64{4, 5}) {
		t.Fatalf("get() of fresh records = %v, %v; want [4 5], true", seqsOf(got), ok)
	}
}

// A record read (and so cached) before an erasure redacts it is read
// redacted afterwards, and a log without its cache keeps the contract.
func TestLogCacheRedact(t *testing.T) {
	db, _ := openTemp(t)
	t.Cleanup(func() { db.Close() })
	for _, opts := range []LogOptions{{}, {CacheBytes: -1}} {
		l := openLog(t, db, opts)
		first, err := l.Append(t.Context(), [][]byte{[]byte("secret"), []byte("kept")})
		if err != nil {
			t.Fatal(err)
		}
		if recs, err := l.Read(first-1, 0, 0); err != nil || len(recs) != 2 || string(recs[0].Data) != "secret" {
			t.Fatalf("Read() before redaction = %v, %v; want secret, kept", recs, err)
		}
		if _, err := l.Redact([]uint64{first}, func(uint64, []byte) []byte { return []byte("gone") }); err != nil {
			t.Fatal(err)
		}
		recs, err := l.Read(first-1, 0, 0)
		if err != nil || len(recs) != 2 || string(recs[0].Data) != "gone" || string(recs[1].Data) != "kept" {
			t.Fatalf("Read() after redaction (cache %d) = %v, %v; want gone, kept", opts.CacheBytes, recs, err)
		}
		l.Close()
	}
}
