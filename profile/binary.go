package profile

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unicode/utf8"
)

// binaryFormat versions the binary form of a profile.
const binaryFormat = 1

// The binary form of a profile is its in-memory form with names for the
// process-local name numbers, and with counts where memory runs to the end
// of a section. Memory keeps everything sorted by name, so the binary form
// is canonical: equal states encode to equal bytes, whatever order events
// and merges came in, and encoding is one pass without sorting.
//
//	byte     format (1)
//	uvarint  ID
//	byte     1 if any event was applied, then 8-byte first and last seen
//	         (µs since the Unix epoch, little endian); else 0
//	traits   the profile's traits (see below)
//	uvarint  number of counters, then each: kind byte (0 call type,
//	         1 source, 2 track event name), bytes name, uvarint count;
//	         strictly ascending by kind, then name
//	uvarint  number of groups, then each: bytes ID, 8-byte first and last
//	         seen, traits; strictly ascending by ID
//
// traits are: uvarint number of stamps, then each: 8-byte event time,
// uvarint seq, bytes source ID, strictly ascending; uvarint number of
// traits, then each: bytes name, uvarint stamp index, bytes value (JSON);
// strictly ascending by name. Every stamp is used, and every uvarint takes
// its shortest form.

// MarshalBinary encodes p in its canonical binary form.
func (p *Profile) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, len(p.data)+128))
}

// AppendBinary appends the binary form of p (see MarshalBinary) to b.
func (p *Profile) AppendBinary(b []byte) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	b, err := e.encode(b, p)
	if err != nil {
		return nil, fmt.Errorf("profile: encode %d: %w", p.ID, err)
	}
	return b, nil
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

// encoder holds scratch space for decoding sections.
type encoder struct {
	regs   []reg
	stamps []stamp
	cnts   []cnt
	grps   []grp
}

func (e *encoder) encode(b []byte, p *Profile) ([]byte, error) {
	traits, counts, groups := p.sections()
	b = append(b, binaryFormat)
	b = binary.AppendUvarint(b, p.ID)
	if p.seen {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint64(b, uint64(p.first))
		b = binary.LittleEndian.AppendUint64(b, uint64(p.last))
	} else {
		b = append(b, 0)
	}
	b, err := e.traits(b, traits)
	if err != nil {
		return nil, err
	}
	if e.cnts, err = readCounts(counts, e.cnts[:0]); err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(b, uint64(len(e.cnts)))
	for _, c := range e.cnts {
		b = append(b, c.kind)
		b = appendName(b, c.name)
		b = binary.AppendUvarint(b, c.n)
	}
	if e.grps, err = readGroups(groups, e.grps[:0]); err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(b, uint64(len(e.grps)))
	for _, g := range e.grps {
		b = appendBytes(b, g.id)
		b = binary.LittleEndian.AppendUint64(b, uint64(g.first))
		b = binary.LittleEndian.AppendUint64(b, uint64(g.last))
		if b, err = e.traits(b, g.traits); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// traits writes a register set's binary form. Its stamps are in memory in
// the order the binary form wants, so indexes carry over.
func (e *encoder) traits(b, enc []byte) ([]byte, error) {
	var err error
	if e.regs, e.stamps, err = readRegs(enc, e.regs[:0], e.stamps); err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(b, uint64(len(e.stamps)))
	for _, s := range e.stamps {
		b = binary.LittleEndian.AppendUint64(b, uint64(s.time))
		b = binary.AppendUvarint(b, s.seq)
		b = appendName(b, s.src)
	}
	b = binary.AppendUvarint(b, uint64(len(e.regs)))
	for _, r := range e.regs {
		b = appendName(b, r.name)
		b = binary.AppendUvarint(b, uint64(r.stamp))
		b = appendBytes(b, r.value)
	}
	return b, nil
}

func appendName(b []byte, r ref) []byte {
	s := r.String()
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// validValue reports whether v is one JSON value in UTF-8, as trait values
// must be to be written out again.
func validValue(v []byte) bool {
	end, err := skip(v, ws(v, 0), 0)
	return err == nil && ws(v, end) == len(v) && utf8.Valid(v)
}
