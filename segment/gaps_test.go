package segment

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
)

// TestConsentFromHistory: consent given before an audience exists (or
// before a restart that lost the engine's state, as `mosaic replay` does)
// is loaded by the backfill, the latest by event time winning.
func TestConsentFromHistory(t *testing.T) {
	e := newEnv(t)
	consent := func(u, at string, granted bool) string {
		b, _ := json.Marshal(granted)
		return `{"type":"page","userId":"` + u + `","timestamp":"` + at + `","context":{"consent":{"categoryPreferences":{"marketing":` + string(b) + `}}}}`
	}
	e.send(
		consent("u1", "2026-02-01T00:00:00Z", true),
		consent("u2", "2026-02-02T00:00:00Z", true),
		consent("u2", "2026-02-01T00:00:00Z", false), // older, though later in the log
		consent("u3", "2026-02-01T00:00:00Z", true),
		consent("u3", "2026-02-03T00:00:00Z", false),
		identify("u4", t0, `{"plan":"pro"}`),
	)
	e.audience("marketing", `consent marketing`)
	if got, want := e.members("marketing", "u1", "u2", "u3", "u4"), []string{"u1", "u2"}; !slices.Equal(got, want) {
		t.Errorf("members(consent marketing) = %v, want %v", got, want)
	}
	// A later audience reading consent finds it loaded already; one made
	// live before consent was loaded (an older state) is backfilled again
	// after a restart.
	e.seg.mu.Lock()
	e.seg.meta.Consent = false
	e.seg.mu.Unlock()
	e.restart()
	e.seg.resumeJobs(e.ctx) // what Run does first
	e.seg.mu.Lock()
	id := e.seg.audByKey["marketing"].ID
	e.seg.mu.Unlock()
	e.waitLive(id)
	if got, want := e.members("marketing", "u1", "u2", "u3", "u4"), []string{"u1", "u2"}; !slices.Equal(got, want) {
		t.Errorf("after restart: members = %v, want %v", got, want)
	}
}

// TestDeleteRecordsExits: deleting an audience records every member's
// exit in the list of changes, which followers of the list read.
func TestDeleteRecordsExits(t *testing.T) {
	e := newEnv(t)
	e.send(order("u1", t0, ""), order("u2", t0, ""))
	a := e.audience("buyers", `count(event "Order Completed") >= 1`)
	if err := e.seg.DeleteAudience(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	changes, err := e.seg.Changes(context.Background(), "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	exits := map[uint64]string{}
	for _, c := range changes {
		if c.AudienceID == a.ID && !c.Entered {
			exits[c.ProfileID] = c.Cause
		}
	}
	for _, u := range []string{"u1", "u2"} {
		if got := exits[e.pid(u)]; got != `{"kind":"delete"}` {
			t.Errorf("exit of %s = %q, want cause delete", u, got)
		}
	}
}

// TestSplitUpdatesMemberships: a split rebuilds profiles from their
// events; memberships follow the rebuilt profiles.
func TestSplitUpdatesMemberships(t *testing.T) {
	e := newEnv(t)
	e.audience("buyers", `count(event "Order Completed") >= 1`)
	e.audience("nobody_bought", `not count(event "Order Completed") >= 1`)
	e.send(
		`{"type":"track","anonymousId":"a1","event":"Order Completed","timestamp":"`+t0.Format("2006-01-02T15:04:05Z")+`"}`,
		identify("u1", t0, `{"plan":"pro"}`),
	)
	e.send(`{"type":"identify","userId":"u1","anonymousId":"a1"}`) // merges the two
	if !e.member("buyers", "u1") {
		t.Fatalf("u1 not in buyers after the merge")
	}
	_, err := e.prof.Split(context.Background(), "user_id:u1", engine.SplitRequest{Identifier: &identity.Identifier{Type: identity.TypeAnonymousID, Value: "a1"}})
	if err != nil {
		t.Fatalf("Split = %v", err)
	}
	if e.member("buyers", "u1") || !e.member("nobody_bought", "u1") {
		t.Errorf("after the split u1: buyers %v, nobody_bought %v; want out, in", e.member("buyers", "u1"), e.member("nobody_bought", "u1"))
	}
	anon, err := e.prof.Find("anonymous_id:a1")
	if err != nil {
		t.Fatal(err)
	}
	got := e.seg.ProfileAudiences(uint64(anon))
	if len(got) != 1 || got[0].Key != "buyers" {
		t.Errorf("after the split the anonymous profile is in %+v, want buyers only", got)
	}
}
