package profile

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// maxTraits caps the traits of one profile (and of one account). Past it,
// the names that sort last are dropped. Dropping by name rather than by age
// keeps the result independent of the order events and merges arrive in: a
// name among the first maxTraits of all names a profile ever had is among
// the first of any part of them too.
const maxTraits = 512

// reg is one trait's current value: a last-writer-wins register. The write
// with the latest event time wins; equal times go to the higher log
// sequence, so every order of arrival and merging picks the same value.
type reg struct {
	name  ref
	time  int64 // µs
	seq   uint64
	src   ref
	value []byte // JSON, verbatim
	stamp int    // readRegs: the index of its stamp in the encoding
}

// stamp is the part of a write that all traits set by one event share.
type stamp struct {
	time int64
	seq  uint64
	src  ref
}

func compareStamp(a, b stamp) int {
	return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.seq, b.seq), compareRef(a.src, b.src))
}

// newer reports whether write a wins over write b of the same trait. Past
// time and sequence (which differ for any two events of one log) it
// compares the value and the source, so even a replayed event with other
// contents resolves the same way everywhere.
func newer(a, b *reg) bool {
	return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.seq, b.seq),
		bytes.Compare(a.value, b.value), compareRef(a.src, b.src)) > 0
}

// A register set's encoding (the traits section of a profile, or one
// account's traits) stores each event's time, seq and source once, since an
// identify call usually sets all of its traits together:
//
//	uvarint  number of stamps
//	stamps:  8-byte time (µs, little endian), uvarint seq, source ref
//	regs:    name ref, uvarint stamp index, uvarint value length, value
//
// Regs are sorted by compareRef of their names and run to the end.

// readRegs decodes b, appending to dst. Values alias b.
func readRegs(b []byte, dst []reg, stamps []stamp) ([]reg, []stamp, error) {
	stamps = stamps[:0]
	if len(b) == 0 {
		return dst, stamps, nil
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return dst, stamps, errCorrupt
	}
	b = b[k:]
	for range n {
		var s stamp
		var err error
		if len(b) < 8 {
			return dst, stamps, errCorrupt
		}
		s.time = int64(binary.LittleEndian.Uint64(b))
		if s.seq, k = binary.Uvarint(b[8:]); k <= 0 {
			return dst, stamps, errCorrupt
		}
		if s.src, b, err = readRef(b[8+k:]); err != nil {
			return dst, stamps, err
		}
		stamps = append(stamps, s)
	}
	for len(b) > 0 {
		r, rest, err := readReg(b, stamps)
		if err != nil {
			return dst, stamps, err
		}
		dst, b = append(dst, r), rest
	}
	return dst, stamps, nil
}

func readReg(b []byte, stamps []stamp) (reg, []byte, error) {
	var r reg
	var err error
	if r.name, b, err = readRef(b); err != nil {
		return r, nil, err
	}
	i, k := binary.Uvarint(b)
	if k <= 0 || i >= uint64(len(stamps)) {
		return r, nil, errCorrupt
	}
	s := stamps[i]
	r.time, r.seq, r.src, r.stamp = s.time, s.seq, s.src, int(i)
	l, k2 := binary.Uvarint(b[k:])
	if k2 <= 0 || l > uint64(len(b)-k-k2) {
		return r, nil, errCorrupt
	}
	b = b[k+k2:]
	r.value = b[:l:l]
	return r, b[l:], nil
}

// appendRegs encodes regs, which must be sorted by name, using stamps as
// scratch space, and returns the extended b and the scratch.
func appendRegs(b []byte, regs []reg, stamps []stamp) ([]byte, []stamp) {
	if len(regs) == 0 {
		return b, stamps
	}
	stamps = stamps[:0]
	for i := range regs {
		stamps = append(stamps, stamp{regs[i].time, regs[i].seq, regs[i].src})
	}
	slices.SortFunc(stamps, compareStamp)
	stamps = slices.CompactFunc(stamps, func(a, b stamp) bool { return compareStamp(a, b) == 0 })
	b = appendStamps(b, stamps)
	for i := range regs {
		r := &regs[i]
		si, _ := slices.BinarySearchFunc(stamps, stamp{r.time, r.seq, r.src}, compareStamp)
		b = appendReg(b, r, si)
	}
	return b, stamps
}

