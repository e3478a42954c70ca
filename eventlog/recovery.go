package eventlog

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// recover builds the segment list from the directory and prepares the
// writer to continue after the last valid record.
func (l *Log) recover() error {
	firsts, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	if len(firsts) == 0 {
		seg, f, err := l.createSegment(1)
		if err != nil {
			return err
		}
		l.segs = []*segment{seg}
		l.w.init(l, seg, f, 0)
		return nil
	}
	for i, first := range firsts[:len(firsts)-1] {
		seg, err := l.openSealed(first, firsts[i+1])
		if err != nil {
			return err
		}
		l.segs = append(l.segs, seg)
	}
	active, f, err := l.recoverActive(firsts[len(firsts)-1])
	if err != nil {
		return err
	}
	l.segs = append(l.segs, active)
	lastTS, err := l.newestTimestamp()
	if err != nil {
		f.Close()
		return err
	}
	l.w.init(l, active, f, lastTS)
	l.lastSeq.Store(active.last)
	return nil
}

// newestTimestamp is the append time of the last record in the log, which
// the writer must not go below. It reads the previous segment when a crash
// right after a rotation left the active one empty.
func (l *Log) newestTimestamp() (int64, error) {
	active := l.segs[len(l.segs)-1]
	if !active.empty() || len(l.segs) == 1 {
		return active.lastTS, nil
	}
	prev := l.segs[len(l.segs)-2]
	if err := l.load(prev); err != nil {
		return 0, err
	}
	return prev.lastTS, nil
}

// openSealed checks a segment that is not the last one: its header and its
// first record, which must carry the sequence number in its name. The rest is
// checked when read, so that Open does not read the whole log.
func (l *Log) openSealed(first, next uint64) (*segment, error) {
	path := l.segmentPath(first)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eventlog: open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("eventlog: open segment: %w", err)
	}
	if err := readHeader(f, path); err != nil {
		return nil, err
	}
	fr := newFrameReader(f, path, segmentHeaderSize, st.Size(), first, make([]byte, 4096))
	fm, err := fr.next()
	if errors.Is(err, io.EOF) {
		return nil, corruptf(path, segmentHeaderSize, "segment holds no record but is not the last one")
	}
	if err != nil {
		return nil, err
	}
	return &segment{first: first, path: path, size: st.Size(), last: next - 1, firstTS: fm.ts}, nil
}

// recoverActive reads the last segment whole and truncates whatever follows
// its last valid record: the torn tail of a write that a crash interrupted.
func (l *Log) recoverActive(first uint64) (*segment, segmentFile, error) {
	path := l.segmentPath(first)
	size, err := l.repairHeader(path)
	if err != nil {
		return nil, nil, err
	}
	res, err := scanSegment(path, first, size, l.opts.IndexInterval)
	var ce *CorruptError
	if err != nil && !errors.As(err, &ce) {
		return nil, nil, fmt.Errorf("eventlog: recover segment: %w", err)
	}
	f, err := l.fs.openWrite(path)
	if err != nil {
		return nil, nil, fmt.Errorf("eventlog: open segment for writing: %w", err)
	}
	if res.end < size {
		l.logTail(path, res.end, size, ce)
		if err := truncateDurably(f, res.end); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("eventlog: truncate torn tail of %s: %w", path, err)
		}
	}
	seg := &segment{
		first: first, path: path, size: res.end, last: res.last,
		firstTS: res.firstTS, lastTS: res.lastTS, loaded: true, index: res.index,
	}
	return seg, f, nil
}

// logTail reports what recovery cuts from the last segment after its last
// record at end. Zeros to the end of the file are the unused part of a
// prepared segment, which is normal after a crash; anything else is a torn
// or damaged write, worth a warning.
func (l *Log) logTail(path string, end, size int64, ce *CorruptError) {
	if ce.zeros {
		zero, err := zeroFrom(path, end, size)
		if err == nil && zero {
			l.opts.Logger.Info("eventlog: the last segment ends inside its prepared space; cutting the zeros",
				"file", path, "offset", end, "dropped_bytes", size-end)
			return
		}
	}
	l.opts.Logger.Warn("eventlog: truncating torn tail of last segment",
		"file", path, "offset", end, "dropped_bytes", size-end, "reason", ce.Reason)
}

