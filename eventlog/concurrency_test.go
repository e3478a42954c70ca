package eventlog

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

func TestConcurrentAppendersGetConsecutiveRanges(t *testing.T) {
	opts := Options{SegmentSize: 16 << 10, IndexInterval: 1024}
	l := openLog(t, t.TempDir(), opts)
	acked := runAppenders(t, l, 16, 40, func(error) bool { return false })
	n := uint64(len(acked))
	if got := l.LastSeq(); got != n {
		t.Fatalf("LastSeq() = %d, want %d (the records acknowledged)", got, n)
	}
	// runAppenders rejected overlaps; no gap means every seq in 1..n is there.
	for seq := uint64(1); seq <= n; seq++ {
		if _, ok := acked[seq]; !ok {
			t.Fatalf("seq %d was given to no record", seq)
		}
	}
	got := scanAll(t, l, 0)
	for _, r := range got {
		if string(r.Data) != acked[r.Seq] {
			t.Fatalf("record %d = %q, want %q", r.Seq, r.Data, acked[r.Seq])
		}
	}
	if uint64(len(got)) != n {
		t.Errorf("Scan returned %d records, want %d", len(got), n)
	}
	checkBatchesContiguous(t, got)
}

// checkBatchesContiguous checks that the records of one Append (same worker
// and round) sit next to each other in index order.
func checkBatchesContiguous(t *testing.T, recs []Record) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		var w, r, idx, pw, pr, pidx int
		fmt.Sscanf(string(recs[i].Data), "w%d-r%d-i%d", &w, &r, &idx)
		fmt.Sscanf(string(recs[i-1].Data), "w%d-r%d-i%d", &pw, &pr, &pidx)
		if idx > 0 && (w != pw || r != pr || idx != pidx+1) {
			t.Fatalf("record %d (%s) does not follow its batch: previous is %s", recs[i].Seq, recs[i].Data, recs[i-1].Data)
		}
	}
}

func TestReadersDuringAppends(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{SegmentSize: 4 << 10, IndexInterval: 256})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	// A tailing reader follows the writers with Wait and Read, and must see
	// every sequence number once, in order.
	wg.Go(func() {
		var after uint64
		for after < 400 {
			if err := l.Wait(ctx, after); err != nil {
				t.Errorf("Wait(%d) = %v", after, err)
				return
			}
			recs, err := l.Read(after, 7, 0)
			if err != nil {
				t.Errorf("Read(%d) = %v", after, err)
				return
			}
			for _, r := range recs {
				if r.Seq != after+1 || string(r.Data) != string(payload(r.Seq, 40)) {
					t.Errorf("tail read seq %d %q after %d, want seq %d %q", r.Seq, r.Data, after, after+1, payload(after+1, 40))
					return
				}
				after = r.Seq
			}
		}
	})
	// Writers append batches whose content depends only on the seq, which
	// they learn afterwards: so they append under a lock, like one producer.
	var mu sync.Mutex
	for range 4 {
		wg.Go(func() {
			for range 20 {
				mu.Lock()
				first := l.LastSeq() + 1
				if _, err := l.Append(ctx, batchOf(first, 5, 40)); err != nil {
					t.Errorf("Append() = %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestCloseWithPendingAppends(t *testing.T) {
	opts := Options{}
	l := openLog(t, t.TempDir(), opts)
	start := make(chan struct{})
	var closeErr error
	var wg sync.WaitGroup
	var acked map[uint64]string
	wg.Go(func() {
		<-start
		acked = runAppenders(t, l, 16, 50, func(err error) bool { return errors.Is(err, ErrClosed) })
	})
	wg.Go(func() {
		close(start)
		for l.LastSeq() < 50 {
			runtime.Gosched() // let some commits happen, so that Close meets a busy queue
		}
		closeErr = l.Close()
	})
	wg.Wait()
	if closeErr != nil {
		t.Fatalf("Close() = %v", closeErr)
	}
	l = openLog(t, l.dir, opts)
	got := scanAll(t, l, 0)
	if len(got) != len(acked) {
		t.Fatalf("after Close and reopen: %d records, want the %d acknowledged", len(got), len(acked))
	}
	for _, r := range got {
		if string(r.Data) != acked[r.Seq] {
			t.Fatalf("record %d = %q, want %q", r.Seq, r.Data, acked[r.Seq])
		}
	}
}

// TestCancelWhileQueued fills the queue while the writer is held in a sync,
// then cancels an Append waiting for space and one waiting in the queue:
// both return the context's error and their records never appear.
func TestCancelWhileQueued(t *testing.T) {
	l, fs := openFault(t, t.TempDir(), Options{MaxPendingBytes: 1000})
	inSync, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fs.set(func(op, _ string) error {
		if op == "sync" {
			once.Do(func() { close(inSync); <-release })
		}
		return nil
	})
	ctx := context.Background()
	results := make(chan error, 4)
	appendAsync := func(ctx context.Context, recs [][]byte) {
		go func() {
			_, err := l.Append(ctx, recs)
			results <- err
		}()
	}
	appendAsync(ctx, [][]byte{[]byte("held")}) // the writer takes it and blocks
	<-inSync
	appendAsync(ctx, [][]byte{make([]byte, 900)}) // queued, fills the queue
	waitQueued(t, l, 1)
	queuedCtx, cancelQueued := context.WithCancel(ctx)
	appendAsync(queuedCtx, [][]byte{make([]byte, 10)}) // fits? 924+34 <= 1000: queued
	waitQueued(t, l, 2)
	blockedCtx, cancelBlocked := context.WithCancel(ctx)
	appendAsync(blockedCtx, [][]byte{make([]byte, 500)}) // waits for space
	cancelBlocked()
	if err := <-results; !errors.Is(err, context.Canceled) {
		t.Fatalf("Append waiting for space, cancelled = %v, want context.Canceled", err)
	}
	cancelQueued()
	if err := <-results; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued Append, cancelled = %v, want context.Canceled", err)
	}
	close(release)
	for range 2 {
		if err := <-results; err != nil {
			t.Fatalf("Append() = %v", err)
		}
	}
	if got := l.LastSeq(); got != 2 {
		t.Errorf("LastSeq() = %d, want 2: the cancelled records must not be written", got)
	}
	got := mustRead(t, l, 0)
	if len(got) != 2 || string(got[0].Data) != "held" || len(got[1].Data) != 900 {
		t.Errorf("records after cancel = %d, want the held one and the 900-byte one", len(got))
	}
}

// waitQueued spins until n requests are pending in l's queue.
func waitQueued(t *testing.T, l *Log, n int) {
	t.Helper()
	for {
		l.queue.mu.Lock()
		got := len(l.queue.pending)
		l.queue.mu.Unlock()
		if got >= n {
			return
		}
		runtime.Gosched()
	}
}
