package eventlog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeLog makes a closed log in a new directory holding n records of size
// bytes (in batches of batch) and returns the directory and the payloads.
func writeLog(t *testing.T, opts Options, n, batch, size int) (string, [][]byte) {
	t.Helper()
	dir := t.TempDir()
	l := openLog(t, dir, opts)
	data := fill(t, l, n, batch, size)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, data
}

// copyDir copies the segment files of src into a new directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for _, name := range segmentFiles(t, src) {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// checkRecovered opens dir and checks that it holds exactly want, that the
// last segment has no bytes past the last record, and that appends go on.
func checkRecovered(t *testing.T, dir string, opts Options, want [][]byte) {
	t.Helper()
	l := openLog(t, dir, opts)
	if got := l.LastSeq(); got != uint64(len(want)) {
		t.Fatalf("LastSeq() after recovery = %d, want %d", got, len(want))
	}
	checkRecords(t, "Scan after recovery", scanAll(t, l, 0), wantRecords(1, want))
	if got, want := fileSize(t, lastSegment(t, dir)), l.w.size; got != want {
		t.Errorf("last segment is %d bytes, want %d (truncated at the last record)", got, want)
	}
	next := uint64(len(want)) + 1
	appendBatch(t, l, batchOf(next, 2, 30), next)
	checkRecords(t, "Read of appends after recovery", mustRead(t, l, next-1), wantRecords(next, batchOf(next, 2, 30)))
	closeQuietly(t, l)
}

func mustRead(t *testing.T, l *Log, after uint64) []Record {
	t.Helper()
	got, err := l.Read(after, 0, 0)
	if err != nil {
		t.Fatalf("Read(%d) = %v", after, err)
	}
	return got
}

func TestTornTailEveryOffset(t *testing.T) {
	opts := Options{SegmentSize: 1000}
	src, data := writeLog(t, opts, 25, 4, 60) // 84-byte frames, several segments
	last := lastSegment(t, src)
	full, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	lastStart := len(full) - frameSize(60)
	for cut := lastStart; cut < len(full); cut++ {
		dir := copyDir(t, src)
		if err := os.Truncate(filepath.Join(dir, filepath.Base(last)), int64(cut)); err != nil {
			t.Fatal(err)
		}
		checkRecovered(t, dir, opts, data[:len(data)-1])
		if t.Failed() {
			t.Fatalf("recovery failed with the last segment cut at byte %d of %d", cut, len(full))
		}
	}
}

func TestGarbageTail(t *testing.T) {
	opts := Options{SegmentSize: 1 << 20}
	src, data := writeLog(t, opts, 10, 3, 50)
	lastFrame := func(b []byte) []byte { return b[len(b)-frameSize(50):] }
	tests := []struct {
		name string
		tail func(seg []byte) []byte // bytes appended to the last segment
	}{
		{name: "random bytes", tail: func([]byte) []byte { return []byte("\x13\x99garbage that is no frame at all, 48 bytes long") }},
		{name: "zeros", tail: func([]byte) []byte { return make([]byte, 4096) }},
		{name: "short header", tail: func([]byte) []byte { return []byte{1, 2, 3} }},
		{name: "repeated last frame", tail: func(b []byte) []byte { return lastFrame(b) }},
		{name: "next frame with bad checksum", tail: func([]byte) []byte {
			f := make([]byte, frameSize(5))
			putFrame(f, 11, 1, []byte("hello"))
			f[0] ^= 0xff
			return f
		}},
		{name: "next frame claiming a huge length", tail: func([]byte) []byte {
			f := make([]byte, frameSize(5))
			putFrame(f, 11, 1, []byte("hello"))
			f[7] = 0x7f
			return f
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, src)
			path := lastSegment(t, dir)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(b, tt.tail(b)...), 0o644); err != nil {
				t.Fatal(err)
			}
			checkRecovered(t, dir, opts, data)
		})
	}
}

func TestTornTailIsLogged(t *testing.T) {
	opts := Options{}
	dir, data := writeLog(t, opts, 5, 5, 40)
	path := lastSegment(t, dir)
	if err := os.Truncate(path, fileSize(t, path)-3); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	opts.Logger = logs.logger()
	checkRecovered(t, dir, opts, data[:4])
	if out := logs.String(); !strings.Contains(out, "torn tail") || !strings.Contains(out, filepath.Base(path)) {
		t.Errorf("log output = %q, want a torn-tail warning naming %s", out, filepath.Base(path))
	}
}

func TestTornSegmentHeader(t *testing.T) {
	opts := Options{SegmentSize: 500}
	src, data := writeLog(t, opts, 12, 4, 60) // the last batch fills the last segment
	tests := []struct {
		name   string
		header []byte
	}{
		{name: "empty file", header: nil},
		{name: "half a header", header: []byte("MOSL")},
		{name: "zeroed header", header: make([]byte, segmentHeaderSize)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, src)
			// A crash while creating the next segment leaves this file.
			next := filepath.Join(dir, segmentName(uint64(len(data))+1))
			if err := os.WriteFile(next, tt.header, 0o644); err != nil {
				t.Fatal(err)
			}
			checkRecovered(t, dir, opts, data)
		})
	}
}

