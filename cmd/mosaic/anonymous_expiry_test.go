package main

import (
	"context"
	"testing"
	"time"
)

// TestAnonymousExpiry runs the expiry with clocks of its own: only the
// profiles known by anonymous IDs alone and inactive for longer than
// --anonymous-expiry lose their events; identified profiles of the same
// age, and anonymous ones seen since, stay.
func TestAnonymousExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		m := startMain(t, append(serveArgs, "--anonymous-expiry", "2mo")...)
		src := createSource(t, m, "web")
		old := time.Now().AddDate(0, -1, 0).UTC().Format(time.RFC3339)
		postConsentBatch(t, m, src.WriteKey, nil, `[
			{"type":"page","anonymousId":"anon-old","name":"Home","timestamp":"`+old+`"},
			{"type":"page","anonymousId":"anon-old","name":"Shoes","timestamp":"`+old+`"},
			{"type":"page","anonymousId":"anon-known","name":"Home","timestamp":"`+old+`"},
			{"type":"identify","anonymousId":"anon-known","userId":"u-known","timestamp":"`+old+`"},
			{"type":"page","anonymousId":"anon-new","name":"Home"}]`)
		getProfile(t, m, "anonymous_id:anon-new", func(p profileJSON) bool { return p.EventCounts.Total == 1 })
		getProfile(t, m, "anonymous_id:anon-old", func(p profileJSON) bool { return p.EventCounts.Total == 2 })
		ctx := context.Background()

		if p, n, err := m.Requests.ExpireAnonymous(ctx, time.Now()); p != 0 || n != 0 || err != nil {
			t.Fatalf("expire now = %d profiles, %d events, %v; want none (a month old, expiry 2 months)", p, n, err)
		}
		p, n, err := m.Requests.ExpireAnonymous(ctx, time.Now().AddDate(0, 1, 7))
		if p != 1 || n != 2 || err != nil {
			t.Fatalf("expire in 5 weeks = %d profiles, %d events, %v; want anon-old's 1 profile and 2 events", p, n, err)
		}
		if status, b := do(t, "GET", m.URL()+"/api/v1/profiles/anonymous_id:anon-old", adminHeader(), ""); status != 404 {
			t.Errorf("expired profile = %d %s, want 404", status, b)
		}
		known := getProfile(t, m, "user_id:u-known", func(profileJSON) bool { return true })
		if known.EventCounts.Total != 2 {
			t.Errorf("identified profile after expiry = %+v, want its 2 events", known)
		}
		getProfile(t, m, "anonymous_id:anon-new", func(p profileJSON) bool { return p.EventCounts.Total == 1 })
	})
}
