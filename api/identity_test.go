package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// identityServer is an API server over a real store, log, dedupe and
// profile stage, and a way to send it events.
type identityServer struct {
	*Server
	log      *eventlog.Log
	profiles *engine.Profiles
}

func newIdentityServer(t *testing.T) *identityServer {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "db"), sqlite.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lg, err := eventlog.Open(filepath.Join(dir, "log"), eventlog.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	eng := engine.New(lg, st, engine.Options{})
	ps, err := engine.NewProfiles(eng, st, engine.ProfileOptions{Append: lg.Append, CheckpointEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- eng.Run(ctx) }()
	go func() { done <- ps.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	srv := New(st, eng, Options{TokenHash: sha(token), Profiles: ps, Identity: ps, EventReader: eng})
	return &identityServer{Server: srv, log: lg, profiles: ps}
}

// send appends Segment messages from source "web" and waits until the
// profiles reflect them.
func (s *identityServer) send(t *testing.T, msgs ...string) {
	t.Helper()
	recs := make([][]byte, len(msgs))
	for i, m := range msgs {
		var head struct{ Type string }
		if err := json.Unmarshal([]byte(m), &head); err != nil {
			t.Fatal(err)
		}
		ev := mosaic.Event{SourceID: "web", MessageID: fmt.Sprintf("m-%d-%d", time.Now().UnixNano(), i), Type: head.Type,
			ReceivedAt: time.Date(2025, 3, 1, 12, 0, i, 0, time.UTC), Message: []byte(m)}
		recs[i], _ = ev.MarshalBinary()
	}
	first, err := s.log.Append(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.profiles.WaitProcessed(ctx, first+uint64(len(msgs))-1); err != nil {
		t.Fatal(err)
	}
}

func decode[T any](t *testing.T, w interface{ Bytes() []byte }) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Bytes(), err)
	}
	return v
}

func TestSplitRoute(t *testing.T) {
	s := newIdentityServer(t)
	s.send(t,
		`{"type":"identify","userId":"alice","anonymousId":"t-tab","traits":{"name":"Alice"}}`,
		`{"type":"identify","anonymousId":"t-tab","traits":{"name":"Bob","email":"bob@mosaic.dev"}}`,
		`{"type":"track","userId":"alice","event":"Order Completed"}`)
	alice, _ := s.profiles.Find("user_id:alice")
	path := "/api/v1/profiles/user_id:alice/split"

	for _, tc := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"neither", path, `{}`, 400, mosaic.EINVALID},
		{"both", path, `{"identifier":{"type":"email","value":"bob@mosaic.dev"},"merge":{"seq":1,"absorbed":"p0000000000000200"}}`, 400, mosaic.EINVALID},
		{"not json", path, `{"identifier":`, 400, mosaic.EINVALIDJSON},
		{"unknown field", path, `{"identifer":{"type":"email","value":"x@y.dev"}}`, 400, mosaic.EINVALIDJSON},
		{"bad email", path, `{"identifier":{"type":"email","value":"nope"}}`, 400, mosaic.EINVALID},
		{"not in profile", path, `{"identifier":{"type":"email","value":"carol@mosaic.dev"}}`, 404, mosaic.ENOTFOUND},
		{"no such merge", path, `{"merge":{"seq":99,"absorbed":"p0000000000000200"}}`, 404, mosaic.ENOTFOUND},
		{"unknown profile", "/api/v1/profiles/user_id:nobody/split", `{"identifier":{"type":"email","value":"bob@mosaic.dev"}}`, 404, mosaic.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, s, "POST", tc.path, tc.body)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), `"`+tc.code+`"`) {
				t.Errorf("POST %s %s = %d %s, want %d %s", tc.path, tc.body, w.Code, w.Body, tc.status, tc.code)
			}
		})
	}

	body := `{"identifier":{"type":"email","value":"Bob@Mosaic.dev"},"dry_run":true}`
	w := get(t, s, "POST", path, body)
	if w.Code != http.StatusOK {
		t.Fatalf("dry run = %d %s", w.Code, w.Body)
	}
	dry := decode[engine.SplitOutcome](t, w.Body)
	if !dry.DryRun || len(dry.Profiles) != 2 {
		t.Fatalf("dry run = %s, want two profiles", w.Body)
	}
	if id, _ := s.profiles.Find("email:bob@mosaic.dev"); id != alice {
		t.Errorf("after a dry run bob's email is in %s, want still %s", id, alice)
	}

	w = get(t, s, "POST", path, strings.Replace(body, `,"dry_run":true`, "", 1))
	if w.Code != http.StatusAccepted {
		t.Fatalf("split = %d %s, want 202", w.Code, w.Body)
	}
	done := decode[engine.SplitOutcome](t, w.Body)
	if done.DryRun || done.Seq == 0 || len(done.Profiles) != 2 {
		t.Errorf("split = %s, want applied with two profiles", w.Body)
	}
	for _, v := range done.Profiles {
		want := map[bool]string{true: `"Alice"`, false: `"Bob"`}[v.ID == alice]
		if got := string(v.Traits["name"]); got != want {
			t.Errorf("profile %s name = %s, want %s", v.ID, got, want)
		}
	}
	w = get(t, s, "GET", "/api/v1/profiles/email:bob@mosaic.dev", "")
	if v := decode[engine.ProfileView](t, w.Body); v.ID == alice || v.EventCounts.Total != 1 {
		t.Errorf("bob's profile after the split = %s, want its own with 1 event", w.Body)
	}
	w = get(t, s, "GET", "/api/v1/profiles/user_id:alice/identity", "")
	if !strings.Contains(w.Body.String(), `"kind":"split"`) || !strings.Contains(w.Body.String(), `"source_id":"mosaic"`) {
		t.Errorf("identity of alice = %s, want a split decision from the system source", w.Body)
	}

	// The system record is in the log but not in the events listing.
	w = get(t, s, "GET", "/api/v1/events?limit=100", "")
	page := decode[eventsPage](t, w.Body)
	if len(page.Events) != 3 || strings.Contains(w.Body.String(), mosaic.TypeSplit) {
		t.Errorf("events = %s, want the 3 events without the split record", w.Body)
	}
	if page.Head != s.log.LastSeq() {
		t.Errorf("events head = %d, want %d (the system record counts as processed)", page.Head, s.log.LastSeq())
	}
}

