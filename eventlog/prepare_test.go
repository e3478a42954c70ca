package eventlog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The prepared-segment tests use 4 KiB segments of 124-byte frames: 32
// records fill a segment (3,976 bytes), and the preparer starts once the
// active segment holds 17 (half of 4,096 bytes).
const (
	prepSegmentSize = 4096
	prepPayload     = 100
	prepPerSegment  = 32
	prepFullSize    = segmentHeaderSize + prepPerSegment*124
)

var prepOpts = Options{SegmentSize: prepSegmentSize}

func (f *faultFS) rename(from, to string) error {
	if err := f.check("rename", to); err != nil {
		return err
	}
	return f.osFS.rename(from, to)
}

func (f *faultFS) prepare(ctx context.Context, path string, size int64, plan fillPlan) error {
	if err := f.check("prepare", path); err != nil {
		return err
	}
	f.mu.Lock()
	f.prepared = append(f.prepared, plan.zero)
	f.mu.Unlock()
	return f.osFS.prepare(ctx, path, size, plan)
}

// fillSettled appends n records in batches of 4, waiting after each Append
// until the preparer is idle, so that whether a rotation finds a prepared
// file does not depend on timing.
func fillSettled(t *testing.T, l *Log, n int) [][]byte {
	t.Helper()
	var all [][]byte
	for done := 0; done < n; done += 4 {
		all = append(all, fill(t, l, min(4, n-done), 4, prepPayload)...)
		l.prep.settle()
	}
	return all
}

func preparedPath(dir string) string { return filepath.Join(dir, preparedName) }

// checkSizes compares the sizes of the segment files in dir with want, by
// name, and Size() with the bytes that hold records.
func checkSizes(t *testing.T, l *Log, want map[string]int64, logical int64) {
	t.Helper()
	got := map[string]int64{}
	for _, name := range segmentFiles(t, l.dir) {
		got[name] = fileSize(t, filepath.Join(l.dir, name))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("segment file sizes (-want +got):\n%s", diff)
	}
	if got := l.Size(); got != logical {
		t.Errorf("Size() = %d, want %d (the bytes of headers and records)", got, logical)
	}
}

// prepModes are the two ways the preparer makes a file, chosen by the
// average group commit: Log.zeroFillBelow set so that the tests' small
// commits get one or the other.
var prepModes = []struct {
	name  string
	below int64
	zero  bool
}{
	{name: "zero-filled", below: 1 << 40, zero: true},
	{name: "allocated", below: 0, zero: false},
}

func TestPreparedSegments(t *testing.T) {
	for _, mode := range prepModes {
		t.Run(mode.name, func(t *testing.T) {
			l, fs := openFault(t, t.TempDir(), prepOpts)
			l.zeroFillBelow = mode.below
			data := fillSettled(t, l, 20)
			checkPrepared(t, preparedPath(l.dir))
			data = append(data, fillSettled(t, l, 60)...) // two rotations, both into prepared files
			activeSize := int64(segmentHeaderSize + 16*124)
			checkSizes(t, l, map[string]int64{
				segmentName(1):  prepFullSize,
				segmentName(33): prepFullSize, // prepared, cut to its records when it filled up
				segmentName(65): prepSegmentSize,
			}, 2*prepFullSize+activeSize)
			checkRecords(t, "Scan", scanAll(t, l, 0), wantRecords(1, data))
			if err := l.Verify(); err != nil {
				t.Errorf("Verify() = %v", err)
			}
			fs.mu.Lock()
			modes := fs.prepared
			fs.mu.Unlock()
			if diff := cmp.Diff([]bool{mode.zero, mode.zero}, modes); diff != "" {
				t.Errorf("prepare calls, zero-filled or not (-want +got):\n%s", diff)
			}

			l = reopen(t, l, prepOpts)
			checkSizes(t, l, map[string]int64{
				segmentName(1):  prepFullSize,
				segmentName(33): prepFullSize,
				segmentName(65): activeSize, // Close cut the zeros
			}, 2*prepFullSize+activeSize)
			if _, err := os.Stat(preparedPath(l.dir)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("prepared file after Close: Stat = %v, want it removed", err)
			}
			checkRecords(t, "Scan after reopen", scanAll(t, l, 0), wantRecords(1, data))
		})
	}
}

// checkPrepared checks that the file at path is a prepared segment: a
// header, then zeros to the segment size.
func checkPrepared(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("prepared file: %v", err)
	}
	if len(b) != prepSegmentSize || !bytes.Equal(b[:segmentHeaderSize], segmentHeader()) || !allZero(b[segmentHeaderSize:]) {
		t.Fatalf("prepared file is %d bytes starting %q, want %d: a segment header, then zeros", len(b), b[:min(len(b), segmentHeaderSize)], prepSegmentSize)
	}
}

