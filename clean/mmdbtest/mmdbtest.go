// Package mmdbtest writes small MMDB files (the MaxMind DB format) for
// tests of geolocation, so that they need no downloaded database. It
// writes the subset of the format the readers need: an IPv6 search tree
// with 24-bit records (IPv4 networks under ::/96, as MaxMind's own files
// keep them), a data section of maps, strings, numbers, booleans and
// arrays, and the metadata.
package mmdbtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"os"
	"sort"
	"time"
)

// Network is one network of the database and its record: a map of
// string, float64, float32, int, uint16, uint32, uint64, bool, []any and
// map[string]any values.
type Network struct {
	Prefix netip.Prefix
	Record map[string]any
}

// Write writes an MMDB file of the networks at path. dbType is the
// metadata's database_type (e.g. "GeoLite2-City" or "geo-whois-asn-country").
// Networks must not overlap.
func Write(path, dbType string, nets []Network) error {
	b, err := Build(dbType, nets)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Build returns the bytes of an MMDB file (see Write).
func Build(dbType string, nets []Network) ([]byte, error) {
	root := &node{}
	var data bytes.Buffer
	for _, n := range nets {
		off := data.Len()
		if err := encode(&data, n.Record); err != nil {
			return nil, fmt.Errorf("mmdbtest: record of %s: %w", n.Prefix, err)
		}
		if err := root.insert(n.Prefix, off); err != nil {
			return nil, err
		}
	}
	nodes := root.number(nil)
	count := uint32(len(nodes))
	var out bytes.Buffer
	for _, n := range nodes {
		for _, r := range n.r {
			v := count // empty
			switch {
			case r.node != nil:
				v = uint32(r.node.id)
			case r.data >= 0 && r.set:
				v = count + 16 + uint32(r.data)
			}
			out.Write([]byte{byte(v >> 16), byte(v >> 8), byte(v)})
		}
	}
	out.Write(make([]byte, 16))
	out.Write(data.Bytes())
	out.WriteString("\xAB\xCD\xEFMaxMind.com")
	meta := map[string]any{
		"binary_format_major_version": uint16(2),
		"binary_format_minor_version": uint16(0),
		"build_epoch":                 uint64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()),
		"database_type":               dbType,
		"description":                 map[string]any{"en": "Mosaic test database"},
		"ip_version":                  uint16(6),
		"languages":                   []any{"en"},
		"node_count":                  count,
		"record_size":                 uint16(24),
	}
	if err := encode(&out, meta); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// node is a node of the search tree; each of its two records points to
// another node, to data, or nowhere.
type node struct {
	r  [2]record
	id int
}

type record struct {
	node *node
	data int
	set  bool
}

func (n *node) insert(p netip.Prefix, data int) error {
	addr, bits := p.Addr(), p.Bits()
	if addr.Is4() {
		addr, bits = netip.AddrFrom16(addr.As16()), bits+96
		a := addr.As16()
		a[10], a[11] = 0, 0 // ::a.b.c.d, not ::ffff:a.b.c.d
		addr = netip.AddrFrom16(a)
	}
	if bits == 0 {
		return fmt.Errorf("mmdbtest: network %s covers everything", p)
	}
	a := addr.As16()
	cur := n
	for i := range bits {
		bit := (a[i/8] >> (7 - i%8)) & 1
		if i == bits-1 {
			if cur.r[bit].node != nil || cur.r[bit].set {
				return fmt.Errorf("mmdbtest: network %s overlaps another", p)
			}
			cur.r[bit] = record{data: data, set: true}
			return nil
		}
		if cur.r[bit].set {
			return fmt.Errorf("mmdbtest: network %s is inside another", p)
		}
		if cur.r[bit].node == nil {
			cur.r[bit].node = &node{}
		}
		cur = cur.r[bit].node
	}
	return nil
}

// number gives the nodes their ids in breadth-first order, the root first.
func (n *node) number(dst []*node) []*node {
	queue := []*node{n}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		cur.id = len(dst)
		dst = append(dst, cur)
		for _, r := range cur.r {
			if r.node != nil {
				queue = append(queue, r.node)
			}
		}
	}
	return dst
}

// Data types of the format.
const (
	typeString = 2
	typeDouble = 3
	typeUint16 = 5
	typeUint32 = 6
	typeMap    = 7
	typeInt32  = 8
	typeUint64 = 9
	typeArray  = 11
	typeBool   = 14
	typeFloat  = 15
)

func control(b *bytes.Buffer, typ, size int) {
	var sizeBits int
	var extra []byte
	switch {
	case size < 29:
		sizeBits = size
	case size < 29+256:
		sizeBits, extra = 29, []byte{byte(size - 29)}
	case size < 285+65536:
		s := size - 285
		sizeBits, extra = 30, []byte{byte(s >> 8), byte(s)}
	default:
		s := size - 65821
		sizeBits, extra = 31, []byte{byte(s >> 16), byte(s >> 8), byte(s)}
	}
	if typ <= 7 {
		b.WriteByte(byte(typ<<5 | sizeBits))
	} else {
		b.WriteByte(byte(sizeBits))
		b.WriteByte(byte(typ - 7))
	}
	b.Write(extra)
}

func encodeUint(b *bytes.Buffer, typ int, v uint64) {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	i := 0
	for i < 8 && buf[i] == 0 {
		i++
	}
	control(b, typ, 8-i)
	b.Write(buf[i:])
}

func encode(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case string:
		control(b, typeString, len(x))
		b.WriteString(x)
	case float64:
		control(b, typeDouble, 8)
		binary.Write(b, binary.BigEndian, math.Float64bits(x))
	case float32:
		control(b, typeFloat, 4)
		binary.Write(b, binary.BigEndian, math.Float32bits(x))
	case uint16:
		encodeUint(b, typeUint16, uint64(x))
	case uint32:
		encodeUint(b, typeUint32, uint64(x))
	case uint64:
		encodeUint(b, typeUint64, x)
	case int:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return fmt.Errorf("int %d does not fit int32", x)
		}
		control(b, typeInt32, 4)
		binary.Write(b, binary.BigEndian, int32(x))
	case bool:
		n := 0
		if x {
			n = 1
		}
		control(b, typeBool, n)
	case []any:
		control(b, typeArray, len(x))
		for _, e := range x {
			if err := encode(b, e); err != nil {
				return err
			}
		}
	case map[string]any:
		control(b, typeMap, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			encode(b, k)
			if err := encode(b, x[k]); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("value %v of type %T cannot be written", v, v)
	}
	return nil
}
