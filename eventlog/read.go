package eventlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"
)

// errStop ends an iteration early without an error.
var errStop = errors.New("stop")

// span is where an iteration reads next: a byte range of one segment, taken
// from the published state so that it holds only durable records.
type span struct {
	path  string
	from  uint64 // sequence number of the frame at off
	off   int64
	end   int64  // durable size of the segment
	last  uint64 // last durable sequence number in the segment
	first uint64 // the segment's first sequence number
}

// Read returns the records with sequence numbers greater than after, in
// order: at most maxRecords of them (no limit if <= 0) and at most maxBytes of
// payload (no limit if maxBytes <= 0), though always at least one record so
// that a record larger than maxBytes cannot stall a reader. It returns
// no records, and no error, when none is newer than after. Records removed
// by retention are skipped: compare after with FirstSeq() to detect that.
// The returned Data does not alias any buffer of the log.
func (l *Log) Read(after uint64, maxRecords int, maxBytes int) ([]Record, error) {
	var (
		out   []Record
		bytes int
		arena []byte
	)
	if maxRecords > 0 {
		out = make([]Record, 0, min(maxRecords, 1024))
	}
	err := l.iterate(after, l.LastSeq(), func(fm frame) error {
		if maxBytes > 0 && len(out) > 0 && bytes+len(fm.data) > maxBytes {
			return errStop
		}
		if len(fm.data) > cap(arena)-len(arena) {
			arena = make([]byte, 0, nextArenaSize(cap(arena), len(fm.data), maxBytes-bytes))
		}
		start := len(arena)
		arena = append(arena, fm.data...)
		out = append(out, Record{Seq: fm.seq, Time: time.Unix(0, fm.ts), Data: arena[start:len(arena):len(arena)]})
		bytes += len(fm.data)
		if maxRecords > 0 && len(out) >= maxRecords {
			return errStop
		}
		return nil
	})
	return out, err
}

// nextArenaSize sizes the blocks Read copies payloads into: doubling from
// 32 KiB to 1 MiB, so a small page costs one allocation and a large read a
// few, but never more than the bytes still allowed (left, if positive).
func nextArenaSize(prev, need, left int) int {
	size := min(max(2*prev, 32<<10), 1<<20)
	if left > 0 {
		size = min(size, left)
	}
	return max(size, need)
}

// Scan calls fn for each record with a sequence number greater than after,
// in order, up to the LastSeq() at the time of the call, and stops at the
// first error from fn, which it returns. Record.Data aliases a buffer that
// is reused after fn returns: copy it to keep it. Records removed by
// retention are skipped, as in Read.
func (l *Log) Scan(after uint64, fn func(Record) error) error {
	return l.iterate(after, l.LastSeq(), func(fm frame) error {
		return fn(Record{Seq: fm.seq, Time: time.Unix(0, fm.ts), Data: fm.data})
	})
}

// Verify reads every record of the log, checking checksums, sequence
// numbers and segment boundaries, and returns the first *CorruptError (or
// I/O error) it meets. Open checks only the last segment whole; Verify is
// how to check the rest without waiting for a reader to reach it.
func (l *Log) Verify() error {
	return l.iterate(0, l.LastSeq(), func(frame) error { return nil })
}

// Wait blocks until LastSeq() > after, ctx is done (returning its error) or
// the log is closed (ErrClosed).
func (l *Log) Wait(ctx context.Context, after uint64) error {
	for {
		l.nmu.Lock()
		if l.lastSeq.Load() > after {
			l.nmu.Unlock()
			return nil
		}
		ch := l.notify
		l.notifyWaiting = true
		l.nmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.queue.writerDone:
			if l.lastSeq.Load() > after {
				return nil
			}
			return ErrClosed
		}
	}
}

