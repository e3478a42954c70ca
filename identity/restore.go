package identity

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"slices"
)

// Restore reads a graph written by Snapshot. The graph applies the rules it
// was built with (Graph.Rules); if the configured rules differ, the engine
// should discard the snapshot and replay the log instead, so that every
// event is resolved under the same rules.
func Restore(r io.Reader) (*Graph, error) {
	sr := &snapReader{r: bufio.NewReaderSize(r, 1<<16), crc: crc32.New(crc32.MakeTable(crc32.Castagnoli))}
	g, err := sr.graph()
	if err == nil {
		err = sr.err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptSnapshot, err)
	}
	return g, nil
}

func (sr *snapReader) graph() (*Graph, error) {
	if m := sr.block(len(snapshotMagic)); sr.err != nil || string(m) != string(snapshotMagic[:]) {
		return nil, fmt.Errorf("not an identity snapshot")
	}
	var rules Rules
	if err := json.Unmarshal(sr.bytes(1<<26), &rules); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	g := &Graph{}
	g.init(rules)
	g.lastSeq = sr.uvarint()
	if err := sr.tables(g); err != nil {
		return nil, err
	}
	sr.arrays(g)
	want := sr.crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(sr.r, sum[:]); sr.err == nil && (err != nil || binary.LittleEndian.Uint32(sum[:]) != want) {
		return nil, fmt.Errorf("checksum mismatch")
	}
	if sr.err != nil {
		return nil, sr.err
	}
	if err := g.check(); err != nil {
		return nil, err
	}
	g.reindex()
	return g, nil
}

// tables reads the types, sources and value arena.
func (sr *snapReader) tables(g *Graph) error {
	types := sr.strings(math.MaxUint8+1, MaxTypeBytes)
	if len(types) < len(builtinTypes) || !slices.Equal(types[:len(builtinTypes)], builtinTypes) {
		return fmt.Errorf("types")
	}
	for _, t := range types {
		if _, ok := g.types.lookup(t); ok || checkTypeName(t) != nil {
			return fmt.Errorf("types")
		}
		g.addType(t)
	}
	for _, s := range sr.strings(math.MaxUint16+1, 1<<16) {
		if _, ok := g.sources.lookup(s); ok {
			return fmt.Errorf("sources")
		}
		g.sources.add(s)
	}
	n := sr.count(1 << (refOffBits - chunkBits))
	for i := 0; i < n && sr.err == nil; i++ {
		// Exactly as long as stored: the last chunk grows by append when
		// values are added, and a damaged count cannot make us allocate.
		g.values.chunks = append(g.values.chunks, sr.bytes(chunkSize))
	}
	return nil
}

// arrays reads nodes, profiles, free entries, records and extra sources.
func (sr *snapReader) arrays(g *Graph) {
	sr.each(sr.count(math.MaxInt32), nodeBytes, func(b []byte) {
		g.nodes.add(node{parent: i32(b), next: i32(b[4:]), link: i32(b[8:]), first: u32(b[12:]),
			last: u32(b[16:]), srcs: u32(b[20:]), linkSeq: u64(b[24:]), ref: u64(b[32:])})
	})
	sr.each(sr.count(math.MaxInt32), profBytes, func(b []byte) {
		p := prof{id: ProfileID(u64(b)), root: i32(b[8:]), size: i32(b[12:]), head: i32(b[16:]), tail: i32(b[20:]), flags: b[profBytes-1]}
		for t := range p.counts {
			p.counts[t] = binary.LittleEndian.Uint16(b[24+2*t:])
		}
		g.profs = append(g.profs, p)
	})
	sr.each(sr.count(math.MaxInt32), 4, func(b []byte) { g.free = append(g.free, i32(b)) })
	sr.each(sr.count(math.MaxInt32), recordBytes, func(b []byte) {
		g.recs = append(g.recs, record{seq: u64(b), self: ProfileID(u64(b[8:])), other: ProfileID(u64(b[16:])),
			a: i32(b[24:]), b: i32(b[28:]), c: i32(b[32:]), d: i32(b[36:]), next: i32(b[40:]), kind: b[44], rule: b[45], typ: b[46]})
	})
	for n := sr.count(math.MaxInt32); n > 0 && sr.err == nil; n-- {
		node := i32(sr.block(4))
		sr.each(sr.count(math.MaxUint16+1), 2, func(b []byte) {
			g.moreSrcs[node] = append(g.moreSrcs[node], binary.LittleEndian.Uint16(b))
		})
	}
}