// frameOffsets returns the offset of each frame in a segment file.
func frameOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for off := segmentHeaderSize; off < len(b); {
		offs = append(offs, int64(off))
		off += frameSize(int(parseFrameHeader(b[off:]).length))
	}
	return offs
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptionInOlderSegmentIsReported(t *testing.T) {
	opts := Options{SegmentSize: 1000}
	src, _ := writeLog(t, opts, 40, 10, 60)
	firstSeg := segmentFiles(t, src)[0]
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string) int64 // returns the offset to be named
		atOpen  bool
		message string
	}{
		{name: "payload byte of a middle record", damage: func(t *testing.T, p string) int64 {
			off := frameOffsets(t, p)[5]
			flipByte(t, p, off+frameHeaderSize+3)
			return off
		}, message: "checksum mismatch"},
		{name: "length of a middle record", damage: func(t *testing.T, p string) int64 {
			off := frameOffsets(t, p)[3]
			flipByte(t, p, off+5)
			return off
		}, message: "runs past the end"},
		{name: "sequence number of the last record", damage: func(t *testing.T, p string) int64 {
			offs := frameOffsets(t, p)
			off := offs[len(offs)-1]
			flipByte(t, p, off+9)
			return off
		}, message: "checksum mismatch"},
		{name: "segment cut short", damage: func(t *testing.T, p string) int64 {
			offs := frameOffsets(t, p)
			off := offs[len(offs)-1]
			if err := os.Truncate(p, off); err != nil {
				t.Fatal(err)
			}
			return off
		}, message: "segment ends at sequence number"},
		{name: "first record", damage: func(t *testing.T, p string) int64 {
			flipByte(t, p, segmentHeaderSize+frameHeaderSize)
			return segmentHeaderSize
		}, atOpen: true, message: "checksum mismatch"},
		{name: "header magic", damage: func(t *testing.T, p string) int64 {
			flipByte(t, p, 1)
			return 0
		}, atOpen: true, message: "bad magic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDir(t, src)
			path := filepath.Join(dir, firstSeg)
			wantOff := tt.damage(t, path)
			l, err := Open(dir, opts)
			if err == nil {
				t.Cleanup(func() { closeQuietly(t, l) })
				if tt.atOpen {
					t.Fatalf("Open() = nil, want a corruption error")
				}
				checkCorrupt(t, "Verify()", l.Verify(), path, wantOff, tt.message)
				_, err = l.Read(2, 0, 0)
				checkCorrupt(t, "Read(2)", err, path, wantOff, tt.message)
				return
			}
			if !tt.atOpen {
				t.Fatalf("Open() = %v, want nil (older segments are checked when read)", err)
			}
			checkCorrupt(t, "Open()", err, path, wantOff, tt.message)
		})
	}
}

func checkCorrupt(t *testing.T, what string, err error, path string, off int64, message string) {
	t.Helper()
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%s = %v, want a *CorruptError", what, err)
	}
	if ce.File != path || ce.Offset != off || !strings.Contains(ce.Reason, message) {
		t.Errorf("%s = %v, want file %s, offset %d, reason containing %q", what, err, path, off, message)
	}
}

func TestCorruptLastSegmentTruncated(t *testing.T) {
	opts := Options{}
	dir, data := writeLog(t, opts, 10, 10, 50)
	path := lastSegment(t, dir)
	flipByte(t, path, frameOffsets(t, path)[6]+frameHeaderSize)
	checkRecovered(t, dir, opts, data[:6])
}

func TestForeignFileInLastSegmentPosition(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, segmentName(1))
	if err := os.WriteFile(path, []byte("PK\x03\x04 not a log segment"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	checkCorrupt(t, "Open()", err, path, 0, "bad magic")
}

func TestOtherFilesIgnored(t *testing.T) {
	dir, data := writeLog(t, Options{}, 3, 3, 10)
	for _, name := range []string{"notes.txt", "1.seg", "00000000000000000000.seg", "0000000000000000000x.seg"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkRecovered(t, dir, Options{}, data)
}

func TestSegmentDeletedBehindTheLogsBack(t *testing.T) {
	opts := Options{SegmentSize: 500}
	dir, _ := writeLog(t, opts, 20, 4, 60)
	l := openLog(t, dir, opts)
	if err := os.Remove(filepath.Join(dir, segmentName(1))); err != nil {
		t.Fatal(err)
	}
	for _, after := range []uint64{0, 2} { // from the start, and from inside (lazy load)
		if _, err := l.Read(after, 0, 0); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Read(%d) with segment 1 deleted = %v, want an error wrapping os.ErrNotExist", after, err)
		}
	}
}
