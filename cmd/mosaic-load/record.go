package main

import (
	"bufio"
	"fmt"
	"os"
	"sync"
	"time"
)

// recordFlushInterval bounds how long an acknowledged messageId sits in
// memory before it reaches the record file.
const recordFlushInterval = 100 * time.Millisecond

// Recorder appends acknowledged messageIds to a file, one per line. Only
// ids the server answered 200 for are given to it, so the file is a list
// of promises the server made: a crash test checks each one was kept.
type Recorder struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	n    uint64
	err  error
	stop chan struct{}
	done chan struct{}
}

// CreateRecorder opens path for appending (so several runs can share one
// file) and starts flushing it every recordFlushInterval.
func CreateRecorder(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open record file: %w", err)
	}
	r := &Recorder{f: f, w: bufio.NewWriterSize(f, 256<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go r.flushLoop()
	return r, nil
}

// Record appends ids. Write errors are kept and returned by Close.
func (r *Recorder) Record(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		r.w.WriteString(id)
		r.w.WriteByte('\n')
	}
	r.n += uint64(len(ids))
}

// Count is the number of ids recorded so far.
func (r *Recorder) Count() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *Recorder) flushLoop() {
	defer close(r.done)
	t := time.NewTicker(recordFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.flush()
		}
	}
}

func (r *Recorder) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = fmt.Errorf("write record file %s: %w", r.f.Name(), err)
	}
}

// Close flushes what is left, syncs and closes the file.
func (r *Recorder) Close() error {
	close(r.stop)
	<-r.done
	r.flush()
	if err := r.f.Sync(); err != nil && r.err == nil {
		r.err = fmt.Errorf("sync record file %s: %w", r.f.Name(), err)
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = fmt.Errorf("close record file %s: %w", r.f.Name(), err)
	}
	return r.err
}
