package eventlog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// faultFS is the real file layer with failures injected on demand: before
// each operation it asks fault, which may return an error to fail it. A
// failed write still writes the first half of its bytes, as a write cut short
// by a full disk does, so rollback has something real to undo.
type faultFS struct {
	osFS
	mu       sync.Mutex
	fault    func(op, path string) error
	prepared []bool // how each prepare call was asked to prepare: zero-filled?
}

func (f *faultFS) set(fault func(op, path string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fault
}

func (f *faultFS) check(op, path string) error {
	f.mu.Lock()
	fault := f.fault
	f.mu.Unlock()
	if fault == nil {
		return nil
	}
	return fault(op, filepath.Base(path))
}

func (f *faultFS) create(path string) (segmentFile, error) {
	if err := f.check("create", path); err != nil {
		return nil, err
	}
	sf, err := f.osFS.create(path)
	if err != nil {
		return nil, err
	}
	return &faultFile{segmentFile: sf, fs: f, path: path}, nil
}

func (f *faultFS) openWrite(path string) (segmentFile, error) {
	sf, err := f.osFS.openWrite(path)
	if err != nil {
		return nil, err
	}
	return &faultFile{segmentFile: sf, fs: f, path: path}, nil
}

func (f *faultFS) remove(path string) error {
	if err := f.check("remove", path); err != nil {
		return err
	}
	return f.osFS.remove(path)
}

func (f *faultFS) syncDir(dir string) error {
	if err := f.check("syncdir", dir); err != nil {
		return err
	}
	return f.osFS.syncDir(dir)
}

type faultFile struct {
	segmentFile
	fs   *faultFS
	path string
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check("write", f.path); err != nil {
		n, _ := f.segmentFile.WriteAt(p[:len(p)/2], off)
		return n, &pathErr{op: "write", path: f.path, err: err}
	}
	return f.segmentFile.WriteAt(p, off)
}

func (f *faultFile) Datasync() error {
	if err := f.fs.check("sync", f.path); err != nil {
		return &pathErr{op: "fdatasync", path: f.path, err: err}
	}
	return f.segmentFile.Datasync()
}

func (f *faultFile) Truncate(size int64) error {
	if err := f.fs.check("truncate", f.path); err != nil {
		return err
	}
	return f.segmentFile.Truncate(size)
}

type pathErr struct {
	op, path string
	err      error
}

func (e *pathErr) Error() string { return fmt.Sprintf("%s %s: %v", e.op, e.path, e.err) }
func (e *pathErr) Unwrap() error { return e.err }

// failOn fails the first n operations op on the file named file (any file
// if empty) with err, then lets all pass.
func failOn(op, file string, n int, err error) func() func(string, string) error {
	return failAfter(op, file, 0, n, err)
}

// failAfter lets skip matching operations pass, fails the next n, then lets
// all pass. It returns a constructor so that each subtest gets fresh counts.
func failAfter(op, file string, skip, n int, err error) func() func(string, string) error {
	return func() func(string, string) error {
		var mu sync.Mutex
		skip, n := skip, n
		return func(o, path string) error {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case o != op || (file != "" && path != file):
				return nil
			case skip > 0:
				skip--
				return nil
			case n > 0:
				n--
				return err
			}
			return nil
		}
	}
}

// diskSize is the total size of the segment files in dir.
func diskSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	for _, name := range segmentFiles(t, dir) {
		n += fileSize(t, filepath.Join(dir, name))
	}
	return n
}

func openFault(t *testing.T, dir string, opts Options) (*Log, *faultFS) {
	t.Helper()
	fs := &faultFS{}
	l, err := open(dir, opts, fs)
	if err != nil {
		t.Fatalf("open(%s) = %v", dir, err)
	}
	t.Cleanup(func() { closeQuietly(t, l) })
	return l, fs
}

