package eventlog

import (
	"fmt"
	"log/slog"
	"time"
)

// Options tunes a Log. The zero value of each field means its default, so
// Options{} and DefaultOptions() open the same log.
type Options struct {
	// SegmentSize is the size at which the active segment is sealed and a new
	// one started. Retention deletes whole segments, so smaller segments free
	// space in finer steps at the cost of more files. Default 64 MiB.
	SegmentSize int64

	// MaxRecordSize is the largest payload one record may have; Append
	// rejects a larger one with ErrTooLarge. Default 16 MiB.
	MaxRecordSize int

	// MaxPendingBytes bounds the framed bytes waiting for the writer. An
	// Append that would exceed it waits (cancellably) until the writer takes
	// the queue, which pushes back on producers when the disk is slower than
	// they are. A single Append larger than this still goes through alone.
	// Default 32 MiB.
	MaxPendingBytes int

	// IndexInterval is the spacing in bytes of the in-memory sparse index:
	// Read and Scan start at most this many bytes before the wanted record.
	// Default 64 KiB (about 16 bytes of memory per 64 KiB of log).
	IndexInterval int

	// Now is the clock stamped on appended records. Default time.Now.
	Now func() time.Time

	// Logger receives warnings, such as a torn tail truncated at Open.
	// Default: discard.
	Logger *slog.Logger

	// OnCommit, if set, is called by the writer after each group commit that
	// reached the disk, with the records and framed bytes it wrote and how
	// long the write and sync took. It runs on the writer's goroutine, so it
	// must be quick (update a metric, nothing more).
	OnCommit func(records, bytes int, took time.Duration)
}

const (
	defaultSegmentSize     = 64 << 20
	defaultMaxRecordSize   = 16 << 20
	defaultMaxPendingBytes = 32 << 20
	defaultIndexInterval   = 64 << 10
	// minSegmentSize keeps room for the header and at least one small frame.
	minSegmentSize = segmentHeaderSize + frameHeaderSize
)

// DefaultOptions returns the options used for fields left at zero.
func DefaultOptions() Options {
	return Options{
		SegmentSize:     defaultSegmentSize,
		MaxRecordSize:   defaultMaxRecordSize,
		MaxPendingBytes: defaultMaxPendingBytes,
		IndexInterval:   defaultIndexInterval,
		Now:             time.Now,
		Logger:          slog.New(slog.DiscardHandler),
	}
}

// withDefaults fills zero fields from DefaultOptions and rejects values that
// cannot work.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.SegmentSize == 0 {
		o.SegmentSize = d.SegmentSize
	}
	if o.MaxRecordSize == 0 {
		o.MaxRecordSize = d.MaxRecordSize
	}
	if o.MaxPendingBytes == 0 {
		o.MaxPendingBytes = d.MaxPendingBytes
	}
	if o.IndexInterval == 0 {
		o.IndexInterval = d.IndexInterval
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	return o, o.validate()
}

func (o Options) validate() error {
	switch {
	case o.SegmentSize < minSegmentSize:
		return fmt.Errorf("eventlog: SegmentSize %d is below the minimum %d; use 0 for the default", o.SegmentSize, minSegmentSize)
	case o.MaxRecordSize < 0 || o.MaxRecordSize > maxFramePayload:
		return fmt.Errorf("eventlog: MaxRecordSize %d is outside 1..%d; use 0 for the default", o.MaxRecordSize, maxFramePayload)
	case o.MaxPendingBytes < 0:
		return fmt.Errorf("eventlog: MaxPendingBytes %d is negative; use 0 for the default", o.MaxPendingBytes)
	case o.IndexInterval < 0:
		return fmt.Errorf("eventlog: IndexInterval %d is negative; use 0 for the default", o.IndexInterval)
	}
	return nil
}