// appendStamps appends the stamp table of a register set's encoding.
func appendStamps(b []byte, stamps []stamp) []byte {
	b = binary.AppendUvarint(b, uint64(len(stamps)))
	for _, s := range stamps {
		b = binary.LittleEndian.AppendUint64(b, uint64(s.time))
		b = binary.AppendUvarint(b, s.seq)
		b = appendRef(b, s.src)
	}
	return b
}

// appendReg appends r, whose stamp is the table's si-th.
func appendReg(b []byte, r *reg, si int) []byte {
	b = appendRef(b, r.name)
	b = binary.AppendUvarint(b, uint64(si))
	b = binary.AppendUvarint(b, uint64(len(r.value)))
	return append(b, r.value...)
}

// appendFoldedRegs encodes regs like appendRegs, for the common case of
// folding one event into a register set: every reg either came from the
// encoding whose sorted, distinct stamps are old (reg.stamp indexes them)
// or was written by the event, whose stamp is s. The new stamp table is
// then old's stamps still in use with s put in its place, so neither the
// sort of all stamps nor a search per register that appendRegs needs is
// done. table and index are scratch space; the extended b and the scratch
// are returned.
func appendFoldedRegs(b []byte, regs []reg, old []stamp, s stamp, table []stamp, index []int) ([]byte, []stamp, []int) {
	if len(regs) == 0 {
		return b, table, index
	}
	if !sortedStamps(old) {
		// Not written by appendRegs: let it make the canonical table.
		b, table = appendRegs(b, regs, table)
		return b, table, index
	}
	// index[j] becomes old stamp j's place in the new table; -1 while
	// no reg uses it.
	index = slices.Grow(index[:0], len(old)+1)[:len(old)+1]
	for j := range index {
		index[j] = -1
	}
	const newStamp = -1
	usesNew := false
	for i := range regs {
		r := &regs[i]
		if compareStamp(stamp{r.time, r.seq, r.src}, s) == 0 {
			usesNew = true
			r.stamp = newStamp
		} else {
			index[r.stamp] = 0
		}
	}
	table = table[:0]
	newAt := len(old) // where s goes among old
	if usesNew {
		newAt, _ = slices.BinarySearchFunc(old, s, compareStamp)
	}
	sIndex := 0
	for j := range old {
		if usesNew && j == newAt {
			sIndex = len(table)
			table = append(table, s)
		}
		if index[j] == 0 {
			index[j] = len(table)
			table = append(table, old[j])
		}
	}
	if usesNew && newAt == len(old) {
		sIndex = len(table)
		table = append(table, s)
	}
	b = appendStamps(b, table)
	for i := range regs {
		r := &regs[i]
		si := sIndex
		if r.stamp != newStamp {
			si = index[r.stamp]
		}
		b = appendReg(b, r, si)
	}
	return b, table, index
}

// sortedStamps reports whether stamps are sorted and distinct, as
// appendRegs writes them.
func sortedStamps(stamps []stamp) bool {
	for i := 1; i < len(stamps); i++ {
		if compareStamp(stamps[i-1], stamps[i]) >= 0 {
			return false
		}
	}
	return true
}

// mergeRegs appends to dst the union of the sorted register lists a and b,
// keeping the newer write where both have a name, capped at maxTraits.
func mergeRegs(dst, a, b []reg) []reg {
	for len(a) > 0 && len(b) > 0 {
		switch c := compareRef(a[0].name, b[0].name); {
		case c < 0:
			dst, a = append(dst, a[0]), a[1:]
		case c > 0:
			dst, b = append(dst, b[0]), b[1:]
		default:
			if newer(&b[0], &a[0]) {
				dst = append(dst, b[0])
			} else {
				dst = append(dst, a[0])
			}
			a, b = a[1:], b[1:]
		}
	}
	dst = append(append(dst, a...), b...)
	return capByName(dst, maxTraits)
}

// writes turns an update's traits into registers written by u.
func writes(dst []reg, u *update, kvs []kv) []reg {
	for _, t := range kvs {
		dst = append(dst, reg{name: t.name, time: u.time, seq: u.seq, src: u.source, value: t.value})
	}
	return dst
}

// capByName cuts s, sorted by name, to at most n elements: it drops the
// names that sort last. Only junk input gets here.
func capByName[T any](s []T, n int) []T {
	return s[:min(len(s), n)]
}