// crashCopy fills a log into a prepared segment and copies its segment files
// while it is still open, as a crash would leave them: the last segment
// followed by the zeros of its prepared space, written or only allocated
// as zeroFillBelow has it.
func crashCopy(t *testing.T, zeroFillBelow int64) (string, [][]byte) {
	t.Helper()
	l := openLog(t, t.TempDir(), prepOpts)
	l.zeroFillBelow = zeroFillBelow
	data := fillSettled(t, l, 40)
	last := lastSegment(t, l.dir)
	if got := fileSize(t, last); got != prepSegmentSize {
		t.Fatalf("%s is %d bytes, want %d (prepared)", filepath.Base(last), got, prepSegmentSize)
	}
	return copyDir(t, l.dir), data
}

func TestRecoveryInPreparedTail(t *testing.T) {
	for _, mode := range prepModes {
		t.Run(mode.name, func(t *testing.T) {
			dir, data := crashCopy(t, mode.below)
			var logs logBuffer
			opts := prepOpts
			opts.Logger = logs.logger()
			checkRecovered(t, dir, opts, data)
			out := logs.String()
			if strings.Contains(out, "torn tail") || !strings.Contains(out, "prepared space") {
				t.Errorf("log output = %q, want a note on the prepared space and no torn-tail warning", out)
			}
		})
	}
}

func TestTornWriteInPreparedTail(t *testing.T) {
	next := func(seq uint64) []byte {
		f := make([]byte, frameSize(prepPayload))
		putFrame(f, seq, 1, payload(seq, prepPayload))
		return f
	}
	tests := []struct {
		name  string
		at    int    // frames after the last record
		bytes []byte // written there
	}{
		{name: "first half of the next frame", at: 0, bytes: next(41)[:62]},
		{name: "second half of the next frame only", at: 0, bytes: append(make([]byte, 62), next(41)[62:]...)},
		{name: "the frame after a frame lost in the crash", at: 1, bytes: next(42)},
		{name: "garbage", at: 0, bytes: []byte("\x07 not a frame, but not zeros either")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, data := crashCopy(t, defaultZeroFillBelow)
			path := lastSegment(t, dir)
			end := int64(segmentHeaderSize + 8*frameSize(prepPayload)) // records 33..40
			writeAt(t, path, end+int64(tt.at*frameSize(prepPayload)), tt.bytes)
			var logs logBuffer
			opts := prepOpts
			opts.Logger = logs.logger()
			checkRecovered(t, dir, opts, data)
			if out := logs.String(); !strings.Contains(out, "torn tail") {
				t.Errorf("log output = %q, want a torn-tail warning", out)
			}
		})
	}
}

func writeAt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestCrashWhilePreparing leaves the file a crash in the middle of zero-filling
// leaves: Open must not take it for a segment or reuse it.
func TestCrashWhilePreparing(t *testing.T) {
	src, data := writeLog(t, prepOpts, 20, 4, prepPayload)
	tests := []struct {
		name string
		file []byte
	}{
		{name: "empty", file: nil},
		{name: "header and some zeros", file: append(segmentHeader(), make([]byte, 1000)...)},
		{name: "full size, not yet synced", file: bytes.Repeat([]byte{0xa5}, prepSegmentSize)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, src)
			if err := os.WriteFile(preparedPath(dir), tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			l := openLog(t, dir, prepOpts)
			if _, err := os.Stat(preparedPath(dir)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("leftover prepared file after Open: Stat = %v, want it removed", err)
			}
			more := fillSettled(t, l, 20) // rotates into a freshly prepared file
			checkRecords(t, "Scan", scanAll(t, l, 0), wantRecords(1, append(data, more...)))
			closeQuietly(t, l)
			checkRecovered(t, dir, prepOpts, append(data, more...))
		})
	}
}

func TestPrepareFailureFallsBack(t *testing.T) {
	var logs logBuffer
	opts := prepOpts
	opts.Logger = logs.logger()
	l, fs := openFault(t, t.TempDir(), opts)
	fs.set(func(op, _ string) error {
		if op == "prepare" {
			return syscall.ENOSPC
		}
		return nil
	})
	data := fillSettled(t, l, 80)
	checkRecords(t, "Scan", scanAll(t, l, 0), wantRecords(1, data))
	if got := fileSize(t, lastSegment(t, l.dir)); got != l.w.size {
		t.Errorf("last segment is %d bytes, want %d (created, not prepared)", got, l.w.size)
	}
	if out := logs.String(); !strings.Contains(out, "preparing the next segment failed") {
		t.Errorf("log output = %q, want a warning about the failed preparation", out)
	}
}

