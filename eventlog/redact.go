package eventlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// ErrRedactSize means a replacement payload is not the size of the record
// it replaces.
var ErrRedactSize = errors.New("eventlog: a redacted payload must keep its record's size")

// Redact overwrites the payloads of the records seqs in place, for erasure:
// replace gets each record's sequence number and payload and returns the
// new payload, which must have the same length, so that every frame keeps
// its offset and the segment index, sizes and sequence numbers stay valid.
// Each changed frame is rewritten with a new checksum, and each touched
// segment synced before Redact returns; only the segments holding the
// records are read and written. Sequence numbers that are not durable, or
// were removed by retention, are skipped. It returns how many records it
// rewrote.
//
// A reader reading one of those frames at the very moment it is rewritten
// may see a checksum mismatch; the log's readers then read the frame again,
// so consumers can go on while a person's records are redacted.
func (l *Log) Redact(seqs []uint64, replace func(seq uint64, old []byte) []byte) (int, error) {
	l.retentionMu.Lock() // segments stay while we rewrite them
	defer l.retentionMu.Unlock()
	l.redactions.Add(1) // odd while running: readers retry a torn frame
	defer l.redactions.Add(1)
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	seqs = slices.Compact(seqs)
	done := 0
	for len(seqs) > 0 {
		if seqs[0] == 0 {
			seqs = seqs[1:]
			continue
		}
		sp, ok, err := l.locate(seqs[0] - 1)
		if err != nil || !ok {
			return done, err
		}
		i, _ := slices.BinarySearch(seqs, sp.last+1)
		in, rest := seqs[:i], seqs[i:]
		if sp.from > in[0] { // retention removed them
			in = in[:0]
			for _, s := range seqs[:i] {
				if s >= sp.from {
					in = append(in, s)
				}
			}
		}
		n, err := redactSpan(sp, in, replace)
		done += n
		if err != nil {
			return done, err
		}
		seqs = rest
	}
	return done, nil
}

// redactSpan rewrites the frames seqs (ascending, all in sp) of one
// segment and syncs it.
func redactSpan(sp span, seqs []uint64, replace func(uint64, []byte) []byte) (int, error) {
	if len(seqs) == 0 {
		return 0, nil
	}
	f, err := os.OpenFile(sp.path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("eventlog: open segment to redact: %w", err)
	}
	defer f.Close()
	buf := getReadBuffer()
	fr := newFrameReader(f, sp.path, sp.off, sp.end, sp.from, *buf)
	defer putReadBuffer(buf, fr)
	done := 0
	for len(seqs) > 0 {
		fm, err := fr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return done, readError(err)
		}
		if fm.seq != seqs[0] {
			continue
		}
		seqs = seqs[1:]
		data := replace(fm.seq, slices.Clone(fm.data))
		if len(data) != len(fm.data) {
			return done, fmt.Errorf("%w: record %d has %d bytes, the replacement %d", ErrRedactSize, fm.seq, len(fm.data), len(data))
		}
		frameBuf := make([]byte, frameSize(len(data)))
		putFrame(frameBuf, fm.seq, fm.ts, data)
		if _, err := f.WriteAt(frameBuf, fm.off); err != nil {
			return done, fmt.Errorf("eventlog: redact record %d: %w", fm.seq, err)
		}
		done++
	}
	if err := datasync(f); err != nil {
		return done, fmt.Errorf("eventlog: sync redacted segment: %w", err)
	}
	return done, nil
}
