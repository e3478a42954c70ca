package eventlog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAppendReadScanRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		batches     []int // records per Append
		size        int   // payload bytes
		segmentSize int64
	}{
		{name: "one record", batches: []int{1}, size: 20},
		{name: "empty payloads", batches: []int{3, 1}, size: 0},
		{name: "many batches", batches: []int{1, 10, 100, 7, 50}, size: 750},
		{name: "record of 1 MiB", batches: []int{1, 2}, size: 1 << 20},
		{name: "rotation inside batches", batches: []int{40, 3, 40}, size: 100, segmentSize: 1000},
		{name: "segment per record", batches: []int{5, 5}, size: 100, segmentSize: 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openLog(t, t.TempDir(), Options{SegmentSize: tt.segmentSize, IndexInterval: 512})
			var data [][]byte
			for _, n := range tt.batches {
				data = append(data, fill(t, l, n, n, tt.size)...)
			}
			want := wantRecords(1, data)
			if got := l.LastSeq(); got != uint64(len(data)) {
				t.Errorf("LastSeq() = %d, want %d", got, len(data))
			}
			if got := l.FirstSeq(); got != 1 {
				t.Errorf("FirstSeq() = %d, want 1", got)
			}
			for after := uint64(0); after <= uint64(len(data)); after++ {
				got, err := l.Read(after, 0, 0)
				if err != nil {
					t.Fatalf("Read(%d, 0, 0) = %v", after, err)
				}
				checkRecords(t, "Read", got, want[after:])
				checkRecords(t, "Scan", scanAll(t, l, after), want[after:])
			}
		})
	}
}

func TestReadLimits(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{SegmentSize: 4096})
	data := fill(t, l, 50, 10, 100) // payloads of exactly 100 bytes
	want := wantRecords(1, data)
	tests := []struct {
		name     string
		after    uint64
		max      int
		maxBytes int
		want     []Record
	}{
		{name: "no limits", after: 0, want: want},
		{name: "max records", after: 5, max: 3, want: want[5:8]},
		{name: "max bytes exact", after: 10, maxBytes: 300, want: want[10:13]},
		{name: "max bytes between records", after: 10, maxBytes: 350, want: want[10:13]},
		{name: "max bytes below one record still returns one", after: 20, maxBytes: 1, want: want[20:21]},
		{name: "both limits, records first", after: 0, max: 2, maxBytes: 1000, want: want[0:2]},
		{name: "both limits, bytes first", after: 0, max: 20, maxBytes: 500, want: want[0:5]},
		{name: "limit past the end", after: 45, max: 100, want: want[45:]},
		{name: "after the last", after: 50, max: 10, want: nil},
		{name: "far after the last", after: 1000, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Read(tt.after, tt.max, tt.maxBytes)
			if err != nil {
				t.Fatalf("Read(%d, %d, %d) = %v", tt.after, tt.max, tt.maxBytes, err)
			}
			checkRecords(t, "Read", got, tt.want)
		})
	}
}

