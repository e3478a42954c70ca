package synth

import (
	"cmp"
	"slices"
)

// Identifier types, named as the identity package names them.
const (
	TypeUserID        = "user_id"
	TypeAnonymousID   = "anonymous_id"
	TypeEmail         = "email"
	TypePhone         = "phone"
	TypeDeviceID      = "device_id"
	TypeAdvertisingID = "advertising_id"
)

// Identifier is a typed identifier with its value normalised as the
// identity package stores it: e-mail addresses trimmed and lower-cased,
// phone numbers in E.164.
type Identifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// String returns "type:value".
func (id Identifier) String() string { return id.Type + ":" + id.Value }

// Person is the truth about one generated person: the identifiers their
// own messages carry, so that a test can check how well a resolver put
// them together.
type Person struct {
	Index   int    `json:"index"`
	Country string `json:"country"`
	// UserID is the user id the person's messages carry; empty if they
	// never signed up (or their journey ended before they did).
	UserID string `json:"user_id,omitempty"`
	// Partner is the index of the person they share a device with, or -1.
	Partner int `json:"partner"`
	// Groups partition the person's identifiers by what their messages
	// link: two identifiers are in one group if a chain of the person's
	// messages, each carrying two of them, joins them. A resolver that
	// links what messages carry together, and nothing else, makes exactly
	// one profile per group; most people have one group, and people who
	// used a device only anonymously have one more per such device.
	// Junk values, identifiers of the shared device, phone numbers written
	// in a form the resolver cannot read and disabled advertising ids are
	// left out. Groups are sorted, and so are their identifiers.
	Groups [][]Identifier `json:"groups"`
	// Shared are the identifiers of the device shared with Partner: both
	// people's messages carry them, so they belong to neither alone.
	Shared []Identifier `json:"shared,omitempty"`
	// Messages is how many messages the person's journey has.
	Messages int `json:"messages"`
}

// Identifiers returns the identifiers of all the person's groups.
func (p Person) Identifiers() []Identifier {
	var out []Identifier
	for _, g := range p.Groups {
		out = append(out, g...)
	}
	return out
}

// compareIDs orders identifiers by type, then value.
func compareIDs(a, b Identifier) int {
	return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Value, b.Value))
}

// linker builds a person's groups: a union-find over the identifiers
// their messages carry together.
type linker struct {
	index  map[Identifier]int
	ids    []Identifier
	parent []int
	shared map[Identifier]bool
}

func newLinker() *linker {
	return &linker{index: map[Identifier]int{}, shared: map[Identifier]bool{}}
}

// add records the identifiers one message carries, linking them.
func (l *linker) add(ids []Identifier) {
	first := -1
	for _, id := range ids {
		i, ok := l.index[id]
		if !ok {
			i = len(l.ids)
			l.index[id] = i
			l.ids = append(l.ids, id)
			l.parent = append(l.parent, i)
		}
		if first < 0 {
			first = i
		} else {
			l.parent[l.find(i)] = l.find(first)
		}
	}
}

func (l *linker) find(i int) int {
	for l.parent[i] != i {
		l.parent[i] = l.parent[l.parent[i]]
		i = l.parent[i]
	}
	return i
}

// groups returns the linked sets, each sorted, in sorted order.
func (l *linker) groups() [][]Identifier {
	byRoot := map[int][]Identifier{}
	for i, id := range l.ids {
		r := l.find(i)
		byRoot[r] = append(byRoot[r], id)
	}
	out := make([][]Identifier, 0, len(byRoot))
	for _, g := range byRoot {
		slices.SortFunc(g, compareIDs)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []Identifier) int { return compareIDs(a[0], b[0]) })
	return out
}

// sharedIDs returns the shared identifiers, sorted.
func (l *linker) sharedIDs() []Identifier {
	out := make([]Identifier, 0, len(l.shared))
	for id := range l.shared {
		out = append(out, id)
	}
	slices.SortFunc(out, compareIDs)
	return out
}

// truth works out what is known about p from its planned messages.
func (p *person) truth() Person {
	l := newLinker()
	var ids []Identifier
	for i := range p.events {
		ids = p.identifiers(&p.events[i], ids[:0], l.shared)
		l.add(ids)
	}
	t := Person{Index: p.idx, Country: p.c.Code, Partner: p.partner, Messages: len(p.events),
		Groups: l.groups(), Shared: l.sharedIDs()}
	if p.signedUp {
		t.UserID = p.userID
	}
	if len(t.Shared) == 0 {
		t.Shared = nil
	}
	return t
}

// identifiers appends the linkable identifiers ev carries, as a resolver
// reads them, and adds those of a shared device to shared instead.
func (p *person) identifiers(ev *event, dst []Identifier, shared map[Identifier]bool) []Identifier {
	ids := p.ids(ev)
	if ids.userID != "" {
		dst = append(dst, Identifier{TypeUserID, ids.userID})
	}
	devIDs := []Identifier{}
	if ids.anonID != "" {
		devIDs = append(devIDs, Identifier{TypeAnonymousID, ids.anonID})
	}
	if d := ids.dev; d != nil && d.app {
		devIDs = append(devIDs, Identifier{TypeDeviceID, d.deviceID})
		if d.adTracking {
			devIDs = append(devIDs, Identifier{TypeAdvertisingID, d.adID})
		}
	}
	if ids.dev != nil && ids.dev.shared {
		for _, id := range devIDs {
			shared[id] = true
		}
	} else {
		dst = append(dst, devIDs...)
	}
	if ids.email >= 0 {
		dst = append(dst, Identifier{TypeEmail, p.emails[ids.email]})
	}
	if ids.phone >= 0 && p.phoneFormat(ev).readable(p.c.Code, p.region) {
		dst = append(dst, Identifier{TypePhone, p.phones[ids.phone].E164()})
	}
	return dst
}
