package profile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/mosaic-cdp/mosaic"
)

// Profile is the hot state of one customer profile: current traits,
// counters, first and last seen, sources and account memberships. It is
// kept compact (a few hundred bytes for a typical customer) because every
// profile of a partition lives in memory; trait history and the timeline
// are not in it but go to the store (see Set and Batch).
//
// A Profile is not safe for concurrent use. The zero value, with an ID, is
// an empty profile.
type Profile struct {
	// ID is the profile ID the identity stage resolved the profile's events
	// to (identity.ProfileID).
	ID uint64

	seen        bool  // whether any event was applied; first and last are valid
	first, last int64 // event times, µs

	// data holds three sections, each described where it is read:
	//
	//	uvarint length, traits (registers.go)
	//	uvarint length, counters (counters.go)
	//	groups, to the end (groups.go)
	data []byte
}

// New returns an empty profile with the given ID.
func New(id uint64) *Profile { return &Profile{ID: id} }

// sections splits p.data. The encoding is written only by this package, so
// an error here means a bug, not bad input.
func (p *Profile) sections() (traits, counts, groups []byte) {
	if len(p.data) == 0 {
		return nil, nil, nil
	}
	traits, rest, ok := readBytes(p.data)
	if !ok {
		panic(fmt.Sprintf("profile %d: %v in traits section", p.ID, errCorrupt))
	}
	counts, groups, ok = readBytes(rest)
	if !ok {
		panic(fmt.Sprintf("profile %d: %v in counters section", p.ID, errCorrupt))
	}
	return traits, counts, groups
}

// setSections replaces p.data, reusing its memory when it is large enough
// and otherwise allocating exactly what is needed: profiles are many, so
// append's doubling would cost more than the copies it saves.
func (p *Profile) setSections(buf []byte, traits, counts, groups []byte) []byte {
	buf = appendBytes(buf[:0], traits)
	buf = appendBytes(buf, counts)
	buf = append(buf, groups...)
	if cap(p.data) < len(buf) {
		p.data = make([]byte, len(buf))
	}
	p.data = p.data[:len(buf)]
	copy(p.data, buf)
	return buf
}

// seeAt widens first and last seen to include t.
func (p *Profile) seeAt(first, last int64) {
	if !p.seen {
		p.seen, p.first, p.last = true, first, last
		return
	}
	p.first, p.last = min(p.first, first), max(p.last, last)
}

// Apply folds one event into p: its time into first and last seen, its
// type, source and track event name into the counters, the user traits it
// sets (identify's traits, context.traits of any call) into p's traits, and
// a group call's account traits into p's membership of that account.
//
// Trait names are the top-level keys of a traits object; a nested object or
// array is one trait value, kept as the exact JSON the client sent. A trait
// changes only when the event is newer than the write that set its current
// value (by event time, then log sequence), so events may be applied in any
// order. The event time is the message's timestamp, or ev.ReceivedAt when
// it has none.
//
// Apply returns an error, and changes nothing, when ev.Message is not a JSON
// object. Apply is safe to call from several goroutines on different
// profiles.
func Apply(p *Profile, ev *mosaic.Event) error {
	f := folders.Get().(*folder)
	defer folders.Put(f)
	u, err := f.dec.decode(ev)
	if err != nil {
		return fmt.Errorf("profile: apply event seq %d (message %q) to profile %d: %w",
			ev.Seq, ev.MessageID, p.ID, err)
	}
	f.apply(p, u)
	return nil
}

// Merge folds absorbed into survivor, as if every event applied to absorbed
// had been applied to survivor: traits by the same last-writer-wins rule,
// counters added, first and last seen widened, memberships combined. The
// result does not depend on which side is the survivor, except for the ID,
// nor on when the merge happens relative to the events. absorbed is not
// changed.
func Merge(survivor, absorbed *Profile) {
	f := folders.Get().(*folder)
	defer folders.Put(f)
	f.merge(survivor, absorbed)
}

// folders holds the scratch space of Apply and Merge.
var folders = sync.Pool{New: func() any { return new(folder) }}

// folder applies updates and merges with reusable scratch space. A Set has
// its own; the package functions take one from a pool.
type folder struct {
	dec    decoder
	regs   [3][]reg
	cnts   [3][]cnt
	stamps []stamp
	table  []stamp   // appendFoldedRegs' scratch
	index  []int     // appendFoldedRegs' scratch
	buf    [3][]byte // the whole profile, traits, counters
}

func (f *folder) apply(p *Profile, u *update) {
	p.seeAt(u.time, u.time)
	traits, counts, groups := p.sections()
	changed := false
	if len(u.traits) > 0 {
		traits, changed = f.applyTraits(traits, u), true
	}
	if cs := f.increments(u); !f.incrAll(counts, cs) {
		counts, changed = f.addCounts(counts, cs), true
	}
	if u.groupID != "" {
		var err error
		if groups, err = applyGroup(groups, u); err != nil {
			panic(fmt.Sprintf("profile %d: %v in groups section", p.ID, err))
		}
		changed = true
	}
	if changed {
		f.buf[0] = p.setSections(f.buf[0], traits, counts, groups)
	}
}

