package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/privacy"
)

type requestJSON struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Status         string          `json:"status"`
	Law            string          `json:"law"`
	IdentifierHash string          `json:"identifier_hash"`
	ReceivedAt     time.Time       `json:"received_at"`
	DueAt          time.Time       `json:"due_at"`
	Overdue        bool            `json:"overdue"`
	Outcome        json.RawMessage `json:"outcome"`
	Error          string          `json:"error"`
}

// submitRequest posts a privacy request and polls it until it closes.
func submitRequest(t *testing.T, m *Main, body string) requestJSON {
	t.Helper()
	status, b := do(t, "POST", m.URL()+"/api/v1/privacy/requests", adminHeader(), body)
	var r requestJSON
	if status != 202 || json.Unmarshal(b, &r) != nil || r.Status != "pending" {
		t.Fatalf("POST privacy request %s = %d %s", body, status, b)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, b = do(t, "GET", m.URL()+"/api/v1/privacy/requests/"+r.ID, adminHeader(), "")
		if json.Unmarshal(b, &r) == nil && (r.Status == "completed" || r.Status == "failed") {
			if r.Status == "failed" {
				t.Fatalf("request %s failed: %s", body, b)
			}
			return r
		}
	}
	t.Fatalf("request %s never closed: %s", body, b)
	return r
}

// The erased person's identifiers and unique trait values.
var erasedNeedles = []string{"zed.unique@zq-mail.nl", "Zed.Unique@ZQ-Mail.nl", "user-zq-9", "anon-zq-111", "anon-zq-222", "Zebediah Quux", "+31612345678"}