// TestFailureInPreparedSegment fails the commits that use a prepared file:
// the rename that puts it in place, and a write into it once it is the
// active segment. ENOSPC must leave the log as before the failed Append.
func TestFailureInPreparedSegment(t *testing.T) {
	tests := []struct {
		name      string
		fault     func() func(op, path string) error
		filled    int // records before the failing Append of 4
		wantErr   error
		wantFatal bool
	}{
		{name: "rename ENOSPC", fault: failOn("rename", "", 1, syscall.ENOSPC), filled: 32, wantErr: ErrNoSpace},
		{name: "rename EIO", fault: failOn("rename", "", 1, syscall.EIO), filled: 32, wantErr: ErrFailed, wantFatal: true},
		{name: "directory sync after rename ENOSPC", fault: failOn("syncdir", "", 1, syscall.ENOSPC), filled: 32, wantErr: ErrNoSpace},
		{name: "write into prepared segment ENOSPC", fault: failOn("write", "", 1, syscall.ENOSPC), filled: 36, wantErr: ErrNoSpace},
		{name: "cut of a full prepared segment EIO", fault: failOn("truncate", "", 1, syscall.EIO), filled: 64, wantErr: ErrFailed, wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l, fs := openFault(t, dir, prepOpts)
			acked := fillSettled(t, l, tt.filled)
			if _, err := os.Stat(preparedPath(dir)); err != nil && fileSize(t, lastSegment(t, dir)) != prepSegmentSize {
				t.Fatalf("no prepared file (%v) and the active segment was not prepared either", err)
			}
			sizeBefore := l.Size()
			fs.set(tt.fault())
			_, err := l.Append(context.Background(), batchOf(uint64(tt.filled)+1, 4, prepPayload))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("failing Append = %v, want %v", err, tt.wantErr)
			}
			checkRecords(t, "Read after failed append", mustRead(t, l, 0), wantRecords(1, acked))
			if got := diskSize(t, dir); got != sizeBefore {
				t.Errorf("segments on disk after failed append = %d bytes, want %d (rolled back)", got, sizeBefore)
			}
			if !tt.wantFatal {
				acked = append(acked, fillSettled(t, l, 8)...)
			}
			l = reopen(t, l, prepOpts)
			checkRecords(t, "Scan after reopen", scanAll(t, l, 0), wantRecords(1, acked))
			if err := l.Verify(); err != nil {
				t.Errorf("Verify() = %v", err)
			}
		})
	}
}

func TestZeroSpaceIsNoFrame(t *testing.T) {
	if checksumOK(make([]byte, frameHeaderSize)) {
		t.Fatal("an all-zero frame header passes the checksum; zeros must never read as a record")
	}
	frames := validSegment(3)
	tests := []struct {
		name      string
		data      []byte
		wantSeqs  []uint64
		wantZeros bool
	}{
		{name: "header, then zeros", data: slices.Concat(segmentHeader(), make([]byte, 4096)), wantZeros: true},
		{name: "records, then zeros", data: slices.Concat(frames, make([]byte, 4096)), wantSeqs: []uint64{1, 2, 3}, wantZeros: true},
		{name: "records, then fewer zeros than a frame header", data: slices.Concat(frames, make([]byte, 5)), wantSeqs: []uint64{1, 2, 3}, wantZeros: true},
		{name: "records, then a zero header before data", data: slices.Concat(frames, make([]byte, frameHeaderSize), []byte{1}), wantSeqs: []uint64{1, 2, 3}, wantZeros: true},
		{name: "records, then a torn frame", data: slices.Concat(frames, []byte{9, 0, 0, 0}), wantSeqs: []uint64{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := newFrameReader(bytes.NewReader(tt.data), "test.seg", segmentHeaderSize, int64(len(tt.data)), 1, make([]byte, 64))
			var seqs []uint64
			for {
				fm, err := fr.next()
				if err == nil {
					seqs = append(seqs, fm.seq)
					continue
				}
				var ce *CorruptError
				if !errors.As(err, &ce) {
					t.Fatalf("next() = %v, want a *CorruptError after the records", err)
				}
				if ce.zeros != tt.wantZeros || ce.Offset != int64(len(frames)) && len(tt.wantSeqs) > 0 {
					t.Errorf("next() = %v (zeros %v), want zeros %v at offset %d", err, ce.zeros, tt.wantZeros, len(frames))
				}
				break
			}
			if diff := cmp.Diff(tt.wantSeqs, seqs); diff != "" {
				t.Errorf("frames read (-want +got):\n%s", diff)
			}
		})
	}
}
