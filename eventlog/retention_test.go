package eventlog

import (
	"testing"
	"time"
)

// retentionLog makes a log whose segments each hold one batch of 4 records
// appended at hour h (h = 1..10), so segment h starts at seq 4h-3.
func retentionLog(t *testing.T, clock *fakeClock) (*Log, Options) {
	t.Helper()
	frame := int64(frameSize(50))
	opts := Options{SegmentSize: segmentHeaderSize + 4*frame, Now: clock.Now}
	l := openLog(t, t.TempDir(), opts)
	for h := 1; h <= 10; h++ {
		clock.Set(hour(h))
		fill(t, l, 4, 4, 50)
	}
	if got := l.Segments(); got != 10 {
		t.Fatalf("Segments() = %d, want 10", got)
	}
	return l, opts
}

func hour(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }

func TestRemoveBefore(t *testing.T) {
	tests := []struct {
		name        string
		cut         time.Time
		reopen      bool // segments not read since Open take the lazy path
		wantRemoved int
	}{
		{name: "nothing older", cut: hour(1), wantRemoved: 0},
		{name: "just after the first", cut: hour(1).Add(time.Nanosecond), wantRemoved: 1},
		{name: "middle", cut: hour(5).Add(30 * time.Minute), wantRemoved: 5},
		{name: "everything but the active segment", cut: hour(99), wantRemoved: 9},
		{name: "middle after reopen", cut: hour(5).Add(30 * time.Minute), reopen: true, wantRemoved: 5},
		{name: "exact time after reopen", cut: hour(4), reopen: true, wantRemoved: 3},
		{name: "everything after reopen", cut: hour(99), reopen: true, wantRemoved: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{}
			l, opts := retentionLog(t, clock)
			if tt.reopen {
				l = reopen(t, l, opts)
			}
			size := l.Size()
			n, err := l.RemoveBefore(tt.cut)
			if err != nil || n != tt.wantRemoved {
				t.Fatalf("RemoveBefore(%v) = %d, %v, want %d, nil", tt.cut, n, err, tt.wantRemoved)
			}
			wantFirst := uint64(4*tt.wantRemoved + 1)
			if got := l.FirstSeq(); got != wantFirst {
				t.Errorf("FirstSeq() = %d, want %d", got, wantFirst)
			}
			if got := len(segmentFiles(t, l.dir)); got != 10-n {
				t.Errorf("segment files = %d, want %d", got, 10-n)
			}
			if got, want := l.Size(), size-int64(n)*(segmentHeaderSize+4*int64(frameSize(50))); got != want {
				t.Errorf("Size() = %d, want %d", got, want)
			}
			want := wantRecords(wantFirst, batchOf(wantFirst, int(40-wantFirst+1), 50))
			checkRecords(t, "Read(0) after retention", mustRead(t, l, 0), want)
			checkRecords(t, "Scan(0) after retention", scanAll(t, l, 0), want)
			l = reopen(t, l, opts)
			if got := l.FirstSeq(); got != wantFirst {
				t.Errorf("FirstSeq() after reopen = %d, want %d", got, wantFirst)
			}
			if err := l.Verify(); err != nil {
				t.Errorf("Verify() after retention = %v", err)
			}
		})
	}
}

func TestRemoveBeforeKeepsActiveSegment(t *testing.T) {
	clock := &fakeClock{now: hour(1)}
	l := openLog(t, t.TempDir(), Options{Now: clock.Now})
	fill(t, l, 10, 5, 20)
	n, err := l.RemoveBefore(hour(50))
	if err != nil || n != 0 {
		t.Errorf("RemoveBefore(future) with one segment = %d, %v, want 0, nil", n, err)
	}
	if got := l.FirstSeq(); got != 1 {
		t.Errorf("FirstSeq() = %d, want 1", got)
	}
}

func TestReadFromRemovedSegmentSkipsAhead(t *testing.T) {
	clock := &fakeClock{}
	l, _ := retentionLog(t, clock)
	// A reader positioned in segment 2 (seqs 5-8) when segments 1-3 go.
	if _, err := l.RemoveBefore(hour(3).Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := l.Read(6, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, "Read(6) after its segment was removed", got, wantRecords(13, batchOf(13, 2, 50)))
}
