package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// BenchmarkSaveDedupe saves one dedupe commit per iteration, each with a
// chunk of 100k 16-byte keys (the size the dedupe stage's keys are expected
// to have), 100 duplicates and three sources' counters, expiring all but
// the last eight chunks as a long-running store would.
func BenchmarkSaveDedupe(b *testing.B) {
	const keys, keySize, kept = 100_000, 16, 8
	db, _ := openTemp(b)
	defer db.Close()
	ctx := context.Background()
	chunk := make([]byte, keys*keySize)
	rand.Read(chunk)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	counts := map[string]store.Increment{"s1": {Stored: 9000, Duplicates: 30}, "s2": {Stored: 900}, "s3": {Stored: 100}}
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for i := range b.N {
		seq := uint64(i+1) * keys
		dups := make([]uint64, 100)
		for j := range dups {
			dups[j] = seq - uint64(j)
		}
		c := &store.DedupeCommit{
			Seq:          seq,
			Chunk:        store.DedupeChunk{Newest: start.Add(time.Duration(i) * time.Minute), Keys: chunk},
			Duplicates:   dups,
			Counts:       counts,
			ExpireBefore: start.Add(time.Duration(i-kept) * time.Minute),
		}
		if err := db.SaveDedupe(ctx, c); err != nil {
			b.Fatalf("SaveDedupe() = %v", err)
		}
	}
	b.ReportMetric(float64(b.N)*keys/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkDedupeCheckpoint reads back eight 100k-key chunks, what a
// restarting dedupe stage loads.
func BenchmarkDedupeCheckpoint(b *testing.B) {
	const chunks, keys, keySize = 8, 100_000, 16
	db, _ := openTemp(b)
	defer db.Close()
	ctx := context.Background()
	keysBlob := make([]byte, keys*keySize)
	rand.Read(keysBlob)
	for i := range chunks {
		c := &store.DedupeCommit{Seq: uint64(i + 1), Chunk: store.DedupeChunk{Newest: time.Now(), Keys: keysBlob}}
		if err := db.SaveDedupe(ctx, c); err != nil {
			b.Fatalf("SaveDedupe() = %v", err)
		}
	}
	b.SetBytes(chunks * keys * keySize)
	b.ResetTimer()
	for range b.N {
		if _, got, err := db.DedupeCheckpoint(ctx, time.Time{}); err != nil || len(got) != chunks {
			b.Fatalf("DedupeCheckpoint() = %d chunks, %v; want %d, nil", len(got), err, chunks)
		}
	}
}

// BenchmarkAddRejected quarantines batches of ~700-byte events, the size of
// a typical Segment message.
func BenchmarkAddRejected(b *testing.B) {
	raw := []byte(`{"type":"track","event":` + strings.Repeat("x", 680) + `}`)
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			db, _ := openTemp(b)
			defer db.Close()
			ctx := context.Background()
			if err := db.CreateSource(ctx, &mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk1"}); err != nil {
				b.Fatalf("CreateSource() = %v", err)
			}
			now := time.Now()
			b.SetBytes(int64(size * len(raw)))
			b.ResetTimer()
			for range b.N {
				batch := make([]*mosaic.Rejected, size)
				for j := range batch {
					batch[j] = &mosaic.Rejected{SourceID: "s1", ReceivedAt: now, Index: j, Code: mosaic.EINVALIDJSON,
						Reason: "The event is not JSON: check the sender.", Raw: raw}
				}
				if err := db.AddRejected(ctx, batch); err != nil {
					b.Fatalf("AddRejected() = %v", err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
