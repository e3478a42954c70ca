package profile

import (
	"cmp"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
)

// maxNames caps the process-wide name table. Trait names, event names, call
// types and source IDs come from a schema that rarely holds more than a few
// hundred names, so the table stays small; junk input that invents a new
// trait name per event would otherwise grow it without end. Past the cap,
// names are stored inline in each profile (see ref), which costs bytes but
// never changes results.
const maxNames = 1 << 16

// names interns the strings profiles repeat: trait and event names, call
// types and source IDs. A profile then stores a small number instead of the
// string, which is most of what keeps the hot state under a few hundred bytes.
// Numbers are local to the process; the binary form of a profile stores the
// strings, so it does not depend on the order names were first seen.
//
// Reads are lock-free: a frozen map holds most names, and a small map behind
// a mutex holds names added since it was last rebuilt.
var names = newInterner(maxNames)

// interner maps strings to numbers from 1 and back. 0 means "not interned".
type interner struct {
	limit  int
	frozen atomic.Pointer[map[string]uint32]
	byID   atomic.Pointer[[]string] // index id-1; grows by append, readers see a prefix
	mu     sync.Mutex
	recent map[string]uint32 // added since frozen was built
}

func newInterner(limit int) *interner {
	in := &interner{limit: limit, recent: map[string]uint32{}}
	in.frozen.Store(&map[string]uint32{})
	in.byID.Store(&[]string{})
	return in
}

// id returns name's number, adding it if there is room, or 0 when the table
// is full and name is not in it. It does not keep name (a []byte that may
// alias a message) unless it adds it.
func (in *interner) id(name []byte) uint32 {
	if id, ok := (*in.frozen.Load())[string(name)]; ok {
		return id
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if id, ok := in.recent[string(name)]; ok {
		return id
	}
	all := *in.byID.Load()
	if len(all) >= in.limit {
		return 0
	}
	s := string(name)
	all = append(all, s)
	id := uint32(len(all))
	in.byID.Store(&all)
	in.recent[s] = id
	in.refreeze()
	return id
}

// refreeze folds recent into a new frozen map once recent has grown to a
// fair share of it, so rebuilding costs O(1) per name added.
func (in *interner) refreeze() {
	frozen := *in.frozen.Load()
	if len(in.recent) < 16+len(frozen)/4 {
		return
	}
	m := make(map[string]uint32, len(frozen)+len(in.recent))
	for k, v := range frozen {
		m[k] = v
	}
	for k, v := range in.recent {
		m[k] = v
	}
	in.frozen.Store(&m)
	in.recent = map[string]uint32{}
}

// name returns the string with number id, which must come from in.id.
func (in *interner) name(id uint32) string {
	return (*in.byID.Load())[id-1]
}

// ref names a trait, event, type or source inside a profile: an interned
// number, or the string itself when the table was full.
type ref struct {
	id uint32 // 0: inline
	s  string // the name when id is 0
}

// refOf interns name if it can. The empty name is the zero ref, never
// interned, so that "no source" and an empty name need no table entry.
func refOf(name []byte) ref {
	if len(name) == 0 {
		return ref{}
	}
	if id := names.id(name); id != 0 {
		return ref{id: id}
	}
	return ref{s: string(name)}
}

// refString interns name if it can, like refOf.
func refString(name string) ref {
	if name == "" {
		return ref{}
	}
	if id := names.id([]byte(name)); id != 0 {
		return ref{id: id}
	}
	return ref{s: name}
}

// String returns the name.
func (r ref) String() string {
	if r.id != 0 {
		return names.name(r.id)
	}
	return r.s
}

// compareRef orders refs by their names. Profiles keep traits, counters
// and stamps in this order, which makes their binary form a plain copy
// with names for numbers, and so canonical, and lets a cap on their number
// drop the names that sort last by cutting a list short.
func compareRef(a, b ref) int {
	if a.id == b.id && a.id != 0 {
		return 0
	}
	return cmp.Compare(a.String(), b.String())
}

// errCorrupt reports bytes that are not a profile's encoding.
var errCorrupt = errors.New("profile: corrupt encoding")

// appendRef encodes r: uvarint(id<<1) for an interned name,
// uvarint(len<<1|1) and the bytes for an inline one.
func appendRef(b []byte, r ref) []byte {
	if r.id != 0 {
		return binary.AppendUvarint(b, uint64(r.id)<<1)
	}
	b = binary.AppendUvarint(b, uint64(len(r.s))<<1|1)
	return append(b, r.s...)
}

// readRef decodes what appendRef wrote, returning the rest of b.
func readRef(b []byte) (ref, []byte, error) {
	x, n := binary.Uvarint(b)
	if n <= 0 {
		return ref{}, nil, errCorrupt
	}
	b = b[n:]
	if x&1 == 0 {
		id := x >> 1
		if id == 0 || id > uint64(len(*names.byID.Load())) {
			return ref{}, nil, errCorrupt
		}
		return ref{id: uint32(id)}, b, nil
	}
	l := x >> 1
	if l > uint64(len(b)) {
		return ref{}, nil, errCorrupt
	}
	return ref{s: string(b[:l])}, b[l:], nil
}