func TestReadDataDoesNotAliasLog(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	data := fill(t, l, 10, 10, 50)
	first, err := l.Read(0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range first {
		for i := range r.Data {
			r.Data[i] = 'X'
		}
	}
	second, err := l.Read(0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "Read after modifying a previous result", second, wantRecords(1, data))
}

func TestScanStopsAtCallbackError(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	fill(t, l, 20, 20, 10)
	stop := errors.New("enough")
	var seen []uint64
	err := l.Scan(3, func(r Record) error {
		seen = append(seen, r.Seq)
		if r.Seq == 7 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("Scan() = %v, want %v", err, stop)
	}
	if diff := cmp.Diff([]uint64{4, 5, 6, 7}, seen); diff != "" {
		t.Errorf("Scan visited (-want +got):\n%s", diff)
	}
}

func TestSequenceAcrossReopen(t *testing.T) {
	opts := Options{SegmentSize: 2000}
	l := openLog(t, t.TempDir(), opts)
	var data [][]byte
	for round := range 5 {
		data = append(data, fill(t, l, 10+round*7, 6, 90)...)
		l = reopen(t, l, opts)
		if got := l.LastSeq(); got != uint64(len(data)) {
			t.Fatalf("after reopen %d: LastSeq() = %d, want %d", round, got, len(data))
		}
	}
	checkRecords(t, "Scan after reopens", scanAll(t, l, 0), wantRecords(1, data))
	if err := l.Verify(); err != nil {
		t.Errorf("Verify() = %v, want nil", err)
	}
}

func TestReopenEmptyLog(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	l = reopen(t, l, Options{})
	if got := l.LastSeq(); got != 0 {
		t.Errorf("LastSeq() = %d, want 0", got)
	}
	appendBatch(t, l, batchOf(1, 2, 5), 1)
}

func TestRotationManySmallSegments(t *testing.T) {
	dir := t.TempDir()
	const segmentSize = 300
	opts := Options{SegmentSize: segmentSize, IndexInterval: 64}
	l := openLog(t, dir, opts)
	data := fill(t, l, 200, 13, 40) // 64-byte frames: 4 per segment
	names := segmentFiles(t, dir)
	if len(names) != 50 {
		t.Errorf("segment files = %d, want 50", len(names))
	}
	for i, name := range names {
		if want := segmentName(uint64(i*4 + 1)); name != want {
			t.Errorf("segment %d is %s, want %s", i, name, want)
		}
		if size := fileSize(t, filepath.Join(dir, name)); size > segmentSize {
			t.Errorf("%s is %d bytes, want at most %d", name, size, segmentSize)
		}
	}
	if got := l.Segments(); got != len(names) {
		t.Errorf("Segments() = %d, want %d", got, len(names))
	}
	l = reopen(t, l, opts)
	want := wantRecords(1, data)
	for after := uint64(0); after < 200; after += 7 {
		got, err := l.Read(after, 5, 0)
		if err != nil {
			t.Fatalf("Read(%d) = %v", after, err)
		}
		checkRecords(t, "Read after reopen", got, want[after:min(after+5, 200)])
	}
	if got, want := l.Size(), int64(50*segmentHeaderSize+200*64); got != want {
		t.Errorf("Size() = %d, want %d", got, want)
	}
}

func TestAppendErrors(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{MaxRecordSize: 100})
	ctx := context.Background()
	if first, err := l.Append(ctx, nil); err != nil || first != 0 {
		t.Errorf("Append(nil) = %d, %v, want 0, nil", first, err)
	}
	_, err := l.Append(ctx, [][]byte{make([]byte, 10), make([]byte, 101)})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "record 1") {
		t.Errorf("Append(101-byte record) = %v, want ErrTooLarge naming record 1", err)
	}
	if got := l.LastSeq(); got != 0 {
		t.Errorf("LastSeq() after rejected batch = %d, want 0", got)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Append(cancelled, [][]byte{[]byte("x")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Append(cancelled ctx) = %v, want context.Canceled", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, [][]byte{[]byte("x")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if _, err := l.Read(0, 1, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close() = %v, want ErrClosed", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Run("directory locked", func(t *testing.T) {
		dir := t.TempDir()
		openLog(t, dir, Options{})
		if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Errorf("second Open(%s) = %v, want an in-use error", dir, err)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		if _, err := Open(t.TempDir(), Options{SegmentSize: 10}); err == nil {
			t.Error("Open(SegmentSize 10) = nil error, want one")
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(file, Options{}); err == nil {
			t.Errorf("Open(a file) = nil error, want one")
		}
	})
}

func TestWait(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	fill(t, l, 3, 3, 10)
	ctx := context.Background()
	if err := l.Wait(ctx, 2); err != nil {
		t.Errorf("Wait(2) with LastSeq 3 = %v, want nil at once", err)
	}

	woke := make(chan error, 1)
	go func() { woke <- l.Wait(ctx, 3) }()
	select {
	case err := <-woke:
		t.Fatalf("Wait(3) returned %v before any append", err)
	case <-time.After(20 * time.Millisecond):
	}
	appendBatch(t, l, batchOf(4, 1, 10), 4)
	if err := <-woke; err != nil {
		t.Errorf("Wait(3) after append = %v, want nil", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	go func() { woke <- l.Wait(cctx, 4) }()
	cancel()
	if err := <-woke; !errors.Is(err, context.Canceled) {
		t.Errorf("Wait(4) after cancel = %v, want context.Canceled", err)
	}

	go func() { woke <- l.Wait(ctx, 4) }()
	time.Sleep(5 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-woke; !errors.Is(err, ErrClosed) {
		t.Errorf("Wait(4) after Close = %v, want ErrClosed", err)
	}
}

func TestRecordTime(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_000, 0)}
	l := openLog(t, t.TempDir(), Options{Now: clock.Now})
	fill(t, l, 1, 1, 5)
	clock.Set(time.Unix(500, 0)) // the clock steps back
	fill(t, l, 1, 1, 5)
	clock.Set(time.Unix(2_000, 0))
	fill(t, l, 1, 1, 5)
	got, err := l.Read(0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{time.Unix(1_000, 0), time.Unix(1_000, 0), time.Unix(2_000, 0)}
	for i, r := range got {
		if !r.Time.Equal(want[i]) {
			t.Errorf("record %d Time = %v, want %v", r.Seq, r.Time, want[i])
		}
	}
}

func TestOnCommit(t *testing.T) {
	var records, bytes int
	l := openLog(t, t.TempDir(), Options{OnCommit: func(r, b int, _ time.Duration) { records += r; bytes += b }})
	fill(t, l, 10, 5, 100)
	if err := l.Close(); err != nil { // Close waits for the writer: no race on the counters
		t.Fatal(err)
	}
	if records != 10 || bytes != 10*frameSize(100) {
		t.Errorf("OnCommit saw %d records, %d bytes; want 10, %d", records, bytes, 10*frameSize(100))
	}
}
