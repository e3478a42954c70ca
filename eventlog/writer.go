package eventlog

import (
	"errors"
	"fmt"
	"time"
)

// writer is the state of the single goroutine that turns queued Appends into
// durable records. Only that goroutine touches it once Open has returned.
type writer struct {
	l       *Log
	active  *segment
	file    segmentFile
	size    int64     // durable size of the active segment
	fileEnd int64     // size of its file: more than size when it was prepared
	commits int       // group commits into the active segment
	since   time.Time // when the active segment was started (or opened)
	base    int64     // its size then
	nextSeq uint64    // sequence number of the next record
	lastTS  int64     // append time of the last record; never decreases
	ib      indexBuilder

	// Reused for every group commit, so the append path allocates nothing
	// per record: the frames, where they go, and their index entries.
	buf     []byte
	chunks  []chunk
	index   []indexEntry
	nextIB  indexBuilder
	spare   []*request
	created []createdSegment // segments this commit started

	dirty   bool  // bytes past size may be on disk: roll back before writing
	pending bool  // a removal in rollback still needs a directory sync
	failed  error // sticky: set after a failure other than a full disk
}

// chunk is the part of a group commit that goes into one segment. Only the
// first chunk goes into the active segment; each later one starts a new
// segment. The first chunk is empty when the active segment is full.
type chunk struct {
	start, end       int // frames in writer.buf
	first, last      uint64
	idxStart, idxEnd int // entries in writer.index
}

type createdSegment struct {
	seg  *segment
	file segmentFile
	end  int64 // size of the file: the segment size if it was prepared
}

func (w *writer) init(l *Log, active *segment, f segmentFile, lastTS int64) {
	w.l, w.active, w.file = l, active, f
	w.size, w.nextSeq, w.lastTS = active.size, active.last+1, lastTS
	w.fileEnd, w.since, w.base = active.size, time.Now(), active.size
	w.ib = indexBuilder{interval: int64(l.opts.IndexInterval)}
	if n := len(active.index); n > 0 {
		w.ib.next = active.index[n-1].off + w.ib.interval
	}
}

// run is the writer goroutine: it commits whatever is queued, one group at a
// time, until Close has been called and the queue is drained.
//
// One at a time is measured, not assumed: writing the next group while the
// previous one syncs could gain at most the write's share of a commit, 3–5 %
// (the sync is the rest), and running up to 2 or 4 syncs at once made groups
// smaller and each sync slower, which lowered single-record throughput by
// a third and raised its p99, without helping large batches.
func (l *Log) run() {
	defer close(l.queue.writerDone)
	w := &l.w
	for {
		select {
		case <-l.queue.wake:
		case <-l.queue.closed:
		}
		for {
			batch := l.queue.take(w.spare)
			if len(batch) == 0 {
				w.spare = batch
				break
			}
			w.commit(batch)
			clear(batch) // let answered requests go back to the pool alone
			w.spare = batch[:0]
		}
		select {
		case <-l.queue.closed:
			return
		default:
		}
	}
}

// commit writes one group and answers all its callers.
func (w *writer) commit(batch []*request) {
	start := time.Now()
	err := w.commitGroup(batch)
	records := 0
	for _, r := range batch {
		records += len(r.records)
		r.err = err
		if err != nil {
			r.first = 0
		}
		r.done <- struct{}{}
	}
	if err == nil && w.l.opts.OnCommit != nil {
		w.l.opts.OnCommit(records, len(w.buf), time.Since(start))
	}
	if cap(w.buf) > 2*w.l.opts.MaxPendingBytes {
		w.buf = nil // a lone huge Append: do not keep its buffer forever
	}
}

func (w *writer) commitGroup(batch []*request) error {
	if w.failed != nil {
		return w.failed
	}
	if w.dirty {
		if err := w.rollback(); err != nil {
			return w.recoverFrom(err)
		}
	}
	ts := max(w.l.opts.Now().UnixNano(), w.lastTS)
	w.encode(batch, ts)
	if err := w.write(); err != nil {
		return w.recoverFrom(err)
	}
	w.publish(ts)
	return nil
}

// encode frames every record of the group into w.buf, assigns sequence
// numbers, and splits the frames into chunks at segment boundaries.
func (w *writer) encode(batch []*request, ts int64) {
	total := 0
	for _, r := range batch {
		total += r.size
	}
	if cap(w.buf) < total {
		w.buf = make([]byte, total+total/4)
	}
	w.buf = w.buf[:total]
	w.chunks, w.index = w.chunks[:0], w.index[:0]
	segSize, ib, seq, pos := w.size, w.ib, w.nextSeq, 0
	cur := chunk{first: seq}
	for _, r := range batch {
		r.first = seq
		for _, rec := range r.records {
			n := frameSize(len(rec))
			if segSize > segmentHeaderSize && segSize+int64(n) > w.l.opts.SegmentSize {
				cur.end, cur.last, cur.idxEnd = pos, seq-1, len(w.index)
				w.chunks = append(w.chunks, cur)
				cur = chunk{start: pos, first: seq, idxStart: len(w.index)}
				segSize, ib.next = segmentHeaderSize, 0
			}
			w.index = ib.add(w.index, seq, segSize)
			pos += putFrame(w.buf[pos:], seq, ts, rec)
			segSize += int64(n)
			seq++
		}
	}
	cur.end, cur.last, cur.idxEnd = pos, seq-1, len(w.index)
	w.chunks = append(w.chunks, cur)
	w.nextIB = ib
}

