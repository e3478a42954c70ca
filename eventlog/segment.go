package eventlog

import (
	"errors"
	"io"
	"os"
	"sort"
	"sync"
)

// segment is one segment file as the Log tracks it. The fields after loadMu
// are guarded by Log.mu; the writer publishes changes to them only once the
// bytes they describe are durable, which is what keeps readers from ever
// seeing unsynced records.
type segment struct {
	first uint64 // sequence number in the file name
	path  string

	// loadMu serialises lazy loading, so concurrent readers scan a segment
	// that Open did not read only once.
	loadMu sync.Mutex

	size    int64  // durable bytes, header included
	last    uint64 // last durable sequence number; first-1 while empty
	firstTS int64  // append time of the first record, 0 while empty
	lastTS  int64  // append time of the last record, valid when loaded
	loaded  bool   // index and lastTS are complete
	index   []indexEntry
}

// indexEntry locates one frame: the sparse index keeps one every
// Options.IndexInterval bytes, always including the first.
type indexEntry struct {
	seq uint64
	off int64
}

// empty reports whether the segment holds no durable record.
func (s *segment) empty() bool { return s.last < s.first }

// lookup returns the indexed frame at or before seq. Callers hold Log.mu.
func (s *segment) lookup(seq uint64) indexEntry {
	i := sort.Search(len(s.index), func(i int) bool { return s.index[i].seq > seq })
	if i == 0 {
		return indexEntry{seq: s.first, off: segmentHeaderSize}
	}
	return s.index[i-1]
}

// indexBuilder adds an index entry for a segment's first frame and then
// for each frame starting at least interval bytes after the previous entry.
type indexBuilder struct {
	interval int64
	next     int64 // frames at or after this offset get an entry
}

func (b *indexBuilder) add(idx []indexEntry, seq uint64, off int64) []indexEntry {
	if off >= b.next {
		b.next = off + b.interval
		idx = append(idx, indexEntry{seq: seq, off: off})
	}
	return idx
}

// scanResult is what reading a whole segment learns about it.
type scanResult struct {
	index   []indexEntry
	last    uint64
	firstTS int64
	lastTS  int64
	end     int64 // offset after the last valid frame
}

// scanSegment reads frames of the segment file at path from its header to
// end, building the sparse index. A bad frame stops it: the result describes
// the valid prefix, and the error says what is wrong.
func scanSegment(path string, first uint64, end int64, interval int) (scanResult, error) {
	res := scanResult{last: first - 1, end: segmentHeaderSize}
	f, err := os.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	buf := getReadBuffer()
	fr := newFrameReader(f, path, segmentHeaderSize, end, first, *buf)
	defer func() { putReadBuffer(buf, fr) }()
	ib := indexBuilder{interval: int64(interval)}
	for {
		fm, err := fr.next()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		res.index = ib.add(res.index, fm.seq, fm.off)
		if fm.seq == first {
			res.firstTS = fm.ts
		}
		res.last, res.lastTS, res.end = fm.seq, fm.ts, fr.offset()
	}
}

// readHeader reads and checks the segment header of f.
func readHeader(f io.ReaderAt, path string) error {
	h := make([]byte, segmentHeaderSize)
	n, err := f.ReadAt(h, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if reason := checkSegmentHeader(h[:n]); reason != "" {
		return corruptf(path, 0, "%s", reason)
	}
	return nil
}
