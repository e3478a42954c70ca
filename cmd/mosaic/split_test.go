package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSplitCLI splits Bob's email off Alice's profile with the CLI (dry run
// first), checks the profile API follows, changes the rules with the CLI,
// and checks that a replay of the log gives the same profiles: the split
// and the rule change are in the log.
func TestSplitCLI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		dir := t.TempDir()
		m := startMain(t, append([]string{"--data", dir}, serveArgs...)...)
		src := createSource(t, m, "tablet")
		h := map[string][]string{"Content-Type": {"application/json"}}
		body := `{"writeKey":"` + src.WriteKey + `","batch":[
			{"type":"identify","userId":"alice","anonymousId":"t-tab","traits":{"name":"Alice"},"timestamp":"2025-03-01T10:00:00Z"},
			{"type":"track","anonymousId":"t-tab","event":"Product Viewed","timestamp":"2025-03-01T10:01:00Z"},
			{"type":"identify","anonymousId":"t-tab","traits":{"name":"Bob","email":"bob@mosaic.dev"},"timestamp":"2025-03-01T10:02:00Z"}]}`
		if status, b := do(t, "POST", m.URL()+"/v1/batch", h, body); status != 200 {
			t.Fatalf("batch = %d %s", status, b)
		}
		alice := getProfile(t, m, "user_id:alice", func(p profileJSON) bool { return p.EventCounts.Total == 3 })
		client := []string{"--server", m.URL(), "--admin-token", testToken}

		code, out, errOut := runCLI(t, append([]string{"profiles", "split", "user_id:alice", "--identifier", "email:bob@mosaic.dev", "--dry-run"}, client...)...)
		if code != 0 || !strings.Contains(out, "Dry run") || !strings.Contains(out, `name = "Bob"`) || !strings.Contains(out, `name = "Alice"`) {
			t.Fatalf("split --dry-run = %d %q %q", code, out, errOut)
		}
		if p := getProfile(t, m, "email:bob@mosaic.dev", func(profileJSON) bool { return true }); p.ID != alice.ID {
			t.Errorf("after the dry run bob's email is in %s, want still %s", p.ID, alice.ID)
		}
		code, out, errOut = runCLI(t, append([]string{"profiles", "split", alice.ID, "--identifier", "email:bob@mosaic.dev"}, client...)...)
		if code != 0 || !strings.Contains(out, "Split "+alice.ID) {
			t.Fatalf("split = %d %q %q", code, out, errOut)
		}
		bob := getProfile(t, m, "email:bob@mosaic.dev", func(profileJSON) bool { return true })
		alice = getProfile(t, m, "user_id:alice", func(profileJSON) bool { return true })
		if bob.ID == alice.ID || bob.Traits["name"] != "Bob" || alice.Traits["name"] != "Alice" || bob.EventCounts.Total != 1 || alice.EventCounts.Total != 2 {
			t.Errorf("after the split alice = %+v, bob = %+v", alice, bob)
		}
		code, _, errOut = runCLI(t, append([]string{"profiles", "split", "user_id:alice", "--identifier", "email:bob@mosaic.dev"}, client...)...)
		if code != 1 || !strings.Contains(errOut, "not in") {
			t.Errorf("splitting again = %d %q, want an error saying the email is not in the profile", code, errOut)
		}

		rules := filepath.Join(t.TempDir(), "rules.json")
		code, out, _ = runCLI(t, append([]string{"identity", "rules"}, client...)...)
		if code != 0 {
			t.Fatalf("identity rules = %d", code)
		}
		out = strings.Replace(out, `"blocked": [`, `"blocked": ["*@spam.dev", `, 1)
		if err := os.WriteFile(rules, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut = runCLI(t, append([]string{"identity", "rules", "--set", rules}, client...)...)
		if code != 0 || !strings.Contains(out, "*@spam.dev") || !strings.Contains(out, "bob@mosaic.dev") {
			t.Fatalf("identity rules --set = %d %q %q; want the new blocked value and the split's never-link rule", code, out, errOut)
		}
		body = `{"writeKey":"` + src.WriteKey + `","batch":[
			{"type":"identify","userId":"carol","traits":{"email":"x@spam.dev"}},
			{"type":"identify","userId":"dave","traits":{"email":"x@spam.dev"}}]}`
		if status, b := do(t, "POST", m.URL()+"/v1/batch", h, body); status != 200 {
			t.Fatalf("batch = %d %s", status, b)
		}
		getProfile(t, m, "user_id:dave", func(profileJSON) bool { return true })
		want := profilesOf(t, m, "user_id:alice", "email:bob@mosaic.dev", "user_id:carol", "user_id:dave")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Fatal(err)
		}

		if code, out, errOut := runCLI(t, append([]string{"replay", "--data", dir}, serveArgs...)...); code != 0 {
			t.Fatalf("replay = %d %q %q", code, out, errOut)
		}
		m2 := startMain(t, append([]string{"--data", dir}, serveArgs...)...)
		getProfile(t, m2, "user_id:dave", func(profileJSON) bool { return true })
		if got := profilesOf(t, m2, "user_id:alice", "email:bob@mosaic.dev", "user_id:carol", "user_id:dave"); got != want {
			t.Errorf("after replay:\n%s\nwant\n%s", got, want)
		}
	})
}

// profilesOf returns the profiles refs name, with their identity and
// timeline, as JSON.
func profilesOf(t *testing.T, m *Main, refs ...string) string {
	t.Helper()
	all := map[string]json.RawMessage{}
	for _, ref := range refs {
		for _, suffix := range []string{"", "/identity", "/events?limit=500"} {
			status, body := do(t, "GET", m.URL()+"/api/v1/profiles/"+ref+suffix, adminHeader(), "")
			if status != 200 {
				t.Fatalf("GET profile %s%s = %d %s", ref, suffix, status, body)
			}
			all[ref+suffix] = body
		}
	}
	b, _ := json.MarshalIndent(all, "", " ")
	return string(b)
}
