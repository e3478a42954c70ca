package postgres

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkLogAppend measures durable appends of 750-byte events in batches
// of 100 from 16 concurrent callers (as /v1/batch requests are), with COPY
// (rows of up to rowMaxRecords records, and one record per row as before
// migration 00014) and with a multi-row INSERT, from one node and from two nodes (two stores
// on one schema) at once. b.N counts events.
func BenchmarkLogAppend(b *testing.B) {
	for _, nodes := range []int{1, 2} {
		for _, mode := range []string{"copy", "copy-row1", "insert"} {
			b.Run(fmt.Sprintf("nodes=%d/%s", nodes, mode), func(b *testing.B) {
				db, u := openTemp(b)
				b.Cleanup(func() { db.Close() })
				logs := []*Log{benchLog(b, db, mode)}
				if nodes == 2 {
					db2, err := Open(context.Background(), u, Options{})
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { db2.Close() })
					logs = append(logs, benchLog(b, db2, mode))
				}
				batch := make([][]byte, 100)
				for i := range batch {
					batch[i] = bytes.Repeat([]byte("x"), 750)
				}
				b.SetBytes(750)
				b.ResetTimer()
				b.SetParallelism(8) // 16 callers on 2 cores
				var next atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					l := logs[next.Add(1)%int64(len(logs))]
					for {
						n := 0
						for n < len(batch) && pb.Next() {
							n++
						}
						if n == 0 {
							return
						}
						if _, err := l.Append(context.Background(), batch[:n]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

func benchLog(b *testing.B, db *DB, mode string) *Log {
	l, err := db.OpenLog(context.Background(), LogOptions{})
	if err != nil {
		b.Fatal(err)
	}
	l.insert = mode == "insert"
	if mode == "copy-row1" {
		l.rowMax = 1
	}
	b.Cleanup(func() { l.Close() })
	return l
}