func TestDiskFullRecovers(t *testing.T) {
	// With 600-byte segments, the first 5 records fill segment 1 (seqs 1-4)
	// and start segment 5; the failing batch (seqs 6-10) puts 6-8 there and
	// starts segment 9 for the rest, so failures can hit either part.
	newSeg := segmentName(9)
	tests := []struct {
		name        string
		fault       func() func(op, path string) error
		times       int // Appends that fail
		err         error
		segmentSize int64
	}{
		{name: "write ENOSPC", fault: failOn("write", "", 1, syscall.ENOSPC), times: 1, err: syscall.ENOSPC},
		{name: "write EDQUOT", fault: failOn("write", "", 1, syscall.EDQUOT), times: 1, err: syscall.EDQUOT},
		{name: "sync ENOSPC", fault: failOn("sync", "", 1, syscall.ENOSPC), times: 1, err: syscall.ENOSPC},
		{name: "three failures in a row", fault: failOn("write", "", 3, syscall.ENOSPC), times: 3, err: syscall.ENOSPC},
		{name: "segment creation ENOSPC", fault: failOn("create", "", 1, syscall.ENOSPC), times: 1, err: syscall.ENOSPC, segmentSize: 600},
		{name: "new segment header sync ENOSPC", fault: failOn("sync", newSeg, 1, syscall.ENOSPC), times: 1, err: syscall.ENOSPC, segmentSize: 600},
		{name: "directory sync ENOSPC", fault: failOn("syncdir", "", 1, syscall.ENOSPC), times: 1, err: syscall.ENOSPC, segmentSize: 600},
		{name: "new segment header write ENOSPC", fault: failOn("write", newSeg, 1, syscall.ENOSPC), times: 1, err: syscall.ENOSPC, segmentSize: 600},
		{name: "data write into new segment ENOSPC", fault: failAfter("write", newSeg, 1, 1, syscall.ENOSPC), times: 1, err: syscall.ENOSPC, segmentSize: 600},
		{name: "data sync in new segment ENOSPC", fault: failAfter("sync", newSeg, 1, 1, syscall.ENOSPC), times: 1, err: syscall.ENOSPC, segmentSize: 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{SegmentSize: tt.segmentSize}
			dir := t.TempDir()
			l, fs := openFault(t, dir, opts)
			acked := fill(t, l, 5, 5, 100)
			sizeBefore := l.Size()
			// With small segments the failing batch spans a rotation, so
			// the earlier part lands in the old segment before the failure.
			fs.set(tt.fault())
			for range tt.times {
				_, err := l.Append(context.Background(), batchOf(6, 5, 100))
				if !errors.Is(err, ErrNoSpace) || !errors.Is(err, tt.err) {
					t.Fatalf("Append while disk full = %v, want ErrNoSpace wrapping %v", err, tt.err)
				}
				if got := l.LastSeq(); got != 5 {
					t.Errorf("LastSeq() after failed append = %d, want 5", got)
				}
				checkRecords(t, "Read after failed append", mustRead(t, l, 0), wantRecords(1, acked))
				if got := l.Size(); got != sizeBefore {
					t.Errorf("Size() after failed append = %d, want %d", got, sizeBefore)
				}
				if got := diskSize(t, dir); got != sizeBefore {
					t.Errorf("segments on disk after failed append = %d bytes, want %d (rolled back)", got, sizeBefore)
				}
			}
			acked = append(acked, fill(t, l, 5, 5, 100)...) // space is free again
			checkRecords(t, "Read after recovery", mustRead(t, l, 0), wantRecords(1, acked))
			l = reopen(t, l, opts)
			checkRecords(t, "Scan after reopen", scanAll(t, l, 0), wantRecords(1, acked))
			if err := l.Verify(); err != nil {
				t.Errorf("Verify() = %v", err)
			}
		})
	}
}

func TestIOErrorStopsAppends(t *testing.T) {
	tests := []struct {
		name string
		op   string
	}{
		{name: "sync EIO", op: "sync"},
		{name: "write EIO", op: "write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l, fs := openFault(t, dir, Options{})
			acked := fill(t, l, 4, 2, 80)
			fs.set(failOn(tt.op, "", 1, syscall.EIO)())
			for i := range 2 { // the failure sticks though the disk works again
				_, err := l.Append(context.Background(), batchOf(5, 2, 80))
				if !errors.Is(err, ErrFailed) {
					t.Fatalf("Append %d after %s = %v, want ErrFailed", i, tt.name, err)
				}
				if i == 0 && !errors.Is(err, syscall.EIO) {
					t.Errorf("Append after %s = %v, want it to wrap EIO", tt.name, err)
				}
			}
			checkRecords(t, "Read after failure", mustRead(t, l, 0), wantRecords(1, acked))
			if got := fileSize(t, lastSegment(t, dir)); got != l.Size() {
				t.Errorf("segment is %d bytes after failure, want %d (rolled back)", got, l.Size())
			}
			l = reopen(t, l, Options{})
			checkRecords(t, "Scan after restart", scanAll(t, l, 0), wantRecords(1, acked))
			appendBatch(t, l, batchOf(5, 1, 80), 5)
		})
	}
}