// applyTraits returns the traits section enc with u's user traits written.
func (f *folder) applyTraits(enc []byte, u *update) []byte {
	cur, stamps, err := readRegs(enc, f.regs[0][:0], f.stamps)
	if err != nil {
		panic(fmt.Sprintf("profile: %v in traits section", err))
	}
	f.regs[0], f.stamps = cur, stamps
	markSame(cur, u.traits)
	f.regs[1] = writes(f.regs[1][:0], u, u.traits)
	f.regs[2] = mergeRegs(f.regs[2][:0], cur, f.regs[1])
	s := stamp{u.time, u.seq, u.source}
	f.buf[1], f.table, f.index = appendFoldedRegs(f.buf[1][:0], f.regs[2], f.stamps, s, f.table, f.index)
	return f.buf[1]
}

// markSame sets same on the derived traits of kvs whose value the
// registers cur (sorted by name, as kvs are) already hold: their write
// still goes to the register, whose time must advance for later writes
// to resolve as in log order, but not to the trait history, which would
// otherwise get a row per event for where a customer browses from.
func markSame(cur []reg, kvs []kv) {
	i := 0
	for k := range kvs {
		t := &kvs[k]
		if !t.derived {
			continue
		}
		for i < len(cur) && compareRef(cur[i].name, t.name) < 0 {
			i++
		}
		t.same = i < len(cur) && compareRef(cur[i].name, t.name) == 0 && bytes.Equal(cur[i].value, t.value)
	}
}

// increments lists the counters one event adds 1 to, sorted.
func (f *folder) increments(u *update) []cnt {
	cs := append(f.cnts[1][:0], cnt{kind: kindType, name: u.typ, n: 1})
	if u.source != (ref{}) {
		cs = append(cs, cnt{kind: kindSource, name: u.source, n: 1})
	}
	if u.event != (ref{}) {
		cs = append(cs, cnt{kind: kindEvent, name: u.event, n: 1})
	}
	f.cnts[1] = cs
	return cs
}

// incrAll adds cs to the counters section enc in place if it can do so for
// all of them, the common case, which needs no new encoding; otherwise it
// changes nothing.
func (f *folder) incrAll(enc []byte, cs []cnt) bool {
	var at [numKinds]int
	for i, c := range cs {
		pos, ok := findCount(enc, c)
		if !ok {
			return false
		}
		at[i] = pos
	}
	for i, c := range cs {
		n, _ := binary.Uvarint(enc[at[i]:])
		binary.PutUvarint(enc[at[i]:], n+c.n)
	}
	return true
}

// addCounts returns the counters section enc with cs added.
func (f *folder) addCounts(enc []byte, cs []cnt) []byte {
	cur, err := readCounts(enc, f.cnts[0][:0])
	if err != nil {
		panic(fmt.Sprintf("profile: %v in counters section", err))
	}
	f.cnts[0] = cur
	f.cnts[2] = mergeCounts(f.cnts[2][:0], cur, cs)
	f.buf[2] = appendCounts(f.buf[2][:0], f.cnts[2])
	return f.buf[2]
}

func (f *folder) merge(s, a *Profile) {
	if s == a || !a.seen && len(a.data) == 0 {
		return
	}
	if a.seen {
		s.seeAt(a.first, a.last)
	}
	ts, cs, gs := s.sections()
	ta, ca, ga := a.sections()
	var err error
	if f.regs[0], f.stamps, err = readRegs(ts, f.regs[0][:0], f.stamps); err != nil {
		panic(fmt.Sprintf("profile %d: %v in traits section", s.ID, err))
	}
	if f.regs[1], f.stamps, err = readRegs(ta, f.regs[1][:0], f.stamps); err != nil {
		panic(fmt.Sprintf("profile %d: %v in traits section", a.ID, err))
	}
	f.regs[2] = mergeRegs(f.regs[2][:0], f.regs[0], f.regs[1])
	f.buf[1], f.stamps = appendRegs(f.buf[1][:0], f.regs[2], f.stamps)
	if f.cnts[0], err = readCounts(cs, f.cnts[0][:0]); err != nil {
		panic(fmt.Sprintf("profile %d: %v in counters section", s.ID, err))
	}
	if f.cnts[1], err = readCounts(ca, f.cnts[1][:0]); err != nil {
		panic(fmt.Sprintf("profile %d: %v in counters section", a.ID, err))
	}
	f.cnts[2] = mergeCounts(f.cnts[2][:0], f.cnts[0], f.cnts[1])
	f.buf[2] = appendCounts(f.buf[2][:0], f.cnts[2])
	if len(ga) > 0 {
		if gs, err = mergeGroups(gs, ga); err != nil {
			panic(fmt.Sprintf("profile %d or %d: %v in groups section", s.ID, a.ID, err))
		}
	}
	f.buf[0] = s.setSections(f.buf[0], f.buf[1], f.buf[2], gs)
}