// iterate calls visit for each durable frame with after < seq <= until,
// segment by segment. visit may return errStop to end early.
func (l *Log) iterate(after, until uint64, visit func(frame) error) error {
	if l.isClosed() {
		return ErrClosed
	}
	buf := getReadBuffer()
	var fr *frameReader
	defer func() { putReadBuffer(buf, fr) }()
	var missing string
	// retries counts the torn reads of one frame: reading on past it
	// starts the count again, since redactions that run on while a long
	// scan reads may tear several frames, each once.
	gen, retries, tornAt := l.redactions.Load(), 0, uint64(0)
	for after < until {
		sp, ok, err := l.locate(after)
		if err != nil || !ok {
			return err
		}
		var seen uint64
		fr, err = l.readSpan(sp, *buf, after, until, func(f frame) error {
			err := visit(f)
			if err == nil {
				seen = f.seq
			}
			return err
		})
		if now := l.redactions.Load(); errors.Is(err, ErrCorrupt) && (now != gen || now%2 == 1) {
			// A redaction rewrote a frame while it was read (see Redact):
			// read on from the last frame visited.
			at := max(after, seen)
			if at > tornAt {
				retries = 0
			}
			if retries < 3 {
				// Let the redaction that tore it finish first, so the
				// frame is read again whole.
				for i := 0; now%2 == 1 && i < 1000; i++ {
					time.Sleep(100 * time.Microsecond)
					now = l.redactions.Load()
				}
				gen, retries, tornAt = now, retries+1, at
				after = at
				continue
			}
		}
		if isNotExist(err) && sp.path != missing {
			// Retention removed the segment after locate: find the next
			// kept record. Twice the same file means it was not retention.
			missing = sp.path
			continue
		}
		if errors.Is(err, errStop) {
			return nil
		}
		if err != nil {
			return err
		}
		after = sp.last
	}
	return nil
}

// readSpan visits the frames of one segment span.
func (l *Log) readSpan(sp span, buf []byte, after, until uint64, visit func(frame) error) (*frameReader, error) {
	f, err := os.Open(sp.path)
	if err != nil {
		return nil, readError(err)
	}
	defer f.Close()
	fr := newFrameReader(f, sp.path, sp.off, sp.end, sp.from, buf)
	for {
		fm, err := fr.next()
		if errors.Is(err, io.EOF) {
			if fr.want-1 != sp.last {
				return fr, corruptf(sp.path, fr.offset(), "segment ends at sequence number %d, want %d", fr.want-1, sp.last)
			}
			return fr, nil
		}
		if err != nil {
			return fr, readError(err)
		}
		if fm.seq > sp.last {
			return fr, corruptf(sp.path, fm.off, "sequence number %d beyond the segment's last %d", fm.seq, sp.last)
		}
		if fm.seq <= after {
			continue
		}
		if fm.seq > until {
			return fr, errStop
		}
		if err := visit(fm); err != nil {
			return fr, err
		}
	}
}

// locate finds the span holding the first durable record after after. It
// returns false when there is none. Segments that Open did not read are
// loaded (indexed) first when the span starts inside them.
func (l *Log) locate(after uint64) (span, bool, error) {
	for {
		l.mu.RLock()
		if l.closed {
			l.mu.RUnlock()
			return span{}, false, ErrClosed
		}
		want := max(after+1, l.segs[0].first)
		i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].first > want }) - 1
		seg := l.segs[i]
		if want > seg.last {
			l.mu.RUnlock()
			return span{}, false, nil
		}
		if !seg.loaded && want > seg.first {
			l.mu.RUnlock()
			if err := l.load(seg); err != nil && (!isNotExist(err) || l.kept(seg)) {
				return span{}, false, err
			}
			continue // loaded, or removed by retention meanwhile
		}
		e := seg.lookup(want)
		sp := span{path: seg.path, from: e.seq, off: e.off, end: seg.size, last: seg.last, first: seg.first}
		l.mu.RUnlock()
		return sp, true, nil
	}
}

// readError adds context to an I/O error; a *CorruptError says enough.
func readError(err error) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("eventlog: read segment: %w", err)
}

func (l *Log) isClosed() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.closed
}

// kept reports whether seg is still in the log (not removed by retention).
func (l *Log) kept(seg *segment) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Contains(l.segs, seg)
}

// load reads a sealed segment that Open did not read, verifying it and
// building its index and newest timestamp.
func (l *Log) load(seg *segment) error {
	seg.loadMu.Lock()
	defer seg.loadMu.Unlock()
	l.mu.RLock()
	loaded, size, last := seg.loaded, seg.size, seg.last
	l.mu.RUnlock()
	if loaded {
		return nil
	}
	res, err := scanSegment(seg.path, seg.first, size, l.opts.IndexInterval)
	if err != nil {
		return readError(err)
	}
	if res.last != last {
		return corruptf(seg.path, res.end, "segment ends at sequence number %d, but the next segment starts at %d", res.last, last+1)
	}
	l.mu.Lock()
	seg.index, seg.lastTS, seg.loaded = res.index, res.lastTS, true
	l.mu.Unlock()
	return nil
}

// String describes the log for logs and debugging.
func (l *Log) String() string {
	return fmt.Sprintf("eventlog %s (seq %d..%d, %d segments)", l.dir, l.FirstSeq(), l.LastSeq(), l.Segments())
}
