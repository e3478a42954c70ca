package main

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	segment "github.com/segmentio/analytics-go/v3"
)

type profileJSON struct {
	ID          string `json:"id"`
	Identifiers []struct {
		Type, Value string
	} `json:"identifiers"`
	Traits      map[string]any `json:"traits"`
	EventCounts struct {
		Total   int64            `json:"total"`
		ByEvent map[string]int64 `json:"by_event"`
	} `json:"event_counts"`
}

// getProfile polls the profile API until check accepts the profile.
func getProfile(t *testing.T, m *Main, ref string, check func(profileJSON) bool) profileJSON {
	t.Helper()
	var p profileJSON
	var status int
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, body = do(t, "GET", m.URL()+"/api/v1/profiles/"+url.PathEscape(ref), adminHeader(), "")
		if status == 200 && json.Unmarshal(body, &p) == nil && check(p) {
			return p
		}
	}
	t.Fatalf("profile %s = %d %s; never as expected", ref, status, body)
	return p
}

// TestProfilesFromSDK: anonymous browsing, then a login with an email,
// sent with the real Segment SDK, end in one profile that every identifier
// finds, with traits, counts, history and a timeline; and a restart keeps
// it exactly.
func TestProfilesFromSDK(t *testing.T) {
	dir := t.TempDir()
	m := startMain(t, "--data", dir)
	src := createSource(t, m, "shop")
	seg, err := segment.NewWithConfig(src.WriteKey, segment.Config{Endpoint: m.URL(), Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_ = seg.Enqueue(segment.Page{AnonymousId: "anon-9", Name: "Shoes"})
	_ = seg.Enqueue(segment.Track{AnonymousId: "anon-9", Event: "Product Viewed"})
	_ = seg.Enqueue(segment.Identify{AnonymousId: "anon-9", UserId: "u-9",
		Traits: segment.NewTraits().SetEmail("  Jane@Voorbeeld.NL ").SetName("Jane").Set("plan", "pro")})
	_ = seg.Enqueue(segment.Track{UserId: "u-9", Event: "Order Completed", Properties: segment.NewProperties().SetRevenue(42)})
	if err := seg.Close(); err != nil {
		t.Fatal(err)
	}

	p := getProfile(t, m, "user_id:u-9", func(p profileJSON) bool { return p.EventCounts.Total == 4 })
	if p.Traits["plan"] != "pro" || p.Traits["name"] != "Jane" || p.EventCounts.ByEvent["Order Completed"] != 1 {
		t.Errorf("profile = %+v, want traits plan=pro, name=Jane and one order", p)
	}
	for _, ref := range []string{"anonymous_id:anon-9", "email:jane@voorbeeld.nl", "email: JANE@voorbeeld.nl ", p.ID} {
		if q := getProfile(t, m, ref, func(profileJSON) bool { return true }); q.ID != p.ID {
			t.Errorf("profile by %q = %s, want %s", ref, q.ID, p.ID)
		}
	}
	if status, body := do(t, "GET", m.URL()+"/api/v1/profiles/email:nobody@example.com", adminHeader(), ""); status != 404 {
		t.Errorf("unknown identifier = %d %s, want 404", status, body)
	}
	if status, body := do(t, "GET", m.URL()+"/api/v1/profiles/nonsense", adminHeader(), ""); status != 400 {
		t.Errorf("bad reference = %d %s, want 400", status, body)
	}

	status, body := do(t, "GET", m.URL()+"/api/v1/profiles/"+p.ID+"/events?limit=10", adminHeader(), "")
	var tl struct {
		Events []struct {
			Type, Name string
			Message    map[string]any
		}
	}
	if err := json.Unmarshal(body, &tl); status != 200 || err != nil || len(tl.Events) != 4 {
		t.Fatalf("timeline = %d %s, want 4 events", status, body)
	}
	if tl.Events[0].Name != "Order Completed" || tl.Events[0].Message["event"] != "Order Completed" {
		t.Errorf("newest timeline event = %+v, want the order with its message", tl.Events[0])
	}

	status, body = do(t, "GET", m.URL()+"/api/v1/profiles/"+p.ID+"/identity", adminHeader(), "")
	if status != 200 {
		t.Fatalf("identity = %d %s", status, body)
	}

	status, body = do(t, "GET", m.URL()+"/api/v1/profiles?q=VOORBEELD", adminHeader(), "")
	var found struct {
		Profiles []profileJSON `json:"profiles"`
	}
	if err := json.Unmarshal(body, &found); status != 200 || err != nil || len(found.Profiles) != 1 || found.Profiles[0].ID != p.ID {
		t.Errorf("search q=VOORBEELD = %d %s, want the one profile", status, body)
	}
	if status, body := do(t, "GET", m.URL()+"/api/v1/profiles?q=", adminHeader(), ""); status != 400 {
		t.Errorf("empty search = %d %s, want 400", status, body)
	}
	status, body = do(t, "GET", m.URL()+"/api/v1/identity/rules", adminHeader(), "")
	var rules struct {
		Limits map[string]int `json:"limits"`
	}
	if err := json.Unmarshal(body, &rules); status != 200 || err != nil || rules.Limits["user_id"] != 1 {
		t.Errorf("rules = %d %s, want user_id limited to 1", status, body)
	}

	// Restart on the same data: the profile is the same, not applied twice.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	m2 := startMain(t, "--data", dir)
	q := getProfile(t, m2, "email:jane@voorbeeld.nl", func(profileJSON) bool { return true })
	if q.ID != p.ID || q.EventCounts.Total != 4 || q.Traits["plan"] != "pro" {
		t.Errorf("after restart = %+v, want the same profile with 4 events", q)
	}
}

// TestReplayRebuildsProfiles replays the log of a stopped server and checks
// the rebuilt profile equals the one built incrementally.
func TestReplayRebuildsProfiles(t *testing.T) {
	dir := t.TempDir()
	m := startMain(t, "--data", dir)
	src := createSource(t, m, "web")
	h := map[string][]string{"Content-Type": {"application/json"}}
	body := `{"writeKey":"` + src.WriteKey + `","batch":[
		{"type":"page","anonymousId":"a-1","name":"Home"},
		{"type":"identify","anonymousId":"a-1","userId":"u-1","traits":{"email":"ann@shop.nl","tier":"gold"}},
		{"type":"track","userId":"u-1","event":"Order Completed","messageId":"dup"},
		{"type":"track","userId":"u-1","event":"Order Completed","messageId":"dup"}]}`
	if status, b := do(t, "POST", m.URL()+"/v1/batch", h, body); status != 200 {
		t.Fatalf("batch = %d %s", status, b)
	}
	before := getProfile(t, m, "user_id:u-1", func(p profileJSON) bool { return p.EventCounts.Total == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, "replay", "--data", dir)
	if code != 0 || !strings.Contains(out, "Replayed 4 events") {
		t.Fatalf("replay = %d %q %q", code, out, errOut)
	}
	m2 := startMain(t, "--data", dir)
	after := getProfile(t, m2, "email:ann@shop.nl", func(profileJSON) bool { return true })
	if after.ID != before.ID || after.EventCounts.Total != 3 || after.Traits["tier"] != "gold" {
		t.Errorf("after replay = %+v, want %+v", after, before)
	}
}
