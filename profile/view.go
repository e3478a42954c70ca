package profile

import (
	"encoding/json"
	"time"
)

// ProfileJSON is a profile as the profile API returns it, but for the
// profile ID and the identifiers, which the identity graph owns. Embed it
// after them, and JSON has the fields in the API's order:
//
//	struct {
//		ID          identity.ProfileID `json:"id"`
//		Identifiers []… `json:"identifiers"`
//		profile.ProfileJSON
//	}
type ProfileJSON struct {
	Traits      map[string]json.RawMessage `json:"traits"`
	FirstSeen   *time.Time                 `json:"first_seen"` // null before any event
	LastSeen    *time.Time                 `json:"last_seen"`
	Sources     map[string]int64           `json:"sources"` // source ID → events
	EventCounts EventCountsJSON            `json:"event_counts"`
	Groups      []GroupJSON                `json:"groups"`
}

// EventCountsJSON counts a profile's events.
type EventCountsJSON struct {
	Total   int64            `json:"total"`
	ByType  map[string]int64 `json:"by_type"`  // call type → events
	ByEvent map[string]int64 `json:"by_event"` // track event name → events
}

// GroupJSON is a profile's membership in one account.
type GroupJSON struct {
	ID        string                     `json:"id"`
	Traits    map[string]json.RawMessage `json:"traits"`
	FirstSeen time.Time                  `json:"first_seen"`
	LastSeen  time.Time                  `json:"last_seen"`
}

// View returns p in the shape of the profile API. It copies everything, so
// the result stays valid after p changes.
func View(p *Profile) ProfileJSON {
	counts := p.allCounts()
	v := ProfileJSON{
		Traits:      traitMap(p.Traits()),
		Sources:     counts[kindSource],
		EventCounts: EventCountsJSON{ByType: counts[kindType], ByEvent: counts[kindEvent]},
		Groups:      []GroupJSON{},
	}
	for _, n := range counts[kindType] {
		v.EventCounts.Total += n
	}
	if p.seen {
		first, last := p.FirstSeen(), p.LastSeen()
		v.FirstSeen, v.LastSeen = &first, &last
	}
	for _, g := range p.Groups() {
		v.Groups = append(v.Groups, GroupJSON{ID: g.ID, Traits: traitMap(g.Traits),
			FirstSeen: g.FirstSeen, LastSeen: g.LastSeen})
	}
	return v
}

func traitMap(ts []Trait) map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(ts))
	for _, t := range ts {
		m[t.Name] = t.Value
	}
	return m
}
