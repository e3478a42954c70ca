// Package logtest is the contract test suite of Mosaic's event logs: the
// embedded segment log (package eventlog) and the PostgreSQL one (package
// store/postgres) must both pass it, so the engine and the Tracking API can
// rely on the same behaviour from either.
package logtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/eventlog"
)

// Log is the part of an event log the suite checks: what the engine and the
// Tracking API use.
type Log interface {
	Append(ctx context.Context, records [][]byte) (first uint64, err error)
	LastSeq() uint64
	Read(after uint64, maxRecords int, maxBytes int) ([]eventlog.Record, error)
	Scan(after uint64, fn func(eventlog.Record) error) error
	Wait(ctx context.Context, after uint64) error
}

// Run runs the suite. open returns an empty log, which it closes when t
// ends.
func Run(t *testing.T, open func(t *testing.T) Log) {
	tests := []struct {
		name string
		fn   func(t *testing.T, l Log)
	}{
		{"Empty", testEmpty},
		{"AppendRead", testAppendRead},
		{"ReadLimits", testReadLimits},
		{"Scan", testScan},
		{"Wait", testWait},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func rec(i int) []byte { return fmt.Appendf(nil, "record %d", i) }

// appendN appends records from..to-1 in one call and checks the returned
// first sequence number.
func appendN(t *testing.T, l Log, from, to int, wantFirst uint64) {
	t.Helper()
	var batch [][]byte
	for i := from; i < to; i++ {
		batch = append(batch, rec(i))
	}
	first, err := l.Append(t.Context(), batch)
	if err != nil || first != wantFirst {
		t.Fatalf("Append(%d records) = %d, %v, want %d, nil", to-from, first, err, wantFirst)
	}
}

func testEmpty(t *testing.T, l Log) {
	if got := l.LastSeq(); got != 0 {
		t.Errorf("LastSeq() = %d, want 0", got)
	}
	recs, err := l.Read(0, 10, 0)
	if err != nil || len(recs) != 0 {
		t.Errorf("Read(0) = %d records, %v, want 0, nil", len(recs), err)
	}
	if first, err := l.Append(t.Context(), nil); first != 0 || err != nil {
		t.Errorf("Append(nil) = %d, %v, want 0, nil", first, err)
	}
}

func testAppendRead(t *testing.T, l Log) {
	appendN(t, l, 1, 4, 1)
	appendN(t, l, 4, 5, 4)
	if got := l.LastSeq(); got != 4 {
		t.Fatalf("LastSeq() = %d, want 4", got)
	}
	recs, err := l.Read(0, 0, 0)
	if err != nil || len(recs) != 4 {
		t.Fatalf("Read(0) = %d records, %v, want 4, nil", len(recs), err)
	}
	var prev time.Time
	for i, r := range recs {
		if r.Seq != uint64(i+1) || !bytes.Equal(r.Data, rec(i+1)) {
			t.Errorf("record %d = %d %q, want %d %q", i, r.Seq, r.Data, i+1, rec(i+1))
		}
		if r.Time.Before(prev) || r.Time.IsZero() {
			t.Errorf("record %d time = %v, want set and not before %v", i, r.Time, prev)
		}
		prev = r.Time
	}
	recs, err = l.Read(2, 0, 0)
	if err != nil || len(recs) != 2 || recs[0].Seq != 3 {
		t.Errorf("Read(2) = %d records, %v, want 2 from seq 3", len(recs), err)
	}
}

func testReadLimits(t *testing.T, l Log) {
	appendN(t, l, 1, 11, 1)
	tests := []struct {
		name            string
		after           uint64
		max, maxBytes   int
		wantN           int
		wantFirstRecord uint64
	}{
		{"max records", 0, 3, 0, 3, 1},
		{"max bytes", 0, 0, 20, 2, 1}, // "record 1" is 8 bytes
		{"one record larger than max bytes", 5, 0, 1, 1, 6},
		{"past the end", 10, 5, 0, 0, 0},
		{"tail", 8, 5, 0, 2, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := l.Read(tt.after, tt.max, tt.maxBytes)
			if err != nil || len(recs) != tt.wantN {
				t.Fatalf("Read(%d, %d, %d) = %d records, %v, want %d", tt.after, tt.max, tt.maxBytes, len(recs), err, tt.wantN)
			}
			if tt.wantN > 0 && recs[0].Seq != tt.wantFirstRecord {
				t.Errorf("first seq = %d, want %d", recs[0].Seq, tt.wantFirstRecord)
			}
		})
	}
}

func testScan(t *testing.T, l Log) {
	appendN(t, l, 1, 2501, 1)
	var seqs []uint64
	err := l.Scan(1000, func(r eventlog.Record) error {
		if !bytes.Equal(r.Data, rec(int(r.Seq))) {
			return fmt.Errorf("record %d holds %q", r.Seq, r.Data)
		}
		seqs = append(seqs, r.Seq)
		return nil
	})
	if err != nil || len(seqs) != 1500 || seqs[0] != 1001 || seqs[len(seqs)-1] != 2500 {
		t.Fatalf("Scan(1000) = %d records, %v, want 1001..2500", len(seqs), err)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("Scan: seq %d after %d, want dense", seqs[i], seqs[i-1])
		}
	}
	stop := errors.New("stop")
	n := 0
	err = l.Scan(0, func(eventlog.Record) error {
		if n++; n == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 5 {
		t.Errorf("Scan stopping at 5 = %v after %d, want stop after 5", err, n)
	}
}

func testWait(t *testing.T, l Log) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on an empty log = %v, want context.DeadlineExceeded", err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Wait(t.Context(), 0) }()
	appendN(t, l, 1, 2, 1)
	if err := <-done; err != nil {
		t.Errorf("Wait(0) after an append = %v, want nil", err)
	}
	if err := l.Wait(t.Context(), 0); err != nil {
		t.Errorf("Wait(0) with LastSeq 1 = %v, want nil", err)
	}
}

// testConcurrent appends from many goroutines at once: every batch gets a
// contiguous range, the ranges tile 1..total, and reading gives each batch
// back where it was placed.
func testConcurrent(t *testing.T, l Log) {
	const writers, batches, size = 8, 20, 7
	type placed struct {
		first uint64
		w, b  int
	}
	var mu sync.Mutex
	var all []placed
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var batch [][]byte
				for k := range size {
					batch = append(batch, fmt.Appendf(nil, "w%d b%d k%d", w, b, k))
				}
				first, err := l.Append(context.Background(), batch)
				if err != nil {
					t.Errorf("Append = %v", err)
					return
				}
				mu.Lock()
				all = append(all, placed{first, w, b})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	const total = writers * batches * size
	if got := l.LastSeq(); got != total {
		t.Fatalf("LastSeq() = %d, want %d", got, total)
	}
	recs, err := l.Read(0, 0, 0)
	if err != nil || len(recs) != total {
		t.Fatalf("Read(0) = %d records, %v, want %d", len(recs), err, total)
	}
	for _, p := range all {
		for k := range size {
			r := recs[p.first-1+uint64(k)]
			want := fmt.Appendf(nil, "w%d b%d k%d", p.w, p.b, k)
			if r.Seq != p.first+uint64(k) || !bytes.Equal(r.Data, want) {
				t.Fatalf("seq %d = %q, want %q", p.first+uint64(k), r.Data, want)
			}
		}
	}
}
