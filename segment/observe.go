package segment

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/audience"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/profile"
)

// Observe implements engine.ProfileObserver: it applies what one event did
// and evaluates the audiences that depend on it.
func (s *Segments) Observe(c *engine.ProfileChange) {
	if c.Seq <= s.skipUpTo {
		return // saved before the restart
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = max(s.seq, c.Seq)
	now := s.opts.Now()
	for _, id := range c.Removed { // a split: the profiles are rebuilt by the changes that follow
		if slices.Contains(c.Erased, id) {
			s.forget(id)
			continue
		}
		s.remove(id, now, cause{Kind: "split", Seq: c.Seq})
	}
	if c.Event == nil {
		return
	}
	// c.Seq is the change's position (a split's, when it applies events
	// again); the event's own position orders its data.
	evSeq := c.Event.Seq
	if c.Profile != 0 {
		delete(s.redirects, c.Profile) // live: a split may have made it so again
	}
	survivors := s.merge(c, now)
	if c.Profile == 0 {
		return
	}
	ev := readEvent(c.Event, c.Name, wants{consent: s.opts.Consent == nil, traits: len(s.meta.Traits) > 0})
	// A profile's first event (a new profile, or one a split rebuilds)
	// evaluates every audience: those that match a profile holding nothing
	// they read ("not consent marketing") must take it in, as a backfill
	// or a preview would.
	fresh := s.states[c.Profile] == nil && c.State != nil && c.State.Events() == 1
	p := s.state(c.Profile)
	ch := change{all: survivors[c.Profile] || fresh}
	if t := s.meta.Events[ev.name]; t != nil && ev.name != "" {
		it := item{At: ev.at, Seq: evSeq, Props: bytes.Clone(ev.props)}
		p.addItem(ev.name, it)
		p.prune(ev.name, t.Retention, now)
		ch.event = ev.name
		s.touch(c.Profile, p)
	}
	if s.opts.Consent != nil {
		if ch.all || s.opts.Consent.MayChange(c.Event.Message) {
			ch.consent = s.refreshConsent(c.Profile, p)
		}
	} else if ev.consent != nil && (p.Consent == nil || newerConsent(ev.at, evSeq, p.ConsentAt, p.ConsentSeq)) {
		ch.consent = !sameConsent(p.Consent, ev.consent)
		p.Consent, p.ConsentAt, p.ConsentSeq = ev.consent, ev.at, evSeq
		s.touch(c.Profile, p)
	}
	if len(s.meta.Traits) > 0 && (ev.traits || ch.all) && c.State != nil {
		ch.traits = s.refreshTraits(c.Profile, p, c.State)
	}
	delete(survivors, c.Profile)
	why := cause{Kind: "event", Seq: c.Seq, Type: c.Event.Type, Event: ev.name}
	s.reevaluate(c.Profile, p, ch, now, why)
	for id := range survivors { // merged by this event but not its profile
		if s.opts.Consent != nil {
			s.refreshConsent(id, s.state(id))
		}
		s.reevaluate(id, s.state(id), change{all: true}, now, why)
	}
}

// remove drops a profile's state, a split's first step: it leaves its
// audiences, and its events come again as changes to the profiles the
// split makes.
func (s *Segments) remove(id uint64, now time.Time, why cause) {
	p := s.states[id]
	if p == nil {
		return
	}
	for _, aud := range s.memberIDs(p) {
		s.setMember(id, p, s.slotOf(aud), false, now, why)
	}
	delete(s.states, id)
	s.removed()
	s.dirty[id] = true
}

// forget drops an erased profile's state and its changes not saved yet,
// recording no exit: the person is gone, and their entries and exits are
// deleted from the store with the rest of them. Timers find no state and
// lapse.
func (s *Segments) forget(id uint64) {
	if p := s.states[id]; p != nil {
		for _, aud := range s.memberIDs(p) {
			delete(s.members[aud], id)
			s.memberLeft(aud)
		}
		delete(s.states, id)
		s.removed()
	}
	s.dirty[id] = true
	s.pending.dropProfile(id)
	for from, to := range s.redirects {
		if from == id || to == id {
			delete(s.redirects, from)
		}
	}
}

// merge moves absorbed profiles' state into their survivors; the absorbed
// profiles leave their audiences. It returns the survivors.
func (s *Segments) merge(c *engine.ProfileChange, now time.Time) map[uint64]bool {
	if len(c.Merges) == 0 {
		return nil
	}
	survivors := map[uint64]bool{}
	for _, m := range c.Merges {
		s.redirects[m.Absorbed] = m.Survivor
		survivors[m.Survivor] = true
		a := s.states[m.Absorbed]
		if a == nil {
			continue
		}
		sv := s.state(m.Survivor)
		sv.mergeFrom(a)
		why := cause{Kind: "merge", Seq: c.Seq, Into: profileRef(m.Survivor)}
		for _, aud := range s.memberIDs(a) {
			s.setMember(m.Absorbed, a, s.slotOf(aud), false, now, why)
		}
		delete(s.states, m.Absorbed)
		s.removed()
		s.dirty[m.Absorbed], s.dirty[m.Survivor] = true, true
	}
	return survivors
}

func profileRef(id uint64) string { return identity.ProfileID(id).String() }

// refreshTraits copies the tracked traits from the profile and returns
// the names of those that changed, in a slice the next call reuses.
//
// It reads the profile's traits in place (profile.EachTrait): decoding
// them into a sorted list of copies took most of its time.
func (s *Segments) refreshTraits(id uint64, p *pstate, pr *profile.Profile) []string {
	changed := s.changedTraits[:0]
	// had is how many traits the state held; seen marks those the profile
	// still has, tracked. Both lists are short.
	had := len(p.traits)
	var seenBuf [16]bool
	var seen []bool
	if had <= len(seenBuf) {
		seen = seenBuf[:had]
	} else {
		seen = make([]bool, had)
	}
	pr.EachTrait(func(name string, value []byte) {
		if _, tracked := s.meta.Traits[name]; !tracked {
			return
		}
		for i := range had {
			if old := &p.traits[i]; old.name == name {
				seen[i] = true
				if old.raw != string(value) {
					*old = newTrait(old.name, string(value))
					changed = append(changed, old.name)
				}
				return
			}
		}
		name = s.intern(name)
		p.traits = append(p.traits, newTrait(name, string(value)))
		changed = append(changed, name)
	})
	kept := p.traits[:0]
	for i, t := range p.traits {
		if i >= had || seen[i] {
			kept = append(kept, t)
		} else {
			changed = append(changed, t.name) // gone from the profile, or no longer read
		}
	}
	clear(p.traits[len(kept):])
	p.traits = kept
	if len(changed) > 0 {
		s.touch(id, p)
	}
	s.changedTraits = changed
	return changed
}

// observed is what the segment engine reads from an event.
type observed struct {
	name    string // a track call's event name
	at      time.Time
	props   []byte
	consent map[string]bool
	traits  bool // the event may set traits
}

var (
	consentKey = []byte("categoryPreferences")
	traitsKey  = []byte(`"traits"`)
)

// decodeEvent reads only the fields it needs, by scanning: most events
// change none of them.
func decodeEvent(ev *mosaic.Event) observed {
	msg := ev.Message
	o := observed{at: ev.ReceivedAt, traits: ev.Type == mosaic.TypeIdentify || bytes.Contains(msg, traitsKey)}
	if raw, ok := audience.RawProperty(msg, "timestamp"); ok {
		if ts, ok := unquote(raw); ok {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				o.at = t
			}
		}
	}
	if ev.Type == mosaic.TypeTrack {
		if raw, ok := audience.RawProperty(msg, "event"); ok {
			o.name, _ = unquote(raw)
		}
		if raw, ok := audience.RawProperty(msg, "properties"); ok && len(raw) > 0 && raw[0] == '{' {
			o.props = raw
		}
	}
	if bytes.Contains(msg, consentKey) {
		o.consent = consentOf(msg)
	}
	return o
}

// unquote returns the JSON string raw holds; false if it holds another
// type. Most strings have no escapes and are cut out without a decoder.
func unquote(raw []byte) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// consentOf reads Segment's consent convention: the purposes granted in
// context.consent.categoryPreferences. Nil when the event has none.
func consentOf(msg []byte) map[string]bool {
	raw, ok := audience.RawProperty(msg, "context.consent.categoryPreferences")
	if !ok {
		return nil
	}
	var prefs map[string]any
	if json.Unmarshal(raw, &prefs) != nil || prefs == nil {
		return nil
	}
	out := make(map[string]bool, len(prefs))
	for k, v := range prefs {
		b, _ := v.(bool)
		out[k] = b
	}
	return out
}

func sameConsent(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
