package engine

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/profile"
)

// AccountView is an account (B2B: a company, a team, a household) as
// group calls describe it: its traits, the newest value of each across all
// its members' group calls, and the profiles that belong to it.
type AccountView struct {
	ID        string                     `json:"id"`
	Traits    map[string]json.RawMessage `json:"traits"`
	FirstSeen time.Time                  `json:"first_seen"`
	LastSeen  time.Time                  `json:"last_seen"`
	Members   []AccountMember            `json:"members"`
}

// AccountMember is one profile of an account.
type AccountMember struct {
	ID        identity.ProfileID `json:"id"`
	FirstSeen time.Time          `json:"first_seen"` // its first group call for the account
	LastSeen  time.Time          `json:"last_seen"`
}

// Account returns the account groupID: ENOTFOUND if no profile belongs to
// it. Like Search it scans the profiles in memory: fine for a person
// looking one up, not for automation over every account.
func (p *Profiles) Account(groupID string) (*AccountView, error) {
	v := &AccountView{ID: groupID, Traits: map[string]json.RawMessage{}, Members: []AccountMember{}}
	newest := map[string]profile.Trait{}
	for _, w := range p.parts {
		w.mu.RLock()
		w.set.Range(func(pr *profile.Profile) bool {
			for _, g := range pr.Groups() {
				if g.ID != groupID {
					continue
				}
				v.Members = append(v.Members, AccountMember{ID: identity.ProfileID(pr.ID), FirstSeen: g.FirstSeen, LastSeen: g.LastSeen})
				for _, t := range g.Traits {
					if cur, ok := newest[t.Name]; !ok || t.Time.After(cur.Time) || (t.Time.Equal(cur.Time) && t.Seq > cur.Seq) {
						newest[t.Name] = t
					}
				}
			}
			return true
		})
		w.mu.RUnlock()
	}
	if len(v.Members) == 0 {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No profile belongs to the account %q (group calls with that groupId link profiles to it).", groupID)
	}
	slices.SortFunc(v.Members, func(a, b AccountMember) int { return compareIDs(a.ID, b.ID) })
	v.FirstSeen, v.LastSeen = v.Members[0].FirstSeen, v.Members[0].LastSeen
	for _, m := range v.Members {
		if m.FirstSeen.Before(v.FirstSeen) {
			v.FirstSeen = m.FirstSeen
		}
		if m.LastSeen.After(v.LastSeen) {
			v.LastSeen = m.LastSeen
		}
	}
	for name, t := range newest {
		v.Traits[name] = t.Value
	}
	return v, nil
}

func compareIDs(a, b identity.ProfileID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
