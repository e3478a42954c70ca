package eventlog

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkAppend measures durable appends: each op is one Append of a batch,
// from several goroutines at once so that group commit has work to share.
// The 32 × 100 × 750 B case is the ingest path's target shape. The cases
// with 4 MiB segments rotate often enough that most commits go into
// prepared segments, as they do on a busy server; with the default 64 MiB
// a short run stays in the first segment, which is created, not prepared.
func BenchmarkAppend(b *testing.B) {
	cases := []struct {
		goroutines, batch, size int
		segment                 int64
	}{
		{32, 100, 750, 0},
		{1, 100, 750, 0},
		{64, 1, 750, 0},
		{32, 100, 750, 4 << 20},
		{64, 1, 750, 4 << 20},
	}
	for _, c := range cases {
		name := fmt.Sprintf("goroutines=%d/batch=%d/size=%d", c.goroutines, c.batch, c.size)
		if c.segment != 0 {
			name += fmt.Sprintf("/segment=%dMiB", c.segment>>20)
		}
		b.Run(name, func(b *testing.B) {
			l := openLog(b, b.TempDir(), Options{SegmentSize: c.segment})
			batch := batchOf(1, c.batch, c.size)
			b.SetBytes(int64(c.batch * c.size))
			b.ReportAllocs()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range c.goroutines {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := l.Append(context.Background(), batch); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N*c.batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// benchLog is a log of n 750-byte records shared by the read benchmarks.
func benchLog(b *testing.B, n int) *Log {
	b.Helper()
	l := openLog(b, b.TempDir(), Options{})
	for first := uint64(1); first <= uint64(n); first += 1000 {
		if _, err := l.Append(context.Background(), batchOf(first, 1000, 750)); err != nil {
			b.Fatal(err)
		}
	}
	return l
}

// BenchmarkScan measures reading the whole log in order, as a replay does;
// one op is one record.
func BenchmarkScan(b *testing.B) {
	const n = 100_000
	l := benchLog(b, n)
	b.SetBytes(750)
	b.ReportAllocs()
	b.ResetTimer()
	seen := 0
	for seen < b.N {
		err := l.Scan(0, func(r Record) error {
			if seen++; seen >= b.N {
				return errStop
			}
			return nil
		})
		if err != nil && err != errStop {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReadPage measures Read of 100 records at a random position, as
// the events API pages through the log; one op is one page.
func BenchmarkReadPage(b *testing.B) {
	const n = 100_000
	l := benchLog(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		after := uint64(i*7919) % (n - 100)
		recs, err := l.Read(after, 100, 0)
		if err != nil || len(recs) != 100 {
			b.Fatalf("Read(%d) = %d records, %v", after, len(recs), err)
		}
	}
}

// BenchmarkOpen measures recovery after a restart: Open reads the last
// segment whole (here a full 64 MiB one) and checks the others' headers.
func BenchmarkOpen(b *testing.B) {
	l := benchLog(b, 86_000) // 86,000 × 774 B: one segment of almost 64 MiB
	dir := l.dir
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(l.Size())
	b.ResetTimer()
	for range b.N {
		l, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