func TestIdentityRulesRoute(t *testing.T) {
	s := newIdentityServer(t)
	w := get(t, s, "GET", "/api/v1/identity/rules", "")
	rules := decode[map[string]any](t, w.Body)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"two user ids", `{"limits":{"user_id":2},"default_limit":5}`, "user_id must be 1"},
		{"bad limit", `{"limits":{"user_id":1,"email":0},"default_limit":5}`, `limit of \"email\" is 0`},
		{"bad pattern", `{"limits":{"user_id":1},"default_limit":5,"blocked":["re:("]}`, "blocked pattern"},
		{"priority twice", `{"limits":{"user_id":1},"default_limit":5,"priority":["email","email"]}`, "twice"},
		{"never link", `{"limits":{"user_id":1},"default_limit":5,"never_link":[{"a":{"type":"email","value":"a@b.dev"},"b":{"type":"user_id","value":"1"}}]}`, "made by splits"},
		{"unknown field", `{"limit":{"user_id":1}}`, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, s, "PUT", "/api/v1/identity/rules", tc.body)
			if w.Code != 400 || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("PUT %s = %d %s, want 400 mentioning %q", tc.body, w.Code, w.Body, tc.want)
			}
		})
	}
	if w := get(t, s, "GET", "/api/v1/identity/rules", ""); fmt.Sprint(decode[map[string]any](t, w.Body)) != fmt.Sprint(rules) {
		t.Errorf("rejected changes changed the rules: %s", w.Body)
	}

	// Block a household's shared email from now on; an earlier link stays.
	s.send(t, `{"type":"identify","userId":"u1","traits":{"email":"family@mosaic.dev"}}`)
	rules["blocked"] = append(rules["blocked"].([]any), "family@*")
	rules["limits"].(map[string]any)["email"] = 2
	body, _ := json.Marshal(rules)
	w = get(t, s, "PUT", "/api/v1/identity/rules", string(body))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"family@*"`) || !strings.Contains(w.Body.String(), `"email":2`) {
		t.Fatalf("PUT rules = %d %s", w.Code, w.Body)
	}
	if w := get(t, s, "GET", "/api/v1/identity/rules", ""); !strings.Contains(w.Body.String(), `"family@*"`) {
		t.Errorf("GET after PUT = %s, want the new blocked value", w.Body)
	}
	s.send(t, `{"type":"identify","userId":"u2","traits":{"email":"family@mosaic.dev"}}`)
	u1, _ := s.profiles.Find("user_id:u1")
	if got, _ := s.profiles.Find("email:family@mosaic.dev"); got != u1 {
		t.Errorf("family email in %s, want still u1's %s (rules apply going forward)", got, u1)
	}
	if v := decode[engine.ProfileView](t, get(t, s, "GET", "/api/v1/profiles/user_id:u2", "").Body); len(v.Identifiers) != 1 {
		t.Errorf("u2 identifiers = %+v, want only user_id:u2: the email is blocked now", v.Identifiers)
	}
}

func TestAccountRoute(t *testing.T) {
	s := newIdentityServer(t)
	s.send(t,
		`{"type":"group","userId":"u1","groupId":"acme","traits":{"name":"Acme","plan":"free"},"timestamp":"2025-03-01T10:00:00Z"}`,
		`{"type":"group","userId":"u2","groupId":"acme","traits":{"plan":"pro","employees":40},"timestamp":"2025-03-02T10:00:00Z"}`,
		`{"type":"group","userId":"u3","groupId":"other","traits":{"name":"Other"},"timestamp":"2025-03-02T10:00:00Z"}`,
		`{"type":"group","userId":"u1","groupId":"acme","traits":{"plan":"trial"},"timestamp":"2025-02-01T10:00:00Z"}`)
	w := get(t, s, "GET", "/api/v1/accounts/acme", "")
	if w.Code != 200 {
		t.Fatalf("account = %d %s", w.Code, w.Body)
	}
	acct := decode[engine.AccountView](t, w.Body)
	got := fmt.Sprintf("%s %s %s %d", acct.Traits["name"], acct.Traits["plan"], acct.Traits["employees"], len(acct.Members))
	if want := `"Acme" "pro" 40 2`; got != want {
		t.Errorf("account acme = %s (%s), want %s: the newest value by event time", got, w.Body, want)
	}
	u1, _ := s.profiles.Find("user_id:u1")
	if acct.Members[0].ID != u1 || !acct.FirstSeen.Equal(time.Date(2025, 2, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("account = %s, want u1 first, first seen at the late event's time", w.Body)
	}
	if w := get(t, s, "GET", "/api/v1/accounts/nope", ""); w.Code != 404 {
		t.Errorf("unknown account = %d %s, want 404", w.Code, w.Body)
	}
	if w := get(t, s, "GET", "/api/v1/profiles/user_id:u1", ""); !strings.Contains(w.Body.String(), `"groups":[{"id":"acme"`) {
		t.Errorf("profile u1 = %s, want its account listed", w.Body)
	}
}
