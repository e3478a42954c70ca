package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUsersAndSessions(t *testing.T) {
	s := newRoleServer(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.opts.Now = func() time.Time { return now }
	for _, c := range []struct {
		body string
		code int
	}{
		{`{"name":"ann","role":"privacy","password":"a long passphrase"}`, 201},
		{`{"name":"bob","role":"marketer","pii":true,"password":"another passphrase"}`, 201},
		{`{"name":"ann","role":"viewer","password":"a long passphrase"}`, 409},
		{`{"name":"cy","role":"boss","password":"a long passphrase"}`, 400},
		{`{"name":"cy","role":"viewer","password":"short"}`, 400},
		{`{"name":"cy","role":"viewer"}`, 400},
		{`{"name":"","role":"viewer","password":"a long passphrase"}`, 400},
	} {
		if w := call(t, s, token, "POST", "/api/v1/users", c.body); w.Code != c.code {
			t.Errorf("POST /api/v1/users %s = %d %s, want %d", c.body, w.Code, w.Body, c.code)
		}
	}
	w := call(t, s, token, "GET", "/api/v1/users", "")
	if w.Code != 200 || strings.Contains(w.Body.String(), "argon2") || !strings.Contains(w.Body.String(), `"name":"bob"`) {
		t.Errorf("GET /api/v1/users = %d %s: want both users without password hashes", w.Code, w.Body)
	}

	login := func(name, pw string) (int, string) {
		t.Helper()
		rec := call(t, s, "", "POST", "/api/v1/login", `{"name":"`+name+`","password":"`+pw+`"}`)
		var out struct{ Token string }
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out.Token
	}
	code, ann := login("ann", "a long passphrase")
	if code != 201 || !strings.HasPrefix(ann, sessionPrefix) {
		t.Fatalf("login ann = %d %q, want 201 and a session token", code, ann)
	}
	if w := call(t, s, ann, "GET", "/api/v1/audit", ""); w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized {
		t.Errorf("ann (privacy) GET /api/v1/audit = %d %s, want allowed", w.Code, w.Body)
	}
	if w := call(t, s, ann, "POST", "/api/v1/audiences", `{}`); w.Code != http.StatusForbidden {
		t.Errorf("ann (privacy) POST /api/v1/audiences = %d, want 403", w.Code)
	}
	if code, _ := login("nobody", "a long passphrase"); code != 401 {
		t.Errorf("login of an unknown name = %d, want 401", code)
	}
	for i := range maxLoginFailures {
		if code, _ := login("bob", "wrong passphrase"); code != 401 {
			t.Errorf("wrong password %d = %d, want 401", i, code)
		}
	}
	if code, _ := login("bob", "another passphrase"); code != http.StatusTooManyRequests {
		t.Errorf("login after %d failures = %d, want 429", maxLoginFailures, code)
	}
	now = now.Add(loginWindow + time.Second)
	code, bob := login("bob", "another passphrase")
	if code != 201 {
		t.Fatalf("login after the window = %d, want 201", code)
	}

	// A role change applies at once; a new password ends the sessions.
	if w := call(t, s, token, "PATCH", "/api/v1/users/bob", `{"role":"viewer"}`); w.Code != 200 {
		t.Fatalf("PATCH role = %d %s", w.Code, w.Body)
	}
	if w := call(t, s, bob, "POST", "/api/v1/audiences", `{}`); w.Code != http.StatusForbidden {
		t.Errorf("bob as viewer POST /api/v1/audiences = %d, want 403", w.Code)
	}
	if w := call(t, s, token, "PATCH", "/api/v1/users/bob", `{"password":"a third passphrase"}`); w.Code != 200 {
		t.Fatalf("PATCH password = %d %s", w.Code, w.Body)
	}
	if w := call(t, s, bob, "GET", "/api/v1/sources", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("bob's session after a password change = %d, want 401", w.Code)
	}

	// Logout ends only that session; expiry and removal end the others.
	_, ann2 := login("ann", "a long passphrase")
	if w := call(t, s, ann, "POST", "/api/v1/logout", ""); w.Code != http.StatusNoContent {
		t.Errorf("logout = %d %s", w.Code, w.Body)
	}
	if w := call(t, s, ann, "GET", "/api/v1/sources", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("session after logout = %d, want 401", w.Code)
	}
	if w := call(t, s, ann2, "GET", "/api/v1/sources", ""); w.Code != 200 {
		t.Errorf("other session after logout = %d, want 200", w.Code)
	}
	if w := call(t, s, token, "POST", "/api/v1/logout", ""); w.Code != http.StatusBadRequest {
		t.Errorf("logout with the admin token = %d, want 400", w.Code)
	}
	now = now.Add(SessionTTL)
	if w := call(t, s, ann2, "GET", "/api/v1/sources", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("session after %s = %d, want 401 (expired)", SessionTTL, w.Code)
	}
	_, ann3 := login("ann", "a long passphrase")
	if w := call(t, s, token, "DELETE", "/api/v1/users/ann", ""); w.Code != http.StatusNoContent {
		t.Errorf("DELETE user = %d %s", w.Code, w.Body)
	}
	if w := call(t, s, ann3, "GET", "/api/v1/sources", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("session of a removed user = %d, want 401", w.Code)
	}
	if w := call(t, s, ann3[:len(ann3)-1]+"x", "GET", "/api/v1/sources", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("forged session token = %d, want 401", w.Code)
	}
}
