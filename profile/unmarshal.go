package profile

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// UnmarshalBinary decodes what MarshalBinary wrote into p, replacing its
// contents. It accepts only the canonical form, so that encoding the result
// gives data back byte for byte, and checks that every trait value is JSON.
func (p *Profile) UnmarshalBinary(data []byte) error {
	r := reader{b: data}
	q := r.profile()
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the end", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("profile: decode binary profile: %w: %w", errCorrupt, r.err)
	}
	*p = *q
	return nil
}

// reader decodes a binary form. The first error stops it and is kept.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b)
	if n <= 0 || n != uvarintLen(x) {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return x
}

// time reads an event time.
func (r *reader) time() int64 {
	if r.err != nil || len(r.b) < 8 {
		r.fail("truncated")
		return 0
	}
	x := int64(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	if !validMicros(x) {
		r.fail("time %d µs out of range", x)
	}
	return x
}

func (r *reader) bytes() []byte {
	if r.err != nil {
		return nil
	}
	v, rest, ok := readBytes(r.b)
	if !ok {
		r.fail("truncated")
		return nil
	}
	r.b = rest
	return v
}

// name reads a name and interns it.
func (r *reader) name() ref { return refOf(r.bytes()) }

// count reads a uvarint that counts elements of at least min bytes each,
// refusing counts the remaining bytes cannot hold.
func (r *reader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.fail("count %d too large", n)
		return 0
	}
	return int(n)
}

func (r *reader) profile() *Profile {
	if v := r.byte(); v != binaryFormat && r.err == nil {
		r.fail("format %d, want %d", v, binaryFormat)
	}
	p := &Profile{ID: r.uvarint()}
	switch r.byte() {
	case 0:
	case 1:
		p.seen, p.first, p.last = true, r.time(), r.time()
		if p.first > p.last {
			r.fail("first seen after last seen")
		}
	default:
		r.fail("bad seen flag")
	}
	traits := r.traits()
	counts := r.counts()
	groups := r.groups()
	if r.err != nil {
		return nil
	}
	if n := len(traits) + len(counts) + len(groups); n > 0 {
		p.setSections(make([]byte, 0, n+2*binary.MaxVarintLen64), traits, counts, groups)
	}
	return p
}

// traits reads a register set and returns its in-memory encoding.
func (r *reader) traits() []byte {
	stamps := make([]stamp, r.count(10))
	for i := range stamps {
		s := stamp{time: r.time(), seq: r.uvarint(), src: r.name()}
		if r.err == nil && i > 0 && compareStamp(stamps[i-1], s) >= 0 {
			r.fail("stamps not strictly ascending")
		}
		stamps[i] = s
	}
	regs := make([]reg, r.count(3))
	used := make([]bool, len(stamps))
	for i := range regs {
		name, si, value := r.name(), r.uvarint(), r.bytes()
		if r.err != nil {
			return nil
		}
		switch {
		case i > 0 && compareRef(regs[i-1].name, name) >= 0:
			r.fail("traits not strictly ascending")
		case si >= uint64(len(stamps)):
			r.fail("stamp index %d out of range", si)
		case !validValue(value):
			r.fail("trait %q: value is not JSON", name.String())
		}
		if r.err != nil {
			return nil
		}
		used[si] = true
		s := stamps[si]
		regs[i] = reg{name: name, time: s.time, seq: s.seq, src: s.src, value: value}
	}
	if len(regs) > maxTraits || slices.Contains(used, false) {
		r.fail("more than %d traits or an unused stamp", maxTraits)
	}
	n := 0
	for _, r := range regs {
		n += len(r.value) + 8
	}
	enc, _ := appendRegs(make([]byte, 0, n+14*len(stamps)), regs, stamps)
	return enc
}

// counts reads the counters and returns their in-memory encoding.
func (r *reader) counts() []byte {
	cs := make([]cnt, r.count(3))
	var per [numKinds]int
	for i := range cs {
		c := cnt{kind: r.byte(), name: r.name(), n: r.uvarint()}
		if r.err != nil {
			return nil
		}
		switch {
		case c.kind >= numKinds:
			r.fail("counter kind %d", c.kind)
		case i > 0 && compareCnt(cs[i-1], c) >= 0:
			r.fail("counters not strictly ascending")
		case c.n == 0:
			r.fail("zero counter")
		}
		if r.err != nil {
			return nil
		}
		cs[i] = c
		if per[c.kind]++; per[c.kind] > maxCounts[c.kind] {
			r.fail("more than %d counters of kind %d", maxCounts[c.kind], c.kind)
		}
	}
	return appendCounts(make([]byte, 0, 8*len(cs)), cs)
}

// groups reads the memberships and returns their in-memory encoding.
func (r *reader) groups() []byte {
	gs := make([]grp, r.count(20))
	for i := range gs {
		g := grp{id: r.bytes(), first: r.time(), last: r.time()}
		g.traits = r.traits()
		if r.err != nil {
			return nil
		}
		switch {
		case len(g.id) == 0:
			r.fail("empty group ID")
		case i > 0 && string(g.id) <= string(gs[i-1].id):
			r.fail("groups not strictly ascending")
		case g.first > g.last:
			r.fail("group %q first seen after last seen", g.id)
		}
		gs[i] = g
	}
	if len(gs) > maxGroups {
		r.fail("more than %d groups", maxGroups)
	}
	return appendGroups(nil, gs)
}
