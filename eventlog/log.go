package eventlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Log is a durable append-only log of records. It is safe for concurrent
// use: many goroutines may Append, Read, Scan and Wait at once.
type Log struct {
	dir  string
	opts Options
	fs   fileSystem
	lock *os.File

	mu     sync.RWMutex // guards segs, closed and the segments' published state
	segs   []*segment   // oldest first; the last one is the active segment
	closed bool

	lastSeq atomic.Uint64 // highest durable sequence number

	nmu           sync.Mutex    // guards notify, notifyWaiting
	notify        chan struct{} // closed when lastSeq grows and someone waits
	notifyWaiting bool

	queue queue
	w     writer // owned by the writer goroutine once Open returns
	prep  preparer

	zeroFillBelow int64 // see defaultZeroFillBelow

	retentionMu sync.Mutex    // one RemoveBefore at a time
	redactions  atomic.Uint64 // Redact calls begun and ended: odd while one runs
}

// Record is one record of the log.
type Record struct {
	Seq  uint64    // sequence number, from 1
	Time time.Time // when it was appended (its group commit's clock reading)
	Data []byte    // the payload as appended
}

// Open opens the log in dir, creating the directory and a first segment if
// needed. It recovers from a crash: a torn or corrupt tail of the last
// segment is truncated at the last valid record (logged as a warning), so
// that appends continue right after the last record that was written whole.
// Only one Log may have a directory open at a time.
func Open(dir string, opts Options) (*Log, error) {
	return open(dir, opts, osFS{})
}

func open(dir string, opts Options, fsys fileSystem) (*Log, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := makeDir(dir, fsys); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opts: opts, fs: fsys, lock: lock, notify: make(chan struct{}), zeroFillBelow: defaultZeroFillBelow}
	l.queue.init(opts.MaxPendingBytes)
	l.prep.init(l)
	if err := l.prep.clean(); err != nil {
		lock.Close()
		return nil, err
	}
	if err := l.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	go l.run()
	return l, nil
}

// makeDir creates dir and, when it is new, syncs its parent so that the
// directory itself survives a power loss along with the segments in it.
func makeDir(dir string, fsys fileSystem) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("eventlog: create directory: %w", err)
	}
	if err := fsys.syncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("eventlog: sync parent of %s: %w", dir, err)
	}
	return nil
}

// listSegments returns the first sequence numbers of the segments in dir,
// in order. Other files are ignored.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("eventlog: list segments: %w", err)
	}
	var firsts []uint64
	for _, e := range entries {
		if first, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			firsts = append(firsts, first)
		}
	}
	slices.Sort(firsts)
	return firsts, nil
}

func (l *Log) segmentPath(first uint64) string {
	return filepath.Join(l.dir, segmentName(first))
}

// LastSeq returns the highest durable sequence number, 0 for an empty log.
func (l *Log) LastSeq() uint64 { return l.lastSeq.Load() }

// FirstSeq returns the lowest sequence number still kept after retention, or
// LastSeq()+1 when no record is kept (1 for a new log). A reader whose
// position p has p+1 < FirstSeq() has missed records that retention removed.
func (l *Log) FirstSeq() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.segs[0].first
}

// Size returns the durable bytes of all segments: headers and records, the
// log's logical size. The active segment's file may be larger than its part,
// with zeros prepared ahead of the writer, which Size does not count.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// Segments returns the number of segment files, the active one included.
func (l *Log) Segments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs)
}

// Close stops accepting appends, waits until every Append already queued has
// been committed (or failed), then closes the files. Appends still waiting for
// queue space, and every call after Close, get ErrClosed. Calling Close
// twice returns ErrClosed.
func (l *Log) Close() error {
	if !l.queue.close() {
		return ErrClosed
	}
	<-l.queue.writerDone
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	err := errors.Join(l.prep.close(), l.w.trim())
	if cerr := l.w.file.Close(); err == nil {
		err = cerr
	}
	if lerr := l.lock.Close(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("eventlog: close: %w", err)
	}
	return nil
}

// published is called by the writer once lastSeq has grown, to wake Wait.
func (l *Log) published(last uint64) {
	l.lastSeq.Store(last)
	l.nmu.Lock()
	if l.notifyWaiting {
		close(l.notify)
		l.notify = make(chan struct{})
		l.notifyWaiting = false
	}
	l.nmu.Unlock()
}

// isNotExist reports a segment file that vanished, which retention does.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
