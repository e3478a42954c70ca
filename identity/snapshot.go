package identity

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// A snapshot is the graph's state as it is in memory: the rules, the
// interned types and sources, the value arena, and the node, profile and
// record arrays, little-endian, followed by a CRC-32C of everything before
// it. The hash tables are rebuilt on restore (their hash seed is random per
// process). Restoring a snapshot and resolving more events gives exactly
// what resolving them on the original graph gives.

var snapshotMagic = [8]byte{'M', 'S', 'C', 'I', 'D', 'G', 'R', 1}

// ErrCorruptSnapshot means a snapshot does not decode.
var ErrCorruptSnapshot = errors.New("identity: corrupt snapshot")

const (
	nodeBytes   = 40
	profBytes   = 8 + 4*4 + 2*countedTypes + 1
	recordBytes = 8*3 + 4*5 + 3
)

// Snapshot writes the graph's state to w. It holds the read lock while it
// writes, so Resolve waits: checkpoint the graph every few million events,
// not every batch; a restart replays the log from the snapshot's LastSeq.
func (g *Graph) Snapshot(w io.Writer) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	sw := &snapWriter{w: bufio.NewWriterSize(w, 1<<16), crc: crc32.New(crc32.MakeTable(crc32.Castagnoli))}
	sw.raw(snapshotMagic[:])
	rules, err := json.Marshal(g.rules)
	if err != nil {
		return fmt.Errorf("identity: snapshot: %w", err)
	}
	sw.bytes(rules)
	sw.uvarint(g.lastSeq)
	sw.strings(g.types.list)
	sw.strings(g.sources.list)
	sw.uvarint(uint64(len(g.values.chunks)))
	for _, c := range g.values.chunks {
		sw.bytes(c)
	}
	g.writeArrays(sw)
	sw.flushBuf()
	sum := sw.crc.Sum32()
	if sw.err == nil {
		sw.err = binary.Write(sw.w, binary.LittleEndian, sum)
	}
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	if sw.err != nil {
		return fmt.Errorf("identity: snapshot: %w", sw.err)
	}
	return nil
}

func (g *Graph) writeArrays(sw *snapWriter) {
	sw.uvarint(uint64(g.nodes.len()))
	for i := range int32(g.nodes.len()) {
		n := g.nodes.at(i)
		sw.u32(uint32(n.parent), uint32(n.next), uint32(n.link), n.first, n.last, n.srcs)
		sw.u64(n.linkSeq, n.ref)
	}
	sw.uvarint(uint64(len(g.profs)))
	for i := range g.profs {
		p := &g.profs[i]
		sw.u64(uint64(p.id))
		sw.u32(uint32(p.root), uint32(p.size), uint32(p.head), uint32(p.tail))
		for _, c := range p.counts {
			sw.buf = binary.LittleEndian.AppendUint16(sw.buf, c)
		}
		sw.buf = append(sw.buf, p.flags)
	}
	sw.uvarint(uint64(len(g.free)))
	for _, f := range g.free {
		sw.u32(uint32(f))
	}
	sw.uvarint(uint64(len(g.recs)))
	for i := range g.recs {
		r := &g.recs[i]
		sw.u64(r.seq, uint64(r.self), uint64(r.other))
		sw.u32(uint32(r.a), uint32(r.b), uint32(r.c), uint32(r.d), uint32(r.next))
		sw.buf = append(sw.buf, r.kind, r.rule, r.typ)
		sw.maybeFlush()
	}
	sw.uvarint(uint64(len(g.moreSrcs)))
	for n := range int32(g.nodes.len()) { // in node order, so snapshots are reproducible
		if srcs, ok := g.moreSrcs[n]; ok {
			sw.u32(uint32(n))
			sw.uvarint(uint64(len(srcs)))
			for _, s := range srcs {
				sw.buf = binary.LittleEndian.AppendUint16(sw.buf, s)
			}
		}
	}
}

// snapWriter buffers and checksums what Snapshot writes, keeping the first
// error.
type snapWriter struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf []byte
	err error
}

func (s *snapWriter) maybeFlush() {
	if len(s.buf) >= 1<<15 {
		s.flushBuf()
	}
}

func (s *snapWriter) flushBuf() {
	if s.err == nil {
		s.crc.Write(s.buf)
		_, s.err = s.w.Write(s.buf)
	}
	s.buf = s.buf[:0]
}

func (s *snapWriter) raw(b []byte) {
	s.buf = append(s.buf, b...)
	s.maybeFlush()
}

func (s *snapWriter) uvarint(v uint64) { s.buf = binary.AppendUvarint(s.buf, v) }

func (s *snapWriter) bytes(b []byte) {
	s.uvarint(uint64(len(b)))
	s.flushBuf()
	if s.err == nil {
		s.crc.Write(b)
		_, s.err = s.w.Write(b)
	}
}

func (s *snapWriter) strings(list []string) {
	s.uvarint(uint64(len(list)))
	for _, v := range list {
		s.bytes([]byte(v))
	}
}

func (s *snapWriter) u32(vs ...uint32) {
	for _, v := range vs {
		s.buf = binary.LittleEndian.AppendUint32(s.buf, v)
	}
	s.maybeFlush()
}

func (s *snapWriter) u64(vs ...uint64) {
	for _, v := range vs {
		s.buf = binary.LittleEndian.AppendUint64(s.buf, v)
	}
	s.maybeFlush()
}

// MarshalBinary returns the graph's snapshot (see Snapshot).
func (g *Graph) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	err := g.Snapshot(&b)
	return b.Bytes(), err
}

// UnmarshalBinary replaces the graph's state with a snapshot's. On an error
// the graph is unchanged.
func (g *Graph) UnmarshalBinary(b []byte) error {
	t, err := Restore(bytes.NewReader(b))
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.describe
	g.state = t.state
	g.describe = d
	return nil
}
