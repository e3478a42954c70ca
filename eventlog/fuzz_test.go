package eventlog

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// validSegment returns the bytes of a segment holding n small records from
// seq 1, as seeds for the fuzz targets.
func validSegment(n int) []byte {
	b := segmentHeader()
	for i := 1; i <= n; i++ {
		data := payload(uint64(i), 3*i)
		f := make([]byte, frameSize(len(data)))
		putFrame(f, uint64(i), int64(i), data)
		b = append(b, f...)
	}
	return b
}

func addSeeds(f *testing.F) {
	f.Add([]byte{})
	f.Add(segmentHeader())
	f.Add(validSegment(1))
	f.Add(validSegment(5))
	f.Add(append(validSegment(3), 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f))
	f.Add(validSegment(4)[:60])
}

// FuzzFrameReader feeds random bytes to the frame decoder: it must never
// panic, and what it returns must be consistent with the bytes it was given.
func FuzzFrameReader(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		start := min(segmentHeaderSize, int64(len(data)))
		fr := newFrameReader(bytes.NewReader(data), "fuzz.seg", start, int64(len(data)), 1, make([]byte, 64))
		want := uint64(1)
		for {
			fm, err := fr.next()
			if errors.Is(err, io.EOF) {
				if fr.offset() != int64(len(data)) {
					t.Fatalf("EOF at offset %d of %d", fr.offset(), len(data))
				}
				return
			}
			var ce *CorruptError
			if errors.As(err, &ce) {
				if ce.Offset < 0 || ce.Offset > int64(len(data)) {
					t.Fatalf("corruption reported at offset %d of %d bytes", ce.Offset, len(data))
				}
				return
			}
			if err != nil {
				t.Fatalf("next() = %v, want a frame, EOF or *CorruptError", err)
			}
			end := fm.off + int64(frameSize(len(fm.data)))
			if fm.seq != want || end > int64(len(data)) || !bytes.Equal(data[end-int64(len(fm.data)):end], fm.data) {
				t.Fatalf("frame seq %d at %d (%d bytes) does not match the input", fm.seq, fm.off, len(fm.data))
			}
			want++
		}
	})
}

// FuzzOpenSegment writes random bytes as the only segment of a log and opens
// it: Open must not panic, and when it succeeds the log must be consistent
// and writable.
func FuzzOpenSegment(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, Options{})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open() = %v, want nil or a corruption error", err)
			}
			return
		}
		defer l.Close()
		if err := l.Verify(); err != nil {
			t.Fatalf("Verify() after recovery = %v", err)
		}
		recs := scanAll(t, l, 0)
		if uint64(len(recs)) != l.LastSeq() {
			t.Fatalf("Scan returned %d records, LastSeq() = %d", len(recs), l.LastSeq())
		}
		next := l.LastSeq() + 1
		appendBatch(t, l, [][]byte{[]byte("after fuzz")}, next)
	})
}
