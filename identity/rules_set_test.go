package identity

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestSetRules changes the rules of a graph in use: a bad change leaves
// them as they were; a good one applies to the next events, not to links
// made before, and survives a snapshot.
func TestSetRules(t *testing.T) {
	g := New(DefaultRules())
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	resolve := func(seq uint64, ids ...Identifier) Result {
		t.Helper()
		res, err := g.Resolve(seq, "web", "m", at, ids)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	family := Identifier{TypeEmail, "family@mosaic.dev"}
	u1 := resolve(1, Identifier{TypeUserID, "u1"}, family).Profile

	bad := DefaultRules()
	bad.Limits[TypeUserID] = 2
	if err := g.SetRules(bad); !errors.Is(err, ErrInvalidRules) {
		t.Fatalf("SetRules(user_id limit 2) = %v, want ErrInvalidRules", err)
	}
	if !reflect.DeepEqual(g.Rules(), DefaultRules()) {
		t.Errorf("a refused change changed the rules: %+v", g.Rules())
	}

	r := DefaultRules()
	r.Blocked = append(r.Blocked, "family@*")
	r.Limits["crm_id"] = 1
	if err := g.SetRules(r); err != nil {
		t.Fatal(err)
	}
	if id, _ := g.Lookup(family); id != u1 {
		t.Errorf("family email in %s, want still %s: a change applies going forward", id, u1)
	}
	u2 := resolve(2, Identifier{TypeUserID, "u2"}, family, Identifier{"crm_id", "c1"}).Profile
	if u2 == u1 {
		t.Errorf("u2 merged into u1 through a blocked email")
	}
	res := resolve(3, Identifier{TypeUserID, "u2"}, Identifier{"crm_id", "c2"})
	if len(res.Refused) != 1 || res.Refused[0].Rule != RuleLimit || res.Refused[0].Type != "crm_id" {
		t.Errorf("second crm_id = %+v, want refused by the new limit of 1", res.Refused)
	}

	var buf bytes.Buffer
	if err := g.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	g2, err := Restore(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g2.Rules(), g.Rules()) {
		t.Errorf("restored rules = %+v, want %+v", g2.Rules(), g.Rules())
	}
}
