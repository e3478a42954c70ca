package eventlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

const (
	segmentMagic      = "MOSLOG"
	segmentVersion    = 1
	segmentHeaderSize = 8
	segmentExt        = ".seg"
	segmentNameDigits = 20

	// frameHeaderSize is crc(4) + length(4) + seq(8) + timestamp(8).
	frameHeaderSize = 24
	// maxFramePayload keeps a frame's length in its uint32 field with room
	// to spare; Options.MaxRecordSize is the limit users meet first.
	maxFramePayload = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segmentHeader returns the 8 bytes every segment file starts with.
func segmentHeader() []byte {
	h := make([]byte, segmentHeaderSize)
	copy(h, segmentMagic)
	binary.LittleEndian.PutUint16(h[6:], segmentVersion)
	return h
}

// segmentName is the file name of the segment whose first record is first.
// Zero padding makes lexical order equal numeric order.
func segmentName(first uint64) string {
	return fmt.Sprintf("%0*d%s", segmentNameDigits, first, segmentExt)
}

// parseSegmentName returns the first sequence number encoded in name, and
// false for files that are not segments.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != segmentNameDigits {
		return 0, false
	}
	first, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || first == 0 {
		return 0, false
	}
	return first, true
}

// frameSize is the on-disk size of a record with n payload bytes.
func frameSize(n int) int { return frameHeaderSize + n }

// putFrame encodes a record into b, which must hold frameSize(len(data))
// bytes, and returns the bytes used.
func putFrame(b []byte, seq uint64, ts int64, data []byte) int {
	n := frameSize(len(data))
	b = b[:n]
	binary.LittleEndian.PutUint32(b[4:], uint32(len(data)))
	binary.LittleEndian.PutUint64(b[8:], seq)
	binary.LittleEndian.PutUint64(b[16:], uint64(ts))
	copy(b[frameHeaderSize:], data)
	binary.LittleEndian.PutUint32(b[0:], crc32.Checksum(b[4:], castagnoli))
	return n
}

// frameHeader is the decoded fixed part of a frame.
type frameHeader struct {
	crc    uint32
	length uint32
	seq    uint64
	ts     int64
}

func parseFrameHeader(b []byte) frameHeader {
	return frameHeader{
		crc:    binary.LittleEndian.Uint32(b[0:]),
		length: binary.LittleEndian.Uint32(b[4:]),
		seq:    binary.LittleEndian.Uint64(b[8:]),
		ts:     int64(binary.LittleEndian.Uint64(b[16:])),
	}
}

// checksumOK reports whether frame (header and payload) matches its CRC.
func checksumOK(frame []byte) bool {
	return crc32.Checksum(frame[4:], castagnoli) == binary.LittleEndian.Uint32(frame)
}

// checkSegmentHeader validates the first bytes of a segment file.
func checkSegmentHeader(b []byte) string {
	switch {
	case len(b) < segmentHeaderSize:
		return fmt.Sprintf("header is %d bytes, want %d", len(b), segmentHeaderSize)
	case string(b[:len(segmentMagic)]) != segmentMagic:
		return fmt.Sprintf("bad magic %q, not a Mosaic event log segment", b[:len(segmentMagic)])
	}
	if v := binary.LittleEndian.Uint16(b[len(segmentMagic):]); v != segmentVersion {
		return fmt.Sprintf("format version %d, this build reads version %d", v, segmentVersion)
	}
	return ""
}
