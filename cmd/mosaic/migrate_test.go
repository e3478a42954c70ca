package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestMigrateToPostgres moves an embedded installation into PostgreSQL
// with 'mosaic migrate': the write keys, quarantine and admin token keep
// working, and the profiles and counters rebuilt from the copied log equal
// the embedded ones.
func TestMigrateToPostgres(t *testing.T) {
	pgURL := postgresSchema(t)
	data := t.TempDir()
	old := startMain(t, "--data", data)
	src := createSource(t, old, "shop")
	json := map[string][]string{"Content-Type": {"application/json"}}
	var evs []string
	for i := range 120 {
		evs = append(evs, fmt.Sprintf(`{"type":"identify","messageId":"m%d","userId":"u%d","traits":{"email":"u%d@shop.dev","n":%d}}`, i%100, i%7, i%7, i))
	}
	evs = append(evs, `{"type":"track","messageId":"bad"}`) // no event name, no user: quarantined
	if status, body := do(t, "POST", old.URL()+"/v1/batch", json, `{"writeKey":"`+src.WriteKey+`","batch":[`+strings.Join(evs, ",")+`]}`); status != 200 {
		t.Fatalf("batch = %d %s", status, body)
	}
	old.Profiles.WaitProcessed(t.Context(), old.Log.LastSeq())
	want := snapshot(t, old.URL(), src.ID)
	if err := old.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "migrate", "--from", data, "--to", pgURL)
	if code != 0 || !strings.Contains(stdout, "Copied 120 events") || !strings.Contains(stdout, "counts verified") {
		t.Fatalf("migrate = %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "migrate", "--from", data, "--to", pgURL); code == 0 || !strings.Contains(stderr, "empty") {
		t.Errorf("second migrate into the same schema = %d %s, want a refusal naming an empty target", code, stderr)
	}

	m := startMain(t, "--postgres", pgURL)
	getProfile(t, m, "user_id:u1", func(profileJSON) bool { return m.Profiles.Processed() >= m.Log.LastSeq() })
	if got := snapshot(t, m.URL(), src.ID); got != want {
		t.Errorf("after migrate:\n%s\nwant (embedded):\n%s", got, want)
	}
}

// snapshot is what the migration must keep: the counters, the quarantine
// and every profile, as the API shows them.
func snapshot(t *testing.T, base, sourceID string) string {
	t.Helper()
	var b strings.Builder
	for _, path := range []string{"/api/v1/sources/" + sourceID + "/stats", "/api/v1/sources/" + sourceID + "/rejected"} {
		status, body := do(t, "GET", base+path, adminHeader(), "")
		fmt.Fprintf(&b, "%s %d %s\n", path, status, body)
	}
	for u := range 7 {
		path := fmt.Sprintf("/api/v1/profiles/user_id:u%d", u)
		status, body := do(t, "GET", base+path, adminHeader(), "")
		fmt.Fprintf(&b, "%s %d %s\n", path, status, body)
	}
	return b.String()
}
