package segment

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic/audience"
	"github.com/mosaic-cdp/mosaic/store"
)

// subject is a profile's state as the condition evaluator reads it.
type subject struct {
	s   *Segments
	p   *pstate
	id  uint64 // the profile, for its predicted traits; 0 for none
	now time.Time
	// memo holds the computed traits already worked out for memoP at
	// memoNow: the audiences an event reaches often read the same
	// computed trait, and each would walk the events again.
	memo    []ctMemo
	memoP   *pstate
	memoNow time.Time
}

type ctMemo struct {
	ct   *ComputedTrait
	v    audience.Value
	ok   bool
	next time.Time
}

// computed returns ct's value for the subject's profile now, and when it
// next changes (see ComputedTrait.value).
func (x *subject) computed(ct *ComputedTrait) (audience.Value, bool, time.Time) {
	if x.memoP != x.p || !x.memoNow.Equal(x.now) {
		x.memo, x.memoP, x.memoNow = x.memo[:0], x.p, x.now
	}
	for i := range x.memo {
		if m := &x.memo[i]; m.ct == ct {
			return m.v, m.ok, m.next
		}
	}
	v, ok, next := ct.value(x.p.events.get(ct.Event), x.now)
	x.memo = append(x.memo, ctMemo{ct: ct, v: v, ok: ok, next: next})
	return v, ok, next
}

// forget drops the memo: the profile's events may have changed since.
func (x *subject) forget() { x.memoP = nil }

// predictedPrefix names the predicted traits in conditions.
const predictedPrefix = "predicted."

func (x *subject) Trait(name string) (audience.Value, bool) {
	if rest, ok := strings.CutPrefix(name, predictedPrefix); ok && x.s.opts.Predicted != nil && x.id != 0 {
		v, ok := x.s.opts.Predicted(x.id)[rest]
		if !ok {
			return audience.Value{}, false
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return audience.Value{}, false
		}
		return newTrait(rest, string(raw)).v, true
	}
	if t := x.p.trait(name); t != nil {
		return t.v, true
	}
	return audience.Value{}, false
}

func (x *subject) Computed(key string) (audience.Value, bool) {
	ct := x.s.ctByKey[key]
	if ct == nil {
		return audience.Value{}, false
	}
	v, ok, _ := x.computed(ct)
	return v, ok
}

func (x *subject) Consent(purpose string) bool { return x.p.Consent[purpose] }

func (x *subject) InAudience(ref string) bool {
	a := x.s.audienceByRef(ref)
	if a == nil || a.slot == 0 {
		return false
	}
	return x.p.member.has(a.slot)
}

func (x *subject) Events(name string, since time.Time, fn func(time.Time, []byte) bool) {
	list := x.p.events.get(name)
	for i := len(list) - 1; i >= 0; i-- {
		if !since.IsZero() && list[i].At.Before(since) {
			return
		}
		if !fn(list[i].At, list[i].Props) {
			return
		}
	}
}

// change is what an event or a timer changed for one profile.
type change struct {
	all       bool     // a merge: evaluate every audience
	event     string   // the tracked event added, if any
	traits    []string // the traits that changed (see refreshTraits)
	consent   bool
	audiences map[string]bool // evaluate these, and those that read them
	one       *live           // evaluate this one (a timer), and those that read it
	after     *live           // this one flipped: evaluate those that read it
}

// cause is why a membership changed, saved as JSON with the change.
type cause struct {
	Kind  string `json:"kind"` // event, time, merge, split, backfill, edit
	Seq   uint64 `json:"seq,omitempty"`
	Type  string `json:"type,omitempty"`
	Event string `json:"event,omitempty"`
	Into  string `json:"into,omitempty"` // merge: the surviving profile
}

// appendJSON appends what json.Marshal makes of c. Each event that flips
// a membership has a cause of its own, and Marshal's reflection was a
// fifth of the cost of recording the flip; a string that JSON would
// escape is left to Marshal.
func (c cause) appendJSON(b []byte) []byte {
	if !plainJSON(c.Kind) || !plainJSON(c.Type) || !plainJSON(c.Event) || !plainJSON(c.Into) {
		data, _ := json.Marshal(c)
		return append(b, data...)
	}
	b = append(b, `{"kind":"`...)
	b = append(b, c.Kind...)
	b = append(b, '"')
	if c.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, c.Seq, 10)
	}
	b = appendField(b, "type", c.Type)
	b = appendField(b, "event", c.Event)
	b = appendField(b, "into", c.Into)
	return append(b, '}')
}