// zeroFrom reports whether the file at path holds only zeros from off to end.
func zeroFrom(path string, off, end int64) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := getReadBuffer()
	defer readBuffers.Put(buf)
	for off < end {
		n, err := f.ReadAt((*buf)[:min(int64(len(*buf)), end-off)], off)
		if !allZero((*buf)[:n]) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		off += int64(n)
	}
	return true, nil
}

// repairHeader returns the size of the last segment after rewriting its
// header if a crash interrupted the segment's creation: the header is short
// or all zeros. Records are synced together with the header page, so such a
// segment holds no acknowledged record. A complete but wrong header is not a
// torn write and is reported as corruption.
func (l *Log) repairHeader(path string) (int64, error) {
	raw, err := readPrefix(path, segmentHeaderSize)
	if err != nil {
		return 0, fmt.Errorf("eventlog: recover segment: %w", err)
	}
	if len(raw) == segmentHeaderSize && !allZero(raw) {
		st, err := os.Stat(path)
		if err != nil {
			return 0, fmt.Errorf("eventlog: recover segment: %w", err)
		}
		if reason := checkSegmentHeader(raw); reason != "" {
			return 0, corruptf(path, 0, "%s", reason)
		}
		return st.Size(), nil
	}
	l.opts.Logger.Warn("eventlog: rewriting torn header of last segment", "file", path)
	f, err := l.fs.openWrite(path)
	if err != nil {
		return 0, fmt.Errorf("eventlog: repair segment header: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(0); err != nil {
		return 0, fmt.Errorf("eventlog: repair segment header: %w", err)
	}
	if _, err := f.WriteAt(segmentHeader(), 0); err != nil {
		return 0, fmt.Errorf("eventlog: repair segment header: %w", err)
	}
	if err := f.Datasync(); err != nil {
		return 0, fmt.Errorf("eventlog: repair segment header: %w", err)
	}
	return segmentHeaderSize, nil
}

func readPrefix(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	got, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:got], nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func truncateDurably(f segmentFile, size int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Datasync()
}

// nextSegment starts the segment whose first record will be first, from the
// prepared file if one is ready and by creating one otherwise. It also
// returns the size of the new file.
func (l *Log) nextSegment(first uint64) (*segment, segmentFile, int64, error) {
	if !l.prep.take() {
		seg, f, err := l.createSegment(first)
		return seg, f, segmentHeaderSize, err
	}
	path := l.segmentPath(first)
	if err := l.fs.rename(l.prep.path, path); err != nil {
		return nil, nil, 0, fmt.Errorf("eventlog: rename prepared segment to %s: %w", path, err)
	}
	f, err := l.fs.openWrite(path)
	if err == nil {
		if err = l.fs.syncDir(l.dir); err != nil {
			f.Close()
		}
	}
	if err != nil {
		if rerr := l.fs.remove(path); rerr == nil {
			_ = l.fs.syncDir(l.dir) // best effort, as in createSegment
		}
		return nil, nil, 0, fmt.Errorf("eventlog: start segment %s: %w", path, err)
	}
	seg := &segment{first: first, path: path, size: segmentHeaderSize, last: first - 1, loaded: true}
	return seg, f, l.opts.SegmentSize, nil
}

// createSegment creates the segment whose first record will be first: the
// header is synced, then the directory, so the file is durable before any
// record in it is acknowledged. A leftover file of that name (from a
// creation that failed) holds no durable record and is overwritten.
func (l *Log) createSegment(first uint64) (*segment, segmentFile, error) {
	path := l.segmentPath(first)
	f, err := l.fs.create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("eventlog: create segment: %w", err)
	}
	if _, err = f.WriteAt(segmentHeader(), 0); err == nil {
		if err = f.Datasync(); err == nil {
			err = l.fs.syncDir(l.dir)
		}
	}
	if err != nil {
		f.Close()
		if rerr := l.fs.remove(path); rerr == nil {
			_ = l.fs.syncDir(l.dir) // best effort: a leftover is harmless, see above
		}
		return nil, nil, fmt.Errorf("eventlog: create segment %s: %w", path, err)
	}
	seg := &segment{first: first, path: path, size: segmentHeaderSize, last: first - 1, loaded: true}
	return seg, f, nil
}
