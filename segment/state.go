package segment

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic/audience"
)

// pstate is what the segment engine keeps of one profile: only what
// conditions and computed traits read, so that evaluating one needs no
// access to the profile stage.
type pstate struct {
	// traits are the traits some audience reads, as the profile has
	// them, in no particular order. A slice rather than a map: previews
	// and backfills read one trait of a million profiles, and each map was
	// several pointers to follow, each a cache miss.
	traits []trait
	// events are the tracked events by name, oldest first by (At, Seq).
	events eventLists
	// Consent is the latest categoryPreferences, from the event at
	// (ConsentAt, ConsentSeq).
	Consent    map[string]bool `json:"c,omitempty"`
	ConsentAt  time.Time       `json:"ca,omitzero"`
	ConsentSeq uint64          `json:"cs,omitempty"`
	// member holds the audiences the profile is in, by slot, with when it
	// entered.
	member slotTimes
	// next holds, by audience slot, when the audience must be evaluated
	// again for this profile: its timer.
	next slotTimes
	// touched says the state is in Segments.touched: changed since the
	// last commit.
	touched bool
}

// trait is one trait value: the JSON the profile holds, and its decoded
// form, decoded when it is set (every audience reading it needs it).
type trait struct {
	// name is the engine's one copy of the name (see Segments.intern):
	// comparing it with the name a condition reads then touches no other
	// memory.
	name string
	raw  string
	v    audience.Value
}

func newTrait(name, raw string) trait {
	v, err := audience.ParseValue([]byte(raw))
	if err != nil {
		v = audience.Value{}
	}
	return trait{name: name, raw: raw, v: v}
}

// trait returns the profile's trait name, nil if it has none.
func (p *pstate) trait(name string) *trait {
	for i := range p.traits {
		if p.traits[i].name == name {
			return &p.traits[i]
		}
	}
	return nil
}

// eventLists are a profile's tracked events by name. A short list rather
// than a map: most profiles hold one or two names, and a million small
// maps were that many more allocations for the garbage collector to
// follow, each read a hash.
type eventLists []eventList

type eventList struct {
	name  string
	items []item
}

// get returns the events of name, nil if none.
func (e eventLists) get(name string) []item {
	for i := range e {
		if e[i].name == name {
			return e[i].items
		}
	}
	return nil
}

// set makes items the events of name.
func (e *eventLists) set(name string, items []item) {
	for i := range *e {
		if (*e)[i].name == name {
			(*e)[i].items = items
			return
		}
	}
	*e = append(*e, eventList{name: name, items: items})
}

// item is one tracked event.
type item struct {
	At    time.Time       `json:"a"`
	Seq   uint64          `json:"s"`
	Props json.RawMessage `json:"p,omitempty"`
}

func compareItems(a, b item) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// addItem inserts it in order, once.
func (p *pstate) addItem(name string, it item) {
	list := p.events.get(name)
	i, found := slices.BinarySearchFunc(list, it, compareItems)
	if found {
		return
	}
	p.events.set(name, slices.Insert(list, i, it))
}

// prune drops the events of name that have left a window of retention
// at now; retention 0 keeps all.
func (p *pstate) prune(name string, retention time.Duration, now time.Time) {
	list := p.events.get(name)
	if retention <= 0 || len(list) == 0 {
		return
	}
	cut := now.Add(-retention)
	i := 0
	for i < len(list) && !list[i].At.After(cut) {
		i++
	}
	if i > 0 {
		// In place: a list at its retention's length loses one event for
		// each it gains, and a copy of it cost two allocations per event
		// (the copy, and its growth on the next insert).
		n := copy(list, list[i:])
		clear(list[n:])
		p.events.set(name, list[:n])
	}
}

// mergeFrom folds an absorbed profile's state into p. Memberships are not
// taken: the survivor is evaluated again.
func (p *pstate) mergeFrom(a *pstate) {
	for _, l := range a.events {
		for _, it := range l.items {
			p.addItem(l.name, it)
		}
	}
	if a.Consent != nil && (p.Consent == nil || newerConsent(a.ConsentAt, a.ConsentSeq, p.ConsentAt, p.ConsentSeq)) {
		p.Consent, p.ConsentAt, p.ConsentSeq = a.Consent, a.ConsentAt, a.ConsentSeq
	}
}

func newerConsent(at time.Time, seq uint64, than time.Time, thanSeq uint64) bool {
	return at.After(than) || at.Equal(than) && seq > thanSeq
}

// isEmpty reports whether the state holds nothing worth saving.
func (p *pstate) isEmpty() bool {
	return len(p.traits) == 0 && len(p.events) == 0 && p.Consent == nil && len(p.member) == 0 && len(p.next) == 0
}
