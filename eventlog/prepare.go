package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
)

// preparedName is the file the preparer makes ahead of the writer. It is
// not a segment name, so listing segments ignores it.
const preparedName = "next-segment.tmp"

// minFreeSegments: the preparer leaves a disk alone when it has less free
// space than this many segments, so that zeros never take the room that
// records need.
const minFreeSegments = 4

// preparer makes the next segment file in the background while the active
// one fills up, and rotation renames it into place instead of creating a
// file (a create, a header sync and a directory sync in the writer's path).
//
// How it prepares depends on the size of the group commits, which the
// writer passes to want. Small commits get a zero-filled file (a header,
// then zeros, written and synced): every commit then overwrites blocks that
// exist, so its fdatasync writes data only, while appending to a file also
// has to commit its new size and block allocation (a journal commit). With
// 64 goroutines appending one 750-byte record each, that made commits 34 %
// faster (median 0.50 → 0.33 ms) and the log 32 % faster on the disk this
// was measured on. Large commits are limited by the disk's bandwidth
// instead, which writing every segment twice would halve: for them the file
// is only allocated (fallocate), which costs no writes, keeps the file size
// fixed and still spares the rotation; writing into allocated but unwritten
// blocks costs about what appending does.
//
// Preparation starts when the active segment is half full, and at most one
// file is prepared at a time. When it is not ready in time, or fails, the
// writer creates the segment the old way; a failed preparation is retried
// only after the next rotation.
type preparer struct {
	fs     fileSystem
	dir    string
	path   string
	size   int64
	logger *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	state prepState
	plan  fillPlan // how the file under way is prepared
}

// defaultZeroFillBelow is the average group commit, in bytes, below which
// the preparer zero-fills (see preparer); larger commits get allocated
// files. Log.zeroFillBelow holds it, for tests to change.
const defaultZeroFillBelow = 256 << 10

// Zeros are written at paceFactor times the rate at which the active
// segment filled, and at least minPace bytes a second: fast enough to be
// done well before the active segment is full, slow enough that the disk
// takes them as a trickle beside the writer's commits rather than as a
// burst that holds up the commits' syncs for tens of milliseconds.
const (
	paceFactor = 4
	minPace    = 16 << 20
)

// planFill decides how to prepare the next segment from the active one:
// avgCommit is its average group commit in bytes, and it filled at rate
// bytes a second.
func planFill(avgCommit, zeroFillBelow int64, rate float64) fillPlan {
	return fillPlan{zero: avgCommit < zeroFillBelow, pace: max(int64(paceFactor*rate), minPace)}
}

type prepState int

const (
	prepIdle   prepState = iota // nothing prepared, may start
	prepBusy                    // a goroutine is filling the file
	prepReady                   // the file is complete and synced
	prepFailed                  // the last attempt failed; wait for a rotation
	prepClosed                  // the log is closing
)

func (p *preparer) init(l *Log) {
	p.fs, p.dir, p.size, p.logger = l.fs, l.dir, l.opts.SegmentSize, l.opts.Logger
	p.path = filepath.Join(l.dir, preparedName)
	p.ctx, p.cancel = context.WithCancel(context.Background())
}

// clean removes a prepared file left by an earlier process: it may have been
// cut short by a crash, so it is never reused.
func (p *preparer) clean() error {
	if err := p.fs.remove(p.path); err != nil && !isNotExist(err) {
		return fmt.Errorf("eventlog: remove leftover %s: %w", p.path, err)
	}
	return nil
}

// want starts preparing the next segment as plan says, unless one is ready
// or under way.
func (p *preparer) want(plan fillPlan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != prepIdle {
		return
	}
	p.state, p.plan = prepBusy, plan
	p.wg.Go(p.run)
}

// idle reports whether want would start a preparation.
func (p *preparer) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == prepIdle
}

func (p *preparer) run() {
	err := errNoRoom
	if free, known := freeSpace(p.dir); !known || free >= minFreeSegments*p.size {
		err = p.fs.prepare(p.ctx, p.path, p.size, p.plan)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.state == prepClosed:
	case err != nil:
		p.state = prepFailed
		if !errors.Is(err, errNoRoom) {
			p.logger.Warn("eventlog: preparing the next segment failed; segments are created when needed instead", "err", err)
		}
	default:
		p.state = prepReady
	}
}

var errNoRoom = errors.New("too little free space to prepare a segment")

// take reports whether a prepared file is ready and, if so, hands it to the
// caller, who renames it. Called at each rotation, it also ends the wait
// after a failure.
func (p *preparer) take() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.state {
	case prepReady:
		p.state = prepIdle
		return true
	case prepFailed:
		p.state = prepIdle
	}
	return false
}

// settle waits until no preparation is running.
func (p *preparer) settle() { p.wg.Wait() }

// close stops preparing and removes the prepared file: a closed log's
// directory holds its segments only.
func (p *preparer) close() error {
	p.mu.Lock()
	p.state = prepClosed
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	return p.clean()
}