// write puts each chunk in its segment with one write and one fdatasync,
// taking or creating segments as the chunks need them.
func (w *writer) write() error {
	f, off, end := w.file, w.size, w.fileEnd
	for i, c := range w.chunks {
		if i > 0 {
			seg, nf, nend, err := w.l.nextSegment(c.first)
			if err != nil {
				return err
			}
			w.created = append(w.created, createdSegment{seg: seg, file: nf, end: nend})
			f, off, end = nf, segmentHeaderSize, nend
		}
		sealing := i < len(w.chunks)-1
		if err := w.writeChunk(f, off, end, w.buf[c.start:c.end], sealing); err != nil {
			return err
		}
	}
	return nil
}

// writeChunk writes data at off and syncs it. A segment that the group fills
// (sealing) is first cut to its records, dropping a prepared file's zeros,
// so that every segment but the last ends with its last record; the same
// fdatasync makes the new size durable before the next segment can exist.
func (w *writer) writeChunk(f segmentFile, off, end int64, data []byte, sealing bool) error {
	trim := sealing && end > off+int64(len(data))
	if len(data) == 0 && !trim {
		return nil
	}
	if len(data) > 0 {
		if _, err := f.WriteAt(data, off); err != nil {
			return fmt.Errorf("eventlog: write: %w", err)
		}
	}
	if trim {
		if err := f.Truncate(off + int64(len(data))); err != nil {
			return fmt.Errorf("eventlog: cut the prepared tail of a full segment: %w", err)
		}
	}
	if err := f.Datasync(); err != nil {
		return fmt.Errorf("eventlog: sync: %w", err)
	}
	return nil
}

// publish makes the group visible: segment state first, then LastSeq, which
// is what readers and Wait go by.
func (w *writer) publish(ts int64) {
	l := w.l
	l.mu.Lock()
	seg := w.active
	for i, c := range w.chunks {
		if i > 0 {
			seg = w.created[i-1].seg
			l.segs = append(l.segs, seg)
		}
		if c.start == c.end {
			continue
		}
		if seg.empty() {
			seg.firstTS = ts
		}
		seg.size += int64(c.end - c.start)
		seg.last = c.last
		seg.lastTS = ts
		seg.index = append(seg.index, w.index[c.idxStart:c.idxEnd]...)
	}
	l.mu.Unlock()
	if n := len(w.created); n > 0 {
		w.closeSealed(w.file)
		for _, c := range w.created[:n-1] {
			w.closeSealed(c.file)
		}
		w.active, w.file = w.created[n-1].seg, w.created[n-1].file
		w.fileEnd = w.created[n-1].end
		w.created = w.created[:0]
		w.commits, w.since, w.base = 0, time.Now(), segmentHeaderSize
	}
	w.size = w.active.size
	w.fileEnd = max(w.fileEnd, w.size)
	w.commits++
	w.nextSeq = w.chunks[len(w.chunks)-1].last + 1
	w.lastTS, w.ib = ts, w.nextIB
	l.published(w.nextSeq - 1)
	w.maybePrepare()
}

// maybePrepare starts preparing the next segment once the active one is
// half full (see planFill for how).
func (w *writer) maybePrepare() {
	if w.size < w.l.opts.SegmentSize/2 || !w.l.prep.idle() {
		return
	}
	avg := (w.size - segmentHeaderSize) / int64(max(w.commits, 1))
	rate := float64(w.size-w.base) / max(time.Since(w.since).Seconds(), 1e-3)
	w.l.prep.want(planFill(avg, w.l.zeroFillBelow, rate))
}

// closeSealed closes the write handle of a segment whose data is synced; a
// failure there loses nothing, so it is only logged.
func (w *writer) closeSealed(f segmentFile) {
	if err := f.Close(); err != nil {
		w.l.opts.Logger.Warn("eventlog: close sealed segment", "err", err)
	}
}

// recoverFrom handles a failed write or sync: roll back to the last durable
// offset, then keep going after a full disk and stop appending after anything
// else (see the package doc on fsyncgate).
func (w *writer) recoverFrom(err error) error {
	w.dirty = true
	rerr := w.rollback()
	if isNoSpace(err) && (rerr == nil || isNoSpace(rerr)) {
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	w.failed = fmt.Errorf("%w: %w", ErrFailed, errors.Join(err, rerr))
	w.l.opts.Logger.Error("eventlog: appends stopped after an I/O failure", "err", w.failed)
	return w.failed
}

// rollback removes the segments a failed commit created and truncates the
// active segment back to its durable size. Removals are made durable first,
// so a crash in between never leaves a gap before a later segment.
func (w *writer) rollback() error {
	for i := len(w.created) - 1; i >= 0; i-- {
		c := w.created[i]
		c.file.Close()
		if err := w.l.fs.remove(c.seg.path); err != nil && !isNotExist(err) {
			return fmt.Errorf("eventlog: roll back: %w", err)
		}
		w.created, w.pending = w.created[:i], true
	}
	if w.pending {
		if err := w.l.fs.syncDir(w.l.dir); err != nil {
			return fmt.Errorf("eventlog: roll back: %w", err)
		}
		w.pending = false
	}
	if err := truncateDurably(w.file, w.size); err != nil {
		return fmt.Errorf("eventlog: roll back to offset %d: %w", w.size, err)
	}
	w.fileEnd = w.size // a prepared tail goes too; the disk may be full
	w.dirty = false
	return nil
}

// trim cuts the active segment's prepared zeros when the log closes, so that
// a closed log's files end with their last record.
func (w *writer) trim() error {
	if w.fileEnd <= w.size || w.failed != nil {
		return nil
	}
	if err := truncateDurably(w.file, w.size); err != nil {
		return fmt.Errorf("eventlog: cut the prepared tail of the last segment: %w", err)
	}
	w.fileEnd = w.size
	return nil
}