// each reads n fixed-size items, in blocks, and calls fn on each item's
// bytes (valid only during the call).
func (sr *snapReader) each(n, size int, fn func([]byte)) {
	for n > 0 && sr.err == nil {
		k := min(n, 1<<12)
		b := sr.block(k * size)
		if sr.err != nil {
			return
		}
		for i := range k {
			fn(b[i*size : (i+1)*size])
		}
		n -= k
	}
}

func i32(b []byte) int32  { return int32(binary.LittleEndian.Uint32(b)) }
func u32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func u64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// check verifies that every index in the arrays points where it may, so a
// damaged snapshot fails here rather than panicking later.
func (g *Graph) check() error {
	nn := int32(g.nodes.len())
	in := func(i int32) bool { return i >= -1 && i < nn }
	for i := range int32(g.nodes.len()) {
		n := g.nodes.at(i)
		ref := n.ref
		off := refOff(ref)
		if n.parent >= nn || (n.parent < 0 && n.parent != orphan && -n.parent-1 >= int32(len(g.profs))) ||
			n.next < 0 || n.next >= nn || !in(n.link) || int(refType(ref)) >= len(g.types.list) ||
			off>>chunkBits >= uint64(len(g.values.chunks)) ||
			int(off&(chunkSize-1))+refLen(ref) > len(g.values.chunks[off>>chunkBits]) {
			return fmt.Errorf("node %d", i)
		}
	}
	nr := int32(len(g.recs))
	for i := range g.profs {
		p := &g.profs[i]
		if p.flags&profFree == 0 && (p.root < 0 || p.root >= nn || g.nodes.at(p.root).parent != -int32(i)-1 ||
			p.head < -1 || p.head >= nr || p.tail < -1 || p.tail >= nr) {
			return fmt.Errorf("profile %d", i)
		}
	}
	for _, f := range g.free {
		if f < 0 || int(f) >= len(g.profs) || g.profs[f].flags&profFree == 0 {
			return fmt.Errorf("free list")
		}
	}
	for i := range g.recs {
		r := &g.recs[i]
		if !in(r.a) || !in(r.b) || !in(r.c) || !in(r.d) || r.next < -1 || r.next >= nr ||
			(r.kind < recMerge || r.kind > recSplit) || int(r.rule) >= len(ruleCodes) || int(r.typ) >= len(g.types.list) {
			return fmt.Errorf("record %d", i)
		}
	}
	for n, srcs := range g.moreSrcs {
		for _, s := range srcs {
			if n < 0 || n >= nn || int(s) >= len(g.sources.list) {
				return fmt.Errorf("sources of node %d", n)
			}
		}
	}
	return nil
}

// reindex rebuilds the hash tables and the never-link map.
func (g *Graph) reindex() {
	g.index.slots = make([]uint64, tableSize(g.nodes.len()))
	for i := range int32(g.nodes.len()) {
		g.index.place(g.values.hashRef(g.seed, g.nodes.at(i).ref), i)
		g.index.n++
	}
	g.byID.slots = make([]int32, tableSize(len(g.profs)-len(g.free)))
	for i := range g.profs {
		if g.profs[i].flags&profFree == 0 {
			g.byID.place(g.profHash(int32(i)), int32(i))
			g.byID.n++
		}
	}
	for _, nl := range g.rules.NeverLink {
		g.addNeverLink(nl)
	}
}

// snapReader reads and checksums a snapshot, keeping the first error.
type snapReader struct {
	r   *bufio.Reader
	crc hash.Hash32
	buf []byte
	err error
}

// block returns the next n bytes (valid until the next call).
func (s *snapReader) block(n int) []byte {
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	b := s.buf[:n]
	if s.err != nil {
		clear(b)
		return b
	}
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.err = err
		clear(b)
		return b
	}
	s.crc.Write(b)
	return b
}

func (s *snapReader) uvarint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c := s.block(1)[0]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 || s.err != nil {
			return v
		}
	}
	s.err = fmt.Errorf("bad varint")
	return 0
}

// count reads a length and checks it is at most max.
func (s *snapReader) count(max int) int {
	v := s.uvarint()
	if v > uint64(max) {
		if s.err == nil {
			s.err = fmt.Errorf("count %d over %d", v, max)
		}
		return 0
	}
	return int(v)
}

// bytes reads a length-prefixed byte string of at most max bytes. The
// result is a copy.
func (s *snapReader) bytes(max int) []byte {
	n := s.count(max)
	out := make([]byte, 0, min(n, 1<<16))
	for n > 0 && s.err == nil {
		k := min(n, 1<<16)
		out = append(out, s.block(k)...)
		n -= k
	}
	return out
}

func (s *snapReader) strings(maxCount, maxLen int) []string {
	var out []string
	for n := s.count(maxCount); n > 0 && s.err == nil; n-- {
		out = append(out, string(s.bytes(maxLen)))
	}
	return out
}
