package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Trait is one trait's current value and the write that set it.
type Trait struct {
	Name     string
	Value    json.RawMessage // the JSON the client sent, verbatim
	Time     time.Time       // the event time of the write
	Seq      uint64          // the log sequence of the event
	SourceID string          // the source of the event, "" if it had none
}

// Group is a profile's membership in one account, from group calls.
type Group struct {
	ID        string
	FirstSeen time.Time
	LastSeen  time.Time
	Traits    []Trait // the account's traits, sorted by name
}

// FirstSeen returns the earliest event time applied to p, or the zero time
// if none was.
func (p *Profile) FirstSeen() time.Time {
	if !p.seen {
		return time.Time{}
	}
	return fromMicros(p.first)
}

// LastSeen returns the latest event time applied to p, or the zero time if
// none was.
func (p *Profile) LastSeen() time.Time {
	if !p.seen {
		return time.Time{}
	}
	return fromMicros(p.last)
}

// Traits returns p's current traits sorted by name. The values are copies.
func (p *Profile) Traits() []Trait {
	enc, _, _ := p.sections()
	return traitsOf(enc)
}

// EachTrait calls fn with each of p's current traits' names and values, in
// no particular order, without copying or allocating: value is the JSON p
// holds, valid only during the call and not to be changed. Traits decodes
// every trait into a new sorted list with copies of the values; observers
// that read a few traits of every event's profile spent most of their
// reading on that.
func (p *Profile) EachTrait(fn func(name string, value []byte)) {
	enc, _, _ := p.sections()
	if err := eachReg(enc, fn); err != nil {
		panic("profile: " + err.Error() + " in a traits section")
	}
}

// eachReg calls fn with each register's name and value in b, a register
// set's encoding, in its order. Its buffers are on the stack: a profile has
// few traits, and an identify sets its traits together (one stamp).
func eachReg(b []byte, fn func(name string, value []byte)) error {
	var regBuf [32]reg
	var stampBuf [32]stamp
	regs, _, err := readRegs(b, regBuf[:0], stampBuf[:0])
	if err != nil {
		return err
	}
	for _, r := range regs {
		fn(r.name.String(), r.value)
	}
	return nil
}

// Trait returns the current value of the trait name, and whether p has it.
func (p *Profile) Trait(name string) (Trait, bool) {
	for _, t := range p.Traits() {
		if t.Name == name {
			return t, true
		}
	}
	return Trait{}, false
}

// traitsOf decodes a register set into Traits sorted by name.
func traitsOf(enc []byte) []Trait {
	regs, _, err := readRegs(enc, nil, nil)
	if err != nil {
		panic("profile: " + err.Error() + " in a traits section")
	}
	out := make([]Trait, len(regs))
	for i, r := range regs {
		out[i] = Trait{Name: r.name.String(), Value: bytes.Clone(r.value),
			Time: fromMicros(r.time), Seq: r.seq, SourceID: r.src.String()}
	}
	slices.SortFunc(out, func(a, b Trait) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Events returns how many events were applied to p.
func (p *Profile) Events() int64 {
	var n int64
	for _, c := range p.counts() {
		if c.kind == kindType {
			n += int64(c.n)
		}
	}
	return n
}

// CountsByType returns how many events of each call type were applied.
func (p *Profile) CountsByType() map[string]int64 { return p.countsOf(kindType) }

// CountsByEvent returns how many track events of each event name were
// applied.
func (p *Profile) CountsByEvent() map[string]int64 { return p.countsOf(kindEvent) }

// Sources returns how many events came from each source.
func (p *Profile) Sources() map[string]int64 { return p.countsOf(kindSource) }

func (p *Profile) counts() []cnt {
	_, enc, _ := p.sections()
	cs, err := readCounts(enc, nil)
	if err != nil {
		panic(fmt.Sprintf("profile %d: %v in counters section", p.ID, err))
	}
	return cs
}

func (p *Profile) countsOf(kind byte) map[string]int64 { return p.allCounts()[kind] }

// allCounts returns every counter, by kind and name.
func (p *Profile) allCounts() [numKinds]map[string]int64 {
	var ms [numKinds]map[string]int64
	for k := range ms {
		ms[k] = map[string]int64{}
	}
	for _, c := range p.counts() {
		ms[c.kind][c.name.String()] = int64(c.n)
	}
	return ms
}

// Groups returns the accounts p belongs to, sorted by ID.
func (p *Profile) Groups() []Group {
	_, _, enc := p.sections()
	gs, err := readGroups(enc, nil)
	if err != nil {
		panic(fmt.Sprintf("profile %d: %v in groups section", p.ID, err))
	}
	out := make([]Group, len(gs))
	for i, g := range gs {
		out[i] = Group{ID: string(g.id), FirstSeen: fromMicros(g.first),
			LastSeen: fromMicros(g.last), Traits: traitsOf(g.traits)}
	}
	return out
}
