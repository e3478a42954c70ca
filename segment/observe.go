package segment

import (
	"bytes"
	"encoding/json"
	"time"

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
	ev := decodeEvent(c.Event)
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
		s.dirty[c.Profile] = true
	}
	if ev.consent != nil && (p.Consent == nil || newerConsent(ev.at, evSeq, p.ConsentAt, p.ConsentSeq)) {
		ch.consent = !sameConsent(p.Consent, ev.consent)
		p.Consent, p.ConsentAt, p.ConsentSeq = ev.consent, ev.at, evSeq
		s.dirty[c.Profile] = true
	}
	if len(s.meta.Traits) > 0 && (ev.traits || ch.all) && c.State != nil {
		ch.traits = s.refreshTraits(c.Profile, p, c.State)
	}
	delete(survivors, c.Profile)
	why := cause{Kind: "event", Seq: c.Seq, Type: c.Event.Type, Event: ev.name}
	s.reevaluate(c.Profile, p, ch, now, why)
	for id := range survivors { // merged by this event but not its profile
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
	for _, aud := range sortedKeys(p.Member) {
		s.setMember(id, p, aud, false, now, why)
	}
	delete(s.states, id)
	s.dirty[id] = true
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
		for _, aud := range sortedKeys(a.Member) {
			s.setMember(m.Absorbed, a, aud, false, now, why)
		}
		delete(s.states, m.Absorbed)
		s.dirty[m.Absorbed], s.dirty[m.Survivor] = true, true
	}
	return survivors
}

func profileRef(id uint64) string { return identity.ProfileID(id).String() }

// refreshTraits copies the tracked traits from the profile and returns
// those that changed.
func (s *Segments) refreshTraits(id uint64, p *pstate, pr *profile.Profile) map[string]bool {
	changed := map[string]bool{}
	seen := map[string]bool{}
	for _, t := range pr.Traits() {
		if _, ok := s.meta.Traits[t.Name]; !ok {
			continue
		}
		seen[t.Name] = true
		if old := p.Traits[t.Name]; old != nil && old.Raw == string(t.Value) {
			continue
		}
		if p.Traits == nil {
			p.Traits = map[string]*tval{}
		}
		p.Traits[t.Name] = &tval{Raw: string(t.Value)}
		changed[t.Name] = true
	}
	for name := range p.Traits {
		if !seen[name] {
			delete(p.Traits, name)
			changed[name] = true
		}
	}
	if len(changed) > 0 {
		s.dirty[id] = true
	}
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
		var ts string
		if json.Unmarshal(raw, &ts) == nil {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				o.at = t
			}
		}
	}
	if ev.Type == mosaic.TypeTrack {
		if raw, ok := audience.RawProperty(msg, "event"); ok {
			_ = json.Unmarshal(raw, &o.name)
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
