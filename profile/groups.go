package profile

import (
	"bytes"
	"encoding/binary"
)

// maxGroups caps the accounts one profile belongs to, dropping the group IDs
// that sort last, for the reason given at maxTraits.
const maxGroups = 256

// grp is a profile's membership in one account (a group call's groupId):
// when the profile was first and last seen with it and the account's
// traits, last-writer-wins like a profile's own.
type grp struct {
	id          []byte
	first, last int64  // µs
	traits      []byte // a register set's encoding
}

// The groups section of a profile is a list sorted by id of
//
//	uvarint id length, id, 8-byte first, 8-byte last (µs, little endian),
//	uvarint traits length, traits (a register set)

func readGroups(b []byte, dst []grp) ([]grp, error) {
	for len(b) > 0 {
		var g grp
		var ok bool
		if g.id, b, ok = readBytes(b); !ok || len(b) < 16 {
			return dst, errCorrupt
		}
		g.first = int64(binary.LittleEndian.Uint64(b))
		g.last = int64(binary.LittleEndian.Uint64(b[8:]))
		if g.traits, b, ok = readBytes(b[16:]); !ok {
			return dst, errCorrupt
		}
		dst = append(dst, g)
	}
	return dst, nil
}

// readBytes reads a uvarint length, in its shortest form, and that many
// bytes.
func readBytes(b []byte) (v, rest []byte, ok bool) {
	l, k := binary.Uvarint(b)
	if k <= 0 || k != uvarintLen(l) || l > uint64(len(b)-k) {
		return nil, nil, false
	}
	b = b[k:]
	return b[:l:l], b[l:], true
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendGroups(b []byte, gs []grp) []byte {
	for _, g := range gs {
		b = appendBytes(b, g.id)
		b = binary.LittleEndian.AppendUint64(b, uint64(g.first))
		b = binary.LittleEndian.AppendUint64(b, uint64(g.last))
		b = appendBytes(b, g.traits)
	}
	return b
}

func compareGrp(a, b grp) int { return bytes.Compare(a.id, b.id) }

// applyGroup returns the groups section enc with u's group call folded in.
func applyGroup(enc []byte, u *update) ([]byte, error) {
	gs, err := readGroups(enc, nil)
	if err != nil {
		return nil, err
	}
	g := grp{id: []byte(u.groupID), first: u.time, last: u.time}
	g.traits, _ = appendRegs(nil, writes(nil, u, u.group), nil)
	return mergeGroupLists(gs, []grp{g})
}

// mergeGroups returns the union of the groups sections a and b.
func mergeGroups(a, b []byte) ([]byte, error) {
	ga, err := readGroups(a, nil)
	if err != nil {
		return nil, err
	}
	gb, err := readGroups(b, nil)
	if err != nil {
		return nil, err
	}
	return mergeGroupLists(ga, gb)
}

// mergeGroupLists encodes the union of the sorted lists a and b: per
// account the earliest first, the latest last and the newer traits.
func mergeGroupLists(a, b []grp) ([]byte, error) {
	var out []grp
	for len(a) > 0 && len(b) > 0 {
		switch c := compareGrp(a[0], b[0]); {
		case c < 0:
			out, a = append(out, a[0]), a[1:]
		case c > 0:
			out, b = append(out, b[0]), b[1:]
		default:
			g, err := mergeGrp(a[0], b[0])
			if err != nil {
				return nil, err
			}
			out, a, b = append(out, g), a[1:], b[1:]
		}
	}
	out = append(append(out, a...), b...)
	if len(out) > maxGroups {
		out = out[:maxGroups] // sorted by id: this drops the IDs that sort last
	}
	return appendGroups(nil, out), nil
}

func mergeGrp(a, b grp) (grp, error) {
	ra, _, err := readRegs(a.traits, nil, nil)
	if err != nil {
		return grp{}, err
	}
	rb, _, err := readRegs(b.traits, nil, nil)
	if err != nil {
		return grp{}, err
	}
	g := grp{id: a.id, first: min(a.first, b.first), last: max(a.last, b.last)}
	g.traits, _ = appendRegs(nil, mergeRegs(nil, ra, rb), nil)
	return g, nil
}
