package audience

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// memSubject is an in-memory Subject with real state: what the engine's
// profile view will be, minus storage. Events are kept per name, newest
// first.
type memSubject struct {
	traits    map[string]Value
	computed  map[string]Value
	consent   map[string]bool
	audiences map[string]bool
	events    map[string][]memEvent
}

type memEvent struct {
	at    time.Time
	props []byte
}

// Trait implements Subject.
func (s *memSubject) Trait(name string) (Value, bool) {
	v, ok := s.traits[name]
	return v, ok
}

// Computed implements Subject.
func (s *memSubject) Computed(name string) (Value, bool) {
	v, ok := s.computed[name]
	return v, ok
}

// Consent implements Subject.
func (s *memSubject) Consent(purpose string) bool { return s.consent[purpose] }

// InAudience implements Subject.
func (s *memSubject) InAudience(key string) bool { return s.audiences[key] }

// Events implements Subject.
func (s *memSubject) Events(name string, since time.Time, fn func(time.Time, []byte) bool) {
	for _, e := range s.events[name] {
		if e.at.Before(since) || !fn(e.at, e.props) {
			return // newest first: all the rest are older
		}
	}
}

// addEvent inserts an event keeping the newest-first order; events at the
// same time keep their insertion order.
func (s *memSubject) addEvent(name string, at time.Time, props string) {
	if props == "" {
		props = "{}"
	}
	if s.events == nil {
		s.events = map[string][]memEvent{}
	}
	es := s.events[name]
	i := sort.Search(len(es), func(i int) bool { return es[i].at.Before(at) })
	es = append(es, memEvent{})
	copy(es[i+1:], es[i:])
	es[i] = memEvent{at: at, props: []byte(props)}
	s.events[name] = es
}

// subjectJSON is how test cases write a subject.
type subjectJSON struct {
	Traits    map[string]json.RawMessage `json:"traits"`
	Computed  map[string]json.RawMessage `json:"computed"`
	Consent   []string                   `json:"consent"`
	Audiences []string                   `json:"audiences"`
	Events    []struct {
		Event      string          `json:"event"`
		At         time.Time       `json:"at"`
		Properties json.RawMessage `json:"properties"`
	} `json:"events"`
}

func (j subjectJSON) subject() (*memSubject, error) {
	s := &memSubject{traits: map[string]Value{}, computed: map[string]Value{}, consent: map[string]bool{}, audiences: map[string]bool{}}
	for dst, src := range map[*map[string]Value]map[string]json.RawMessage{&s.traits: j.Traits, &s.computed: j.Computed} {
		for k, raw := range src {
			v, err := ParseValue(raw)
			if err != nil {
				return nil, fmt.Errorf("trait %s: %w", k, err)
			}
			(*dst)[k] = v
		}
	}
	for _, p := range j.Consent {
		s.consent[p] = true
	}
	for _, a := range j.Audiences {
		s.audiences[a] = true
	}
	for _, e := range j.Events {
		s.addEvent(e.Event, e.At, string(e.Properties))
	}
	return s, nil
}
