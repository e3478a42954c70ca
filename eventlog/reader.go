package eventlog

import (
	"errors"
	"io"
	"sync"
)

// frame is one decoded record. data aliases the reader's buffer and is valid
// until the next call to next.
type frame struct {
	seq  uint64
	ts   int64
	data []byte
	off  int64 // byte offset of the frame in its segment
}

// frameReader decodes frames sequentially from the byte range [off, end) of
// a segment, reading through a buffer in large chunks. It checks every
// frame's bounds, checksum and sequence number; the first bad frame stops it
// with a *CorruptError.
type frameReader struct {
	r    io.ReaderAt
	file string // named in errors
	end  int64
	want uint64 // sequence number the next frame must carry

	buf   []byte
	chunk int   // bytes to ask for on the next read; doubles up to len(buf)
	base  int64 // file offset of buf[0]
	pos   int   // next unread byte in buf
	n     int   // valid bytes in buf
}

func newFrameReader(r io.ReaderAt, file string, off, end int64, want uint64, buf []byte) *frameReader {
	buf = buf[:cap(buf)]
	return &frameReader{r: r, file: file, end: end, want: want, buf: buf, base: off, chunk: min(firstChunk, len(buf))}
}

// offset is the file offset of the next frame.
func (fr *frameReader) offset() int64 { return fr.base + int64(fr.pos) }

// next returns the next frame, io.EOF exactly at the end of the range, or a
// *CorruptError (or an I/O error) describing why no valid frame is there.
func (fr *frameReader) next() (frame, error) {
	off := fr.offset()
	left := fr.end - off
	if left == 0 {
		return frame{}, io.EOF
	}
	if err := fr.fill(int(min(left, frameHeaderSize))); err != nil {
		return frame{}, err
	}
	if head := fr.buf[fr.pos : fr.pos+int(min(left, frameHeaderSize))]; allZero(head) {
		// No frame starts with zeros (sequence numbers start at 1, and a
		// zero CRC never matches a zero header), so this is the zero-filled
		// space of a prepared segment that no write has reached.
		return frame{}, &CorruptError{File: fr.file, Offset: off, Reason: "zero-filled space where a frame should start", zeros: true}
	}
	if left < frameHeaderSize {
		return frame{}, corruptf(fr.file, off, "truncated frame header: %d of %d bytes", left, frameHeaderSize)
	}
	h := parseFrameHeader(fr.buf[fr.pos:])
	size := int64(frameSize(int(h.length)))
	if h.length > maxFramePayload || size > left {
		return frame{}, corruptf(fr.file, off, "frame of %d bytes runs past the end of the data (%d bytes left)", size, left)
	}
	if err := fr.fill(int(size)); err != nil {
		return frame{}, err
	}
	raw := fr.buf[fr.pos : fr.pos+int(size)]
	if !checksumOK(raw) {
		return frame{}, corruptf(fr.file, off, "checksum mismatch")
	}
	if h.seq != fr.want {
		return frame{}, corruptf(fr.file, off, "sequence number %d, want %d", h.seq, fr.want)
	}
	fr.pos += int(size)
	fr.want++
	return frame{seq: h.seq, ts: h.ts, data: raw[frameHeaderSize:], off: off}, nil
}

// fill makes at least need bytes available at buf[pos:], which the caller
// has checked lie before end.
func (fr *frameReader) fill(need int) error {
	if fr.n-fr.pos >= need {
		return nil
	}
	// Move the unread bytes to the front, growing the buffer for a frame
	// larger than it.
	kept := fr.n - fr.pos
	if need > len(fr.buf) {
		grown := make([]byte, need)
		copy(grown, fr.buf[fr.pos:fr.n])
		fr.buf = grown
	} else {
		copy(fr.buf, fr.buf[fr.pos:fr.n])
	}
	fr.base += int64(fr.pos)
	fr.pos, fr.n = 0, kept
	// Reads start small, for a reader that wants a few records, and grow,
	// for one that scans.
	want := min(int64(max(fr.chunk, need)-kept), int64(len(fr.buf)-kept), fr.end-fr.base-int64(kept))
	fr.chunk = min(2*fr.chunk, len(fr.buf))
	got, err := fr.r.ReadAt(fr.buf[kept:kept+int(want)], fr.base+int64(kept))
	fr.n += got
	if fr.n-fr.pos >= need {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		// The file is shorter than the range we were told to read.
		return corruptf(fr.file, fr.base+int64(fr.n), "file ends %d bytes early", fr.end-fr.base-int64(fr.n))
	}
	return err
}

// firstChunk is the first read of a frameReader: a page of a hundred
// typical events, or the index gap before it.
const firstChunk = 64 << 10

// readBufferSize is the largest chunk readers fetch per system call: large enough
// that a scan is bound by copying, not by system calls.
const readBufferSize = 1 << 20

var readBuffers = sync.Pool{New: func() any {
	b := make([]byte, readBufferSize)
	return &b
}}

func getReadBuffer() *[]byte { return readBuffers.Get().(*[]byte) }

// putReadBuffer recycles b unless a huge record grew it.
func putReadBuffer(b *[]byte, fr *frameReader) {
	if fr != nil && cap(fr.buf) <= 4*readBufferSize {
		*b = fr.buf
	}
	readBuffers.Put(b)
}
