package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// closeMain stops m now (a test's cleanup closes it again, harmlessly).
func closeMain(t *testing.T, m *Main) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// purposeNames lists the purposes GET /api/v1/privacy/purposes returns.
func purposeNames(t *testing.T, m *Main) string {
	t.Helper()
	status, b := do(t, "GET", m.URL()+"/api/v1/privacy/purposes", adminHeader(), "")
	var out struct{ Purposes []struct{ Name string } }
	if status != 200 || json.Unmarshal(b, &out) != nil {
		t.Fatalf("GET purposes = %d %s", status, b)
	}
	var names []string
	for _, p := range out.Purposes {
		names = append(names, p.Name)
	}
	return strings.Join(names, ",")
}

// TestPurposesAtRuntime: a purpose added through the API is accepted at
// once by the consent API, destinations and audiences; it cannot be
// removed while they use it; once removed it is refused again. The list
// is stored: it survives a restart, and a changed --purposes replaces it.
// Changes are audited.
func TestPurposesAtRuntime(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		dir := t.TempDir()
		args := append([]string{"--data", dir}, serveArgs...)
		m := startMain(t, append(args, "--purposes", "necessary:granted,marketing")...)
		src := createSource(t, m, "web")
		postConsentBatch(t, m, src.WriteKey, nil, `[{"type":"identify","userId":"u-r1"}]`)
		getProfile(t, m, "user_id:u-r1", func(profileJSON) bool { return true })
		dest := `{"name":"chat-export","type":"file","settings":{"directory":"x"},"purposes":["support_chat"],"events":{}}`
		steps := []struct {
			method, path, body string
			want               int
		}{
			{"PUT", "/api/v1/profiles/user_id:u-r1/consent", `{"purposes":{"support_chat":true}}`, 400},
			{"POST", "/api/v1/destinations", dest, 400},
			{"POST", "/api/v1/privacy/purposes", `{"name":"support_chat","description":"Chat with support."}`, 201},
			{"PUT", "/api/v1/profiles/user_id:u-r1/consent", `{"purposes":{"support_chat":true}}`, 200},
			{"POST", "/api/v1/destinations", dest, 201},
			{"POST", "/api/v1/audiences", `{"key":"chatty","condition":"consent support_chat"}`, 201},
			{"DELETE", "/api/v1/privacy/purposes/support_chat", "", 409},
			{"DELETE", "/api/v1/privacy/purposes/necessary", "", 409},
		}
		for _, s := range steps {
			if status, b := do(t, s.method, m.URL()+s.path, adminHeader(), s.body); status != s.want {
				t.Fatalf("%s %s %s = %d %s, want %d", s.method, s.path, s.body, status, b, s.want)
			}
		}
		poll(t, m, "/api/v1/audiences/chatty/members", "the member", func(b []byte) bool { return strings.Contains(string(b), `"total":1`) })
		status, b := do(t, "GET", m.URL()+"/api/v1/privacy/purposes", bearer(makeRoleToken(t, m, "viewer")), "")
		if status != 200 || !strings.Contains(string(b), `"key":"chatty"`) || !strings.Contains(string(b), `"name":"chat-export"`) {
			t.Errorf("GET purposes as viewer = %d %s, want support_chat used by the audience and the destination", status, b)
		}
		status, b = do(t, "DELETE", m.URL()+"/api/v1/privacy/purposes/support_chat", adminHeader(), "")
		if status != 409 || !strings.Contains(string(b), "chatty") || !strings.Contains(string(b), "chat-export") {
			t.Errorf("DELETE a used purpose = %d %s, want 409 naming the audience and the destination", status, b)
		}

		// Restart without --purposes: the stored list, with the addition.
		closeMain(t, m)
		m = startMain(t, args...)
		if got := purposeNames(t, m); got != "necessary,marketing,support_chat" {
			t.Errorf("purposes after a restart = %s, want necessary,marketing,support_chat", got)
		}
		var dests struct{ Destinations []struct{ ID, Name string } }
		_, b = do(t, "GET", m.URL()+"/api/v1/destinations", adminHeader(), "")
		_ = json.Unmarshal(b, &dests)
		for _, d := range dests.Destinations {
			if status, b := do(t, "DELETE", m.URL()+"/api/v1/destinations/"+d.ID, adminHeader(), ""); status != 204 {
				t.Fatalf("DELETE destination = %d %s", status, b)
			}
		}
		// The purpose stays protected while the audiences load after the
		// restart: the check waits for them.
		if status, b := do(t, "DELETE", m.URL()+"/api/v1/privacy/purposes/support_chat", adminHeader(), ""); status != 409 {
			t.Fatalf("DELETE a used purpose after a restart = %d %s, want 409", status, b)
		}
		if status, b := do(t, "DELETE", m.URL()+"/api/v1/audiences/chatty", adminHeader(), ""); status != 204 {
			t.Fatalf("DELETE audience = %d %s", status, b)
		}
		if status, b := do(t, "DELETE", m.URL()+"/api/v1/privacy/purposes/support_chat", adminHeader(), ""); status != 204 {
			t.Fatalf("DELETE an unused purpose = %d %s", status, b)
		}
		if status, _ := do(t, "PUT", m.URL()+"/api/v1/profiles/user_id:u-r1/consent", adminHeader(), `{"purposes":{"support_chat":true}}`); status != 400 {
			t.Errorf("PUT consent to a removed purpose = %d, want 400", status)
		}
		var actions []string
		for _, e := range auditEntries(t, m, "?object=/api/v1/privacy/purposes") {
			actions = append(actions, e.Action+" "+e.Result)
		}
		joined := strings.Join(actions, "\n")
		for _, want := range []string{"POST /api/v1/privacy/purposes ok", "DELETE /api/v1/privacy/purposes/{name} ok", "DELETE /api/v1/privacy/purposes/{name} failed"} {
			if !strings.Contains(joined, want) {
				t.Errorf("audit of the purpose changes = %q, want %q", actions, want)
			}
		}

		// A changed flag replaces the list.
		closeMain(t, m)
		m = startMain(t, append(args, "--purposes", "necessary:granted,analytics")...)
		if got := purposeNames(t, m); got != "necessary,analytics" {
			t.Errorf("purposes after a changed --purposes = %s, want necessary,analytics", got)
		}
	})
}

