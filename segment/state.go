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
	// Traits are the traits some audience reads, as the profile has them.
	Traits map[string]*tval `json:"t,omitempty"`
	// Events are the tracked events by name, oldest first by (At, Seq).
	Events map[string][]item `json:"e,omitempty"`
	// Consent is the latest categoryPreferences, from the event at
	// (ConsentAt, ConsentSeq).
	Consent    map[string]bool `json:"c,omitempty"`
	ConsentAt  time.Time       `json:"ca,omitzero"`
	ConsentSeq uint64          `json:"cs,omitempty"`
	// Member holds the audiences the profile is in, by ID, with when it
	// entered.
	Member map[string]time.Time `json:"m,omitempty"`
	// Next holds, by audience ID, when the audience must be evaluated
	// again for this profile: its timer.
	Next map[string]time.Time `json:"n,omitempty"`
}

// tval is a trait value: the JSON the profile holds, decoded once.
type tval struct {
	Raw string `json:"r"`
	v   *audience.Value
}

func (t *tval) value() audience.Value {
	if t.v == nil {
		v, err := audience.ParseValue([]byte(t.Raw))
		if err != nil {
			v = audience.Value{}
		}
		t.v = &v
	}
	return *t.v
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
	if p.Events == nil {
		p.Events = map[string][]item{}
	}
	list := p.Events[name]
	i, found := slices.BinarySearchFunc(list, it, compareItems)
	if found {
		return
	}
	p.Events[name] = slices.Insert(list, i, it)
}

// prune drops the events of name that have left a window of retention
// at now; retention 0 keeps all.
func (p *pstate) prune(name string, retention time.Duration, now time.Time) {
	list := p.Events[name]
	if retention <= 0 || len(list) == 0 {
		return
	}
	cut := now.Add(-retention)
	i := 0
	for i < len(list) && !list[i].At.After(cut) {
		i++
	}
	if i > 0 {
		p.Events[name] = slices.Clone(list[i:])
	}
}

// mergeFrom folds an absorbed profile's state into p. Memberships are not
// taken: the survivor is evaluated again.
func (p *pstate) mergeFrom(a *pstate) {
	for name, list := range a.Events {
		for _, it := range list {
			p.addItem(name, it)
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
	return len(p.Traits) == 0 && len(p.Events) == 0 && p.Consent == nil && len(p.Member) == 0 && len(p.Next) == 0
}