// appendField appends a string field that omitempty leaves out when empty.
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":"`...)
	b = append(b, v...)
	return append(b, '"')
}

// plainJSON reports whether encoding/json writes s as it is, between
// quotes: printable ASCII, and none of the characters it escapes for HTML.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// reevaluate evaluates the audiences ch can affect for one profile at now,
// in order, so that an audience reading another sees its new membership.
// It returns how many memberships flipped.
func (s *Segments) reevaluate(id uint64, p *pstate, ch change, now time.Time, why cause) int {
	marks := s.marks
	if !ch.mark(s, marks) {
		return 0
	}
	s.subj.forget()
	n := 0
	for i, la := range s.order {
		if !marks[i] {
			continue
		}
		marks[i] = false
		if !la.ready || !s.evaluate(id, p, la, now, why) {
			continue
		}
		n++
		for _, r := range la.readers { // later in order: still to come
			marks[r] = true
		}
	}
	return n
}

// mark sets the marks of the audiences ch affects directly, and reports
// whether there is any.
func (ch *change) mark(s *Segments, marks []bool) bool {
	hit := false
	set := func(list []int) {
		for _, i := range list {
			marks[i] = true
		}
		hit = hit || len(list) > 0
	}
	if ch.all {
		for i := range marks {
			marks[i] = true
		}
		return len(marks) > 0
	}
	for aud := range ch.audiences {
		if la := s.liveAudience(aud); la != nil {
			marks[la.idx], hit = true, true
		}
	}
	if ch.event != "" {
		set(s.index.events[ch.event])
	}
	if ch.consent {
		set(s.index.consent)
	}
	for _, t := range ch.traits {
		set(s.index.traits[t])
	}
	if ch.after != nil {
		set(ch.after.readers)
	}
	if ch.one != nil {
		marks[ch.one.idx], hit = true, true
	}
	return hit
}

// evaluate sets one profile's membership of one audience as of now,
// schedules its timer, and reports whether the membership flipped.
func (s *Segments) evaluate(id uint64, p *pstate, la *live, now time.Time, why cause) bool {
	// A pointer to a subject the engine keeps: a subject value would be
	// copied to the heap on every evaluation.
	x := &s.subj
	x.s, x.p, x.id, x.now = s, p, id, now
	res := audience.Evaluate(la.a.cond, x, now)
	next := res.NextChange
	for _, ct := range la.computed {
		if _, _, n := x.computed(ct); !n.IsZero() {
			next = earliest(next, n)
		}
	}
	s.setTimer(id, p, la.a.slot, next)
	return s.setMember(id, p, la.a.slot, res.Value, now, why)
}

// setMember records the profile entering or leaving the audience in slot,
// if it does.
func (s *Segments) setMember(id uint64, p *pstate, slot int32, in bool, at time.Time, why cause) bool {
	if !p.member.flip(slot, in, at) {
		return false
	}
	s.recordMember(id, p, slot, in, at, why)
	return true
}

// recordMember records a flip of the profile's membership that its state
// already has: in the audience's members and the changes to save.
func (s *Segments) recordMember(id uint64, p *pstate, slot int32, in bool, at time.Time, why cause) {
	aud := s.slotID(slot)
	if in {
		s.memberSet(aud)[id] = true
		s.memberEntered(aud, id)
	} else {
		delete(s.members[aud], id)
		s.memberLeft(aud)
	}
	s.touch(id, p)
	s.meta.NextChange++
	// One event often flips several audiences: encode its cause once.
	if why != s.lastCause || s.lastCauseJSON == "" {
		s.causeBuf = why.appendJSON(s.causeBuf[:0])
		s.lastCause, s.lastCauseJSON = why, string(s.causeBuf)
	}
	s.pending.add(store.AudienceChange{ID: s.meta.NextChange, AudienceID: aud, ProfileID: id,
		Entered: in, At: at, Seq: why.Seq, Cause: s.lastCauseJSON})
}

// state returns the profile's state, creating it if needed.
func (s *Segments) state(id uint64) *pstate {
	p := s.states[id]
	if p == nil {
		p = &pstate{}
		s.states[id] = p
		s.made++
		s.list.add(id, p)
	}
	return p
}