// makeRoleToken makes a role token through the API.
func makeRoleToken(t *testing.T, m *Main, role string) string {
	t.Helper()
	status, b := do(t, "POST", m.URL()+"/api/v1/tokens", adminHeader(), `{"name":"`+role+`-t","role":"`+role+`"}`)
	var out struct{ Token string }
	if status != 201 || json.Unmarshal(b, &out) != nil {
		t.Fatalf("POST tokens = %d %s", status, b)
	}
	return out.Token
}

// loginAs signs in and returns the status and the session token.
func loginAs(t *testing.T, m *Main, name, pw string) (int, string) {
	t.Helper()
	status, b := do(t, "POST", m.URL()+"/api/v1/login", adminHeader(), `{"name":"`+name+`","password":"`+pw+`"}`)
	var out struct{ Token string }
	_ = json.Unmarshal(b, &out)
	return status, out.Token
}

// TestUsersChangeOwnPassword: every role may change its own password with
// the current one; the change ends the user's other sessions, returns a
// new one, and is audited under the user's name.
func TestUsersChangeOwnPassword(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		m := startMain(t, serveArgs...)
		for _, role := range []string{"admin", "privacy", "marketer", "viewer"} {
			name := "u-" + role
			if status, b := do(t, "POST", m.URL()+"/api/v1/users", adminHeader(), `{"name":"`+name+`","role":"`+role+`","password":"first passphrase"}`); status != 201 {
				t.Fatalf("POST users = %d %s", status, b)
			}
			_, session := loginAs(t, m, name, "first passphrase")
			_, other := loginAs(t, m, name, "first passphrase")
			status, b := do(t, "GET", m.URL()+"/api/v1/me", bearer(session), "")
			if status != 200 || !strings.Contains(string(b), `"name":"`+name+`"`) || !strings.Contains(string(b), `"role":"`+role+`"`) {
				t.Errorf("%s GET /api/v1/me = %d %s", role, status, b)
			}
			if status, b := do(t, "POST", m.URL()+"/api/v1/me/password", bearer(session), `{"current":"wrong passphrase","new":"second passphrase"}`); status != 403 {
				t.Errorf("%s change with a wrong current password = %d %s, want 403", role, status, b)
			}
			status, b = do(t, "POST", m.URL()+"/api/v1/me/password", bearer(session), `{"current":"first passphrase","new":"second passphrase"}`)
			var out struct{ Token string }
			if status != 200 || json.Unmarshal(b, &out) != nil || out.Token == "" {
				t.Fatalf("%s change = %d %s", role, status, b)
			}
			for what, tok := range map[string]string{"this": session, "other": other} {
				if status, _ := do(t, "GET", m.URL()+"/api/v1/me", bearer(tok), ""); status != 401 {
					t.Errorf("%s: %s old session after the change = %d, want 401", role, what, status)
				}
			}
			if status, _ := do(t, "GET", m.URL()+"/api/v1/me", bearer(out.Token), ""); status != 200 {
				t.Errorf("%s: new session = %d, want 200", role, status)
			}
			if status, _ := loginAs(t, m, name, "second passphrase"); status != 201 {
				t.Errorf("%s: login with the new password = %d, want 201", role, status)
			}
			entries := auditEntries(t, m, "?actor=user:"+name+"&action=POST%20/api/v1/me/password")
			var results []string
			for _, e := range entries {
				results = append(results, e.Result)
			}
			if strings.Join(results, ",") != "denied,ok" && strings.Join(results, ",") != "ok,denied" {
				t.Errorf("%s: audit of the changes = %v, want one denied and one ok", role, results)
			}
		}
		if status, b := do(t, "POST", m.URL()+"/api/v1/me/password", bearer(makeRoleToken(t, m, "viewer")), `{"current":"x","new":"second passphrase"}`); status != 400 || !strings.Contains(string(b), "API token") {
			t.Errorf("change with a role token = %d %s, want 400 saying tokens have no password", status, b)
		}
	})
}

// TestLoginLimiterSurvivesRestart: the wrong passwords are counted in the
// store, so a restart (or another node) does not give a guesser five more.
func TestLoginLimiterSurvivesRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		args := append([]string{"--data", t.TempDir()}, serveArgs...)
		m := startMain(t, args...)
		if status, b := do(t, "POST", m.URL()+"/api/v1/users", adminHeader(), `{"name":"dee","role":"viewer","password":"the right passphrase"}`); status != 201 {
			t.Fatalf("POST users = %d %s", status, b)
		}
		for i := range 5 {
			if status, _ := loginAs(t, m, "dee", "a wrong passphrase"); status != 401 {
				t.Fatalf("wrong password %d = %d, want 401", i, status)
			}
		}
		closeMain(t, m)
		m = startMain(t, args...)
		if status, _ := loginAs(t, m, "dee", "the right passphrase"); status != 429 {
			t.Errorf("login after 5 wrong passwords and a restart = %d, want 429", status)
		}
	})
}