// TestErasureEndToEnd seeds a person with several identifiers over three
// merged profiles, consent history, a quarantined message, an access export
// and audit entries, next to another person; erases them; and checks that
// none of their identifiers or unique values is in any file of the data
// directory (or any PostgreSQL table), that the other person is unchanged,
// and that events sent again with the erased identifiers are answered 200
// and not stored.
func TestErasureEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		dir := t.TempDir()
		m := startMain(t, append([]string{"--data", dir}, serveArgs...)...)
		src := createSource(t, m, "web")
		if status, body := do(t, "POST", m.URL()+"/api/v1/audiences", adminHeader(), `{"key":"gold","name":"Gold plan","condition":"trait plan = \"gold\""}`); status != 201 {
			t.Fatalf("create audience = %d %s", status, body)
		}
		postConsentBatch(t, m, src.WriteKey, nil, `[
			{"type":"page","anonymousId":"anon-zq-111","name":"Home"},
			{"type":"page","anonymousId":"anon-zq-222","name":"Shoes"},
			{"type":"identify","anonymousId":"anon-zq-111","userId":"user-zq-9","traits":{"email":"Zed.Unique@ZQ-Mail.nl","name":"Zebediah Quux","phone":"+31612345678","plan":"gold"}},
			{"type":"identify","anonymousId":"anon-zq-222","userId":"user-zq-9"},
			{"type":"track","userId":"user-zq-9","event":"Order Completed","properties":{"revenue":42}},
			{"type":"identify","userId":"user-ot-1","traits":{"email":"olga@ot-mail.nl","name":"Olga","plan":"gold"}},
			{"type":"track","userId":"user-ot-1","event":"Order Completed"},
			{"type":"track","userId":"user-zq-9","properties":{"email":"zed.unique@zq-mail.nl"}}]`) // no event name: quarantined
		person := getProfile(t, m, "user_id:user-zq-9", func(p profileJSON) bool { return p.EventCounts.Total == 5 })
		other := getProfile(t, m, "user_id:user-ot-1", func(p profileJSON) bool { return p.EventCounts.Total == 2 })
		if status, b := do(t, "PUT", m.URL()+"/api/v1/profiles/email:zed.unique@zq-mail.nl/consent", adminHeader(), `{"purposes":{"marketing":true}}`); status != 200 {
			_, pb := do(t, "GET", m.URL()+"/api/v1/profiles/user_id:user-zq-9/identity", adminHeader(), "")
			t.Fatalf("PUT consent = %d %s; %s", status, b, pb)
		}

		// Access: everything about the person, nothing about Olga.
		acc := submitRequest(t, m, `{"type":"access","identifier":{"type":"email","value":"zed.unique@zq-mail.nl"},"law":"ccpa"}`)
		if d := acc.DueAt.Sub(acc.ReceivedAt); d != 45*24*time.Hour {
			t.Errorf("CCPA deadline = received + %s, want 45 days", d)
		}
		status, export := do(t, "GET", m.URL()+"/api/v1/privacy/requests/"+acc.ID+"/export", adminHeader(), "")
		var x struct {
			Schema      string
			Profile     profileJSON
			Events      []struct{ Seq uint64 }
			Identifiers []struct{ Type, Value string }
			Consent     struct{ History []any }
			Traits      map[string][]any `json:"trait_history"`
			Audiences   []struct {
				Profile, Key, Event string
			}
		}
		if status != 200 || json.Unmarshal(export, &x) != nil {
			t.Fatalf("export = %d %s", status, export)
		}
		if x.Schema != "mosaic.access.v1" || x.Profile.ID != person.ID || len(x.Events) != 6 || len(x.Identifiers) != 5 || len(x.Consent.History) != 1 || len(x.Traits["email"]) != 1 {
			t.Errorf("export = %s; want the profile, 6 events (5 and the consent record), 5 identifiers, 1 consent decision, the email's history", export)
		}
		if len(x.Audiences) != 1 || x.Audiences[0].Key != "gold" || x.Audiences[0].Event != "Audience Entered" || x.Audiences[0].Profile != person.ID {
			t.Errorf("export audiences = %+v, want the person's one entry into gold (and not Olga's)", x.Audiences)
		}
		if bytes.Contains(export, []byte("olga")) || bytes.Contains(export, []byte("user-ot-1")) {
			t.Errorf("the export holds another person's data: %s", export)
		}
		if status, csv := do(t, "GET", m.URL()+"/api/v1/privacy/requests/"+acc.ID+"/export?format=csv", adminHeader(), ""); status != 200 || strings.Count(string(csv), "\n") < 7 {
			t.Errorf("CSV export = %d %s", status, csv)
		}

		// Erase.
		er := submitRequest(t, m, `{"type":"erase","identifier":{"type":"email","value":"Zed.Unique@ZQ-Mail.nl"}}`)
		var outcome struct {
			EventsErased     int    `json:"events_erased"`
			QuarantineErased int    `json:"quarantine_erased"`
			ExportsRemoved   int    `json:"exports_removed"`
			Method           string `json:"method"`
		}
		if err := json.Unmarshal(er.Outcome, &outcome); err != nil || outcome.EventsErased != 6 || outcome.QuarantineErased != 1 || outcome.ExportsRemoved != 2 {
			t.Errorf("erase outcome = %s, want 6 events, 1 quarantined message, 2 export files", er.Outcome)
		}
		if outcome.Method != "profile" {
			t.Errorf("erase outcome = %s, want the profile erased in place (method profile), not all derived state rebuilt", er.Outcome)
		}
		for _, ref := range []string{"email:zed.unique@zq-mail.nl", "user_id:user-zq-9", "anonymous_id:anon-zq-111", "anonymous_id:anon-zq-222", person.ID} {
			if status, b := do(t, "GET", m.URL()+"/api/v1/profiles/"+ref, adminHeader(), ""); status != 404 {
				t.Errorf("after erasure GET profile %s = %d %s, want 404", ref, status, b)
			}
		}
		after := getProfile(t, m, "user_id:user-ot-1", func(profileJSON) bool { return true })
		if after.EventCounts.Total != other.EventCounts.Total || after.Traits["email"] != "olga@ot-mail.nl" {
			t.Errorf("the other person changed: %+v, was %+v", after, other)
		}
		if status, _ := do(t, "GET", m.URL()+"/api/v1/privacy/requests/"+acc.ID+"/export", adminHeader(), ""); status != 404 {
			t.Errorf("the access export after erasure = %d, want 404 (deleted)", status)
		}

		// Sent again: answered 200, not stored.
		last := m.Log.LastSeq()
		postConsentBatch(t, m, src.WriteKey, nil, `[{"type":"track","userId":"user-zq-9","event":"Back"},{"type":"page","anonymousId":"anon-zq-111"},
			{"type":"identify","userId":"new-zq","traits":{"email":"zed.unique@zq-mail.nl"}}]`)
		if got := m.Log.LastSeq(); got != last {
			t.Errorf("events with erased identifiers were stored: log went from %d to %d", last, got)
		}

		// No trace in any file.
		auditEntries(t, m, "?person=email:zed.unique@zq-mail.nl")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Fatal(err)
		}
		files, otherSeen := 0, 0
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			if bytes.Contains(b, []byte("olga@ot-mail.nl")) {
				otherSeen++
			}
			for _, n := range erasedNeedles {
				if bytes.Contains(b, []byte(n)) {
					t.Errorf("%s still holds %q", path, n)
				}
			}
			return nil
		})
		// With PostgreSQL the log and the database are there, checked
		// below; the data directory may hold nothing of either person.
		if err != nil || (otherSeen == 0 && len(serveArgs) == 0) {
			t.Fatalf("walk data directory: %d files, %d with the other person's email, %v: the search would prove nothing", files, otherSeen, err)
		}
		if len(serveArgs) > 0 {
			url, schema, _ := strings.Cut(serveArgs[1], "search_path=")
			dump, err := exec.Command("pg_dump", "--data-only", "-n", schema, strings.TrimRight(url, "?&")).Output()
			if err != nil {
				t.Fatalf("pg_dump: %v", err)
			}
			// bytea columns are dumped as hex: look for both forms.
			has := func(s string) bool {
				return bytes.Contains(dump, []byte(s)) || bytes.Contains(dump, []byte(hex.EncodeToString([]byte(s))))
			}
			if !has("olga@ot-mail.nl") {
				t.Fatalf("pg_dump of %s holds not even the other person; the check would prove nothing", schema)
			}
			for _, n := range erasedNeedles {
				if has(n) {
					t.Errorf("a PostgreSQL table still holds %q", n)
				}
			}
		}
	})
}

func privacyInput(typ, value string) privacy.RequestInput {
	return privacy.RequestInput{Type: "erase", Identifier: identity.Identifier{Type: typ, Value: value}}
}
