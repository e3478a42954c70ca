package eventlog

import (
	"errors"
	"fmt"
	"syscall"
)

var (
	// ErrClosed is returned by operations on a closed Log, and by Append
	// calls still waiting for queue space when Close is called.
	ErrClosed = errors.New("eventlog: log is closed")

	// ErrNoSpace means a group commit failed because the disk or quota is
	// full (ENOSPC or EDQUOT; the returned error wraps that too). Nothing of
	// the failed Append was made durable or visible, and the log stays
	// usable: retry once space has been freed.
	ErrNoSpace = errors.New("eventlog: no space left on device; free disk space and retry")

	// ErrTooLarge means a record exceeds Options.MaxRecordSize. Nothing of
	// the Append was written.
	ErrTooLarge = errors.New("eventlog: record too large")

	// ErrFailed means an earlier write or sync failed with an error other
	// than a full disk. The log no longer accepts appends because the state
	// of unsynced data can no longer be trusted after a failed fsync; reads
	// of durable records keep working. Close and reopen the log (restart the
	// process) once the cause, wrapped in the error, has been dealt with.
	ErrFailed = errors.New("eventlog: log refuses appends after an I/O failure; restart to recover")

	// ErrCorrupt is wrapped by *CorruptError: a segment holds bytes that are
	// not a valid record where one must be.
	ErrCorrupt = errors.New("eventlog: corrupt segment")
)

// CorruptError reports damage in a segment file: which file, at which byte
// offset, and what was wrong there. errors.Is(err, ErrCorrupt) matches it.
// Restore the file from a backup, or move the damaged segment and all later
// ones away to drop their records.
type CorruptError struct {
	File   string // path of the segment file
	Offset int64  // byte offset of the damaged frame or header
	Reason string // what was found, e.g. "checksum mismatch"

	zeros bool // the frame's place holds zeros: the end of a prepared tail
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("eventlog: corrupt segment %s at offset %d: %s", e.File, e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func corruptf(file string, off int64, format string, args ...any) error {
	return &CorruptError{File: file, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// isNoSpace reports whether err is a full disk or quota, the one write
// failure the log recovers from in place.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