func TestRollbackFailureStopsAppends(t *testing.T) {
	l, fs := openFault(t, t.TempDir(), Options{})
	fill(t, l, 2, 2, 10)
	fs.set(func(op, _ string) error {
		switch op {
		case "write":
			return syscall.ENOSPC
		case "truncate":
			return syscall.EIO
		}
		return nil
	})
	_, err := l.Append(context.Background(), batchOf(3, 1, 10))
	if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
		t.Errorf("Append with failing rollback = %v, want ErrFailed wrapping EIO", err)
	}
}

// TestNothingUnacknowledgedVisible runs concurrent appenders while a third
// of the writes fail with ENOSPC, and checks that exactly the acknowledged
// records are in the log, in the order of their sequence numbers, both while
// it runs and after a reopen.
func TestNothingUnacknowledgedVisible(t *testing.T) {
	opts := Options{SegmentSize: 8 << 10}
	dir := t.TempDir()
	l, fs := openFault(t, dir, opts)
	var writes int
	var mu sync.Mutex
	fs.set(func(op, _ string) error {
		mu.Lock()
		defer mu.Unlock()
		if op == "write" {
			if writes++; writes%3 == 0 {
				return syscall.ENOSPC
			}
		}
		return nil
	})
	acked := runAppenders(t, l, 8, 30, func(err error) bool { return errors.Is(err, ErrNoSpace) })
	check := func(what string, got []Record) {
		t.Helper()
		if len(got) != len(acked) {
			t.Fatalf("%s: %d records, want %d acknowledged", what, len(got), len(acked))
		}
		for _, r := range got {
			if want, ok := acked[r.Seq]; !ok || want != string(r.Data) {
				t.Fatalf("%s: record %d = %q, want %q", what, r.Seq, r.Data, want)
			}
		}
	}
	check("Scan while open", scanAll(t, l, 0))
	l = reopen(t, l, opts)
	check("Scan after reopen", scanAll(t, l, 0))
}

// runAppenders appends from workers goroutines, rounds batches each, with
// payloads naming the worker, round and index. It returns the acknowledged
// payloads by sequence number and fails the test on an error that ok rejects
// or on overlapping ranges.
func runAppenders(t *testing.T, l *Log, workers, rounds int, ok func(error) bool) map[uint64]string {
	t.Helper()
	var mu sync.Mutex
	acked := map[uint64]string{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				n := 1 + (w+r)%7
				recs := make([][]byte, n)
				for i := range recs {
					recs[i] = fmt.Appendf(nil, "w%d-r%d-i%d", w, r, i)
				}
				first, err := l.Append(context.Background(), recs)
				if err != nil {
					if !ok(err) {
						t.Errorf("Append() = %v", err)
					}
					continue
				}
				mu.Lock()
				for i, rec := range recs {
					if prev, dup := acked[first+uint64(i)]; dup {
						t.Errorf("seq %d given to %q and %q", first+uint64(i), prev, rec)
					}
					acked[first+uint64(i)] = string(rec)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acked
}

// TestNotVisibleBeforeSync holds the writer inside fdatasync and checks that
// neither LastSeq, Read nor Wait reveal the records being synced.
func TestNotVisibleBeforeSync(t *testing.T) {
	l, fs := openFault(t, t.TempDir(), Options{})
	acked := fill(t, l, 3, 3, 20)
	inSync, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fs.set(func(op, _ string) error {
		if op == "sync" {
			once.Do(func() { close(inSync); <-release })
		}
		return nil
	})
	done := make(chan error, 1)
	go func() {
		_, err := l.Append(context.Background(), batchOf(4, 2, 20))
		done <- err
	}()
	<-inSync
	if got := l.LastSeq(); got != 3 {
		t.Errorf("LastSeq() during sync = %d, want 3", got)
	}
	checkRecords(t, "Read during sync", mustRead(t, l, 0), wantRecords(1, acked))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, 3); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait(3) during sync = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Append() = %v", err)
	}
	checkRecords(t, "Read after sync", mustRead(t, l, 0), wantRecords(1, append(acked, batchOf(4, 2, 20)...)))
}
