package eventlog

import (
	"fmt"
	"time"
)

// RemoveBefore deletes whole segments whose newest record was appended
// before t, oldest first, never the active segment, and returns how many it
// deleted. Afterwards FirstSeq() is the first record of the oldest kept
// segment. A reader in the middle of a deleted segment finishes it; later
// reads skip to FirstSeq().
//
// Append times never decrease, so the newest record of a segment is no newer
// than the first of the next: most segments are decided without reading
// them, and at most one is read whole per call.
func (l *Log) RemoveBefore(t time.Time) (int, error) {
	l.retentionMu.Lock()
	defer l.retentionMu.Unlock()
	cut := t.UnixNano()
	removed := 0
	for {
		seg, next, err := l.oldestSealed()
		if err != nil || seg == nil {
			return removed, l.finishRemoval(removed, err)
		}
		old, err := l.olderThan(seg, next, cut)
		if err != nil || !old {
			return removed, l.finishRemoval(removed, err)
		}
		if err := l.fs.remove(seg.path); err != nil {
			return removed, l.finishRemoval(removed, fmt.Errorf("eventlog: remove segment: %w", err))
		}
		l.mu.Lock()
		l.segs = l.segs[1:]
		l.mu.Unlock()
		removed++
	}
}

// finishRemoval makes removals durable with one directory sync.
func (l *Log) finishRemoval(removed int, err error) error {
	if removed > 0 {
		if serr := l.fs.syncDir(l.dir); serr != nil && err == nil {
			err = fmt.Errorf("eventlog: sync directory after removing segments: %w", serr)
		}
	}
	return err
}

// oldestSealed returns the oldest segment if it is not the active one, with
// the segment after it; nil when only the active segment is left.
func (l *Log) oldestSealed() (seg, next *segment, err error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, nil, ErrClosed
	}
	if len(l.segs) < 2 {
		return nil, nil, nil
	}
	return l.segs[0], l.segs[1], nil
}

// olderThan reports whether seg's newest record was appended before cut.
func (l *Log) olderThan(seg, next *segment, cut int64) (bool, error) {
	l.mu.RLock()
	loaded, lastTS, firstTS := seg.loaded, seg.lastTS, seg.firstTS
	nextEmpty, nextFirstTS := next.empty(), next.firstTS
	l.mu.RUnlock()
	switch {
	case loaded:
		return lastTS < cut, nil
	case firstTS >= cut:
		return false, nil
	case !nextEmpty && nextFirstTS < cut:
		return true, nil
	}
	if err := l.load(seg); err != nil {
		return false, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return seg.lastTS < cut, nil
}
