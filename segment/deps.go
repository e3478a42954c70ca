package segment

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic/audience"
)

// live is an audience as evaluation needs it: what it depends on, in sets.
type live struct {
	a        *Audience
	events   map[string]bool // aggregated directly or through computed traits
	traits   map[string]bool
	consent  bool
	refs     map[string]bool          // IDs of audiences it reads
	computed []*ComputedTrait         // computed traits it reads
	windows  map[string]time.Duration // event name → widest window (0: all time)
	idx      int                      // position in Segments.order
	ready    bool                     // backfilled: meta.Ready, read without a lookup by ID
	readers  []int                    // positions of the audiences that read it
}

// index is which audiences (positions in Segments.order) depend on what:
// an event finds the audiences to evaluate without looking at the others.
type index struct {
	events  map[string][]int
	traits  map[string][]int
	consent []int
	byID    map[string]*live
}

func (s *Segments) buildIndex() {
	x := index{events: map[string][]int{}, traits: map[string][]int{}, byID: map[string]*live{}}
	pos := map[string]int{}
	for i, la := range s.order {
		la.idx, la.readers, la.ready = i, nil, s.meta.Ready[la.a.ID]
		pos[la.a.ID] = i
		x.byID[la.a.ID] = la
		for _, name := range sortedKeys(la.events) {
			x.events[name] = append(x.events[name], i)
		}
		for _, name := range sortedKeys(la.traits) {
			x.traits[name] = append(x.traits[name], i)
		}
		if la.consent {
			x.consent = append(x.consent, i)
		}
	}
	for i, la := range s.order {
		for ref := range la.refs {
			if r, ok := pos[ref]; ok {
				s.order[r].readers = append(s.order[r].readers, i)
			}
		}
	}
	s.index = x
	s.marks = make([]bool, len(s.order))
}

func (s *Segments) liveAudience(id string) *live { return s.index.byID[id] }

// rebuild derives the evaluation order and dependency sets from the
// definitions. Audiences are ordered so that one comes after those it
// refers to: a change then reaches the audiences reading it in one pass.
func (s *Segments) rebuild() error {
	byID := map[string]*live{}
	for _, a := range s.audiences {
		a.slot = s.slotOf(a.ID)
		byID[a.ID] = s.liveOf(a)
	}
	s.order = s.order[:0]
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(la *live, path []string) error
	visit = func(la *live, path []string) error {
		switch state[la.a.ID] {
		case 1:
			return fmt.Errorf("segment: audiences refer to each other in a cycle: %v", append(path, la.a.Key))
		case 2:
			return nil
		}
		state[la.a.ID] = 1
		for ref := range la.refs {
			if r := byID[ref]; r != nil {
				if err := visit(r, append(path, la.a.Key)); err != nil {
					return err
				}
			}
		}
		state[la.a.ID] = 2
		s.order = append(s.order, la)
		return nil
	}
	for _, id := range sortedKeys(byID) {
		if err := visit(byID[id], nil); err != nil {
			return err
		}
	}
	s.buildIndex()
	return nil
}

func (s *Segments) liveOf(a *Audience) *live {
	la := &live{a: a, events: map[string]bool{}, traits: map[string]bool{}, refs: map[string]bool{},
		consent: len(a.deps.Consent) > 0, windows: eventWindows(a.cond)}
	for name := range la.windows {
		la.events[name] = true
	}
	for _, t := range a.deps.Traits {
		la.traits[t] = true
	}
	for _, key := range a.deps.Computed {
		if ct := s.ctByKey[key]; ct != nil {
			la.computed = append(la.computed, ct)
			la.events[ct.Event] = true
			la.windows[ct.Event] = widest(la.windows, ct.Event, ct.window)
		}
	}
	for _, key := range a.deps.Audiences {
		if r := s.audienceByRef(key); r != nil {
			la.refs[r.ID] = true
		}
	}
	return la
}

// eventWindows lists the events a condition aggregates, each with the
// widest window it is read over (0 for all time).
func eventWindows(c *audience.Condition) map[string]time.Duration {
	out := map[string]time.Duration{}
	var walk func(c *audience.Condition)
	walk = func(c *audience.Condition) {
		if c.Kind == audience.KindEvent {
			out[c.Name] = widest(out, c.Name, c.Within)
		}
		for _, ch := range c.Children {
			walk(ch)
		}
	}
	walk(c)
	return out
}

// widest combines a window with the one already in m for name: all time
// (0) wins.
func widest(m map[string]time.Duration, name string, w time.Duration) time.Duration {
	old, ok := m[name]
	if !ok {
		return w
	}
	if old == 0 || w == 0 {
		return 0
	}
	return max(old, w)
}

func (s *Segments) audienceByRef(ref string) *Audience {
	if a := s.audiences[ref]; a != nil {
		return a
	}
	return s.audByKey[ref]
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
