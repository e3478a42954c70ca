package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/eventlog/logtest"
)

func TestLogContract(t *testing.T) {
	for _, mode := range []struct {
		name   string
		insert bool
		cache  int
	}{{"copy", false, 0}, {"insert", true, 0}, {"copy-without-cache", false, -1}} {
		t.Run(mode.name, func(t *testing.T) {
			logtest.Run(t, func(t *testing.T) logtest.Log {
				db, _ := openTemp(t)
				t.Cleanup(func() { db.Close() })
				l := openLog(t, db, LogOptions{CacheBytes: mode.cache})
				l.insert = mode.insert
				return l
			})
		})
	}
}

// openLog opens db's event log, closed when t ends.
func openLog(t *testing.T, db *DB, opts LogOptions) *Log {
	t.Helper()
	l, err := db.OpenLog(t.Context(), opts)
	if err != nil {
		t.Fatalf("OpenLog() = %v, want nil", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestLogNodes appends from two stores on one schema, as two nodes do:
// sequence numbers stay dense across both, each batch in one piece, and
// each node sees the other's records.
func TestLogNodes(t *testing.T) {
	db1, u := openTemp(t)
	t.Cleanup(func() { db1.Close() })
	db2 := reopen(t, u)
	logs := []*Log{openLog(t, db1, LogOptions{PollInterval: 5 * time.Millisecond}), openLog(t, db2, LogOptions{PollInterval: 5 * time.Millisecond})}
	const batches, size = 50, 10
	var wg sync.WaitGroup
	firsts := make([][]uint64, 2)
	for n, l := range logs {
		wg.Go(func() {
			for b := range batches {
				batch := make([][]byte, size)
				for k := range batch {
					batch[k] = fmt.Appendf(nil, "n%d b%d k%d", n, b, k)
				}
				first, err := l.Append(context.Background(), batch)
				if err != nil {
					t.Errorf("node %d Append = %v", n, err)
					return
				}
				firsts[n] = append(firsts[n], first)
			}
		})
	}
	wg.Wait()
	const total = 2 * batches * size
	for n, l := range logs {
		if err := l.Wait(t.Context(), total-1); err != nil {
			t.Fatalf("node %d Wait(%d) = %v", n, total-1, err)
		}
		recs, err := l.Read(0, 0, 0)
		if err != nil || len(recs) != total {
			t.Fatalf("node %d Read(0) = %d records, %v, want %d", n, len(recs), err, total)
		}
		for i, r := range recs {
			if r.Seq != uint64(i+1) {
				t.Fatalf("node %d record %d has seq %d, want %d", n, i, r.Seq, i+1)
			}
		}
		for other, fs := range firsts {
			for b, first := range fs {
				if want := fmt.Sprintf("n%d b%d k%d", other, b, size-1); string(recs[first-1+size-1].Data) != want {
					t.Errorf("node %d: seq %d = %q, want %q", n, first+size-1, recs[first-1+size-1].Data, want)
				}
			}
		}
	}
}

// TestLogRetention drops whole partitions by append time, keeps the one
// with the newest record, and moves FirstSeq.
func TestLogRetention(t *testing.T) {
	db, _ := openTemp(t)
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	l := openLog(t, db, LogOptions{PartitionSpan: time.Hour, Now: clock})
	for i := range 4 { // 10:00, 11:00, 12:00 and, three hours on, 13:00
		set(time.Date(2026, 3, 1, 10+i, 30, 0, 0, time.UTC))
		if _, err := l.Append(t.Context(), [][]byte{fmt.Appendf(nil, "a%d", i), fmt.Appendf(nil, "b%d", i)}); err != nil {
			t.Fatalf("Append at %v = %v", now, err)
		}
	}
	tests := []struct {
		before      time.Time
		wantDropped int
		wantFirst   uint64
	}{
		{time.Date(2026, 3, 1, 10, 59, 0, 0, time.UTC), 0, 1},
		{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 2, 5},
		{time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), 1, 7}, // never the newest record's
	}
	for _, tt := range tests {
		n, err := l.RemoveBefore(t.Context(), tt.before)
		if err != nil || n != tt.wantDropped || l.FirstSeq() != tt.wantFirst {
			t.Errorf("RemoveBefore(%v) = %d, %v, FirstSeq %d; want %d, nil, FirstSeq %d", tt.before, n, err, l.FirstSeq(), tt.wantDropped, tt.wantFirst)
		}
	}
	recs, err := l.Read(0, 0, 0)
	if err != nil || len(recs) != 2 || recs[0].Seq != 7 {
		t.Errorf("Read(0) after retention = %v, %v, want seqs 7 and 8", recs, err)
	}
	if first, err := l.Append(t.Context(), [][]byte{[]byte("c")}); first != 9 || err != nil {
		t.Errorf("Append after retention = %d, %v, want 9, nil", first, err)
	}
}

// TestLogTooLarge refuses a record over MaxRecordSize and writes nothing.
func TestLogTooLarge(t *testing.T) {
	db, _ := openTemp(t)
	t.Cleanup(func() { db.Close() })
	l := openLog(t, db, LogOptions{MaxRecordSize: 10})
	if _, err := l.Append(t.Context(), [][]byte{[]byte("ok"), make([]byte, 11)}); !errors.Is(err, eventlog.ErrTooLarge) {
		t.Errorf("Append(11 bytes) = %v, want ErrTooLarge", err)
	}
	if l.LastSeq() != 0 {
		t.Errorf("LastSeq() = %d, want 0", l.LastSeq())
	}
}
