package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// signIn creates a user through the API as admin and signs them in.
func signIn(t *testing.T, s *Server, name, role, pw string) string {
	t.Helper()
	body := `{"name":"` + name + `","role":"` + role + `","password":"` + pw + `"}`
	if w := call(t, s, token, "POST", "/api/v1/users", body); w.Code != 201 {
		t.Fatalf("POST /api/v1/users %s = %d %s", body, w.Code, w.Body)
	}
	w := call(t, s, "", "POST", "/api/v1/login", `{"name":"`+name+`","password":"`+pw+`"}`)
	var out struct{ Token string }
	if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &out) != nil {
		t.Fatalf("login %s = %d %s", name, w.Code, w.Body)
	}
	return out.Token
}

// TestMe: GET /api/v1/me names the caller for every kind of token.
func TestMe(t *testing.T) {
	s := newRoleServer(t)
	ann := signIn(t, s, "ann", "viewer", "a long passphrase")
	viewer := makeToken(t, s, "crm", "viewer", true)
	tests := []struct {
		name, bearer string
		want         []string
	}{
		{"user", ann, []string{`"name":"ann"`, `"role":"viewer"`, `"kind":"user"`, `"user":{"id":`}},
		{"role token", viewer, []string{`"name":"crm"`, `"role":"viewer"`, `"pii":true`, `"kind":"token"`}},
		{"admin token", token, []string{`"name":"admin"`, `"role":"admin"`, `"kind":"admin"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, s, tt.bearer, "GET", "/api/v1/me", "")
			for _, want := range tt.want {
				if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
					t.Errorf("GET /api/v1/me = %d %s, want 200 with %s", w.Code, w.Body, want)
				}
			}
			if strings.Contains(w.Body.String(), "argon2") {
				t.Errorf("GET /api/v1/me shows a password hash: %s", w.Body)
			}
		})
	}
}

// TestOwnPassword: a user changes their password with the current one;
// the refusals are clear; wrong current passwords count toward the login
// limiter; every old session ends and a new one is returned.
func TestOwnPassword(t *testing.T) {
	s := newRoleServer(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.opts.Now = func() time.Time { return now }
	const pw = "a long passphrase"
	bob := signIn(t, s, "bob", "marketer", pw)
	other := call(t, s, "", "POST", "/api/v1/login", `{"name":"bob","password":"`+pw+`"}`)
	var otherOut struct{ Token string }
	_ = json.Unmarshal(other.Body.Bytes(), &otherOut)
	roleToken := makeToken(t, s, "crm", "viewer", false)

	tests := []struct {
		name, bearer, body string
		status             int
		code               string
	}{
		{"role token has no password", roleToken, `{"current":"x","new":"a new passphrase"}`, 400, mosaic.EINVALID},
		{"admin token has no password", token, `{"current":"x","new":"a new passphrase"}`, 400, mosaic.EINVALID},
		{"missing current", bob, `{"new":"a new passphrase"}`, 400, mosaic.EINVALID},
		{"new too short", bob, `{"current":"` + pw + `","new":"short"}`, 400, mosaic.EINVALID},
		{"new is current", bob, `{"current":"` + pw + `","new":"` + pw + `"}`, 400, mosaic.EINVALID},
		{"unknown field", bob, `{"current":"` + pw + `","new":"a new passphrase","old":"x"}`, 400, mosaic.EINVALIDJSON},
		{"wrong current", bob, `{"current":"not the passphrase","new":"a new passphrase"}`, 403, mosaic.EFORBIDDEN},
		{"no token", "", `{"current":"x","new":"a new passphrase"}`, 401, mosaic.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, s, tt.bearer, "POST", "/api/v1/me/password", tt.body)
			var e struct {
				Error struct{ Code, Message string }
			}
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("POST /api/v1/me/password %s = %d %s, want %d %s", tt.body, w.Code, w.Body, tt.status, tt.code)
			}
		})
	}

	// One wrong current password was counted above; with four more wrong
	// logins the name is locked, for the change too.
	for range maxLoginFailures - 1 {
		if w := call(t, s, "", "POST", "/api/v1/login", `{"name":"bob","password":"wrong passphrase"}`); w.Code != 401 {
			t.Fatalf("wrong login = %d", w.Code)
		}
	}
	if w := call(t, s, bob, "POST", "/api/v1/me/password", `{"current":"`+pw+`","new":"a new passphrase"}`); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Errorf("change after %d failures = %d %s, want 429 with Retry-After", maxLoginFailures, w.Code, w.Body)
	}
	now = now.Add(loginWindow + time.Second)

	w := call(t, s, bob, "POST", "/api/v1/me/password", `{"current":"`+pw+`","new":"a new passphrase"}`)
	var out struct {
		Token string
		User  struct{ Name string }
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &out) != nil || !strings.HasPrefix(out.Token, sessionPrefix) || out.User.Name != "bob" {
		t.Fatalf("change = %d %s, want 200 with a new session token", w.Code, w.Body)
	}
	for name, old := range map[string]string{"this": bob, "other": otherOut.Token} {
		if w := call(t, s, old, "GET", "/api/v1/me", ""); w.Code != http.StatusUnauthorized {
			t.Errorf("%s old session after the change = %d, want 401", name, w.Code)
		}
	}
	if w := call(t, s, out.Token, "GET", "/api/v1/me", ""); w.Code != 200 {
		t.Errorf("new session = %d %s, want 200", w.Code, w.Body)
	}
	if w := call(t, s, "", "POST", "/api/v1/login", `{"name":"bob","password":"`+pw+`"}`); w.Code != 401 {
		t.Errorf("login with the old password = %d, want 401", w.Code)
	}
	if w := call(t, s, "", "POST", "/api/v1/login", `{"name":"bob","password":"a new passphrase"}`); w.Code != 201 {
		t.Errorf("login with the new password = %d, want 201", w.Code)
	}
}

// TestLoginLimiterShared: two servers on one store, as two nodes on one
// database, share the count of wrong passwords; a correct password is not
// counted; an unknown name is limited like a known one.
func TestLoginLimiterShared(t *testing.T) {
	a := newRoleServer(t)
	b := New(a.store, a.events, a.opts) // a second node on the same store
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a.opts.Now = func() time.Time { return now }
	b.opts.Now = a.opts.Now
	signIn(t, a, "cy", "viewer", "the right passphrase")
	login := func(s *Server, name, pw string) int {
		t.Helper()
		return call(t, s, "", "POST", "/api/v1/login", `{"name":"`+name+`","password":"`+pw+`"}`).Code
	}
	for i := range maxLoginFailures - 1 {
		if code := login([]*Server{a, b}[i%2], "cy", "wrong passphrase"); code != 401 {
			t.Fatalf("wrong password %d = %d, want 401", i, code)
		}
		if code := login([]*Server{b, a}[i%2], "cy", "the right passphrase"); code != 201 {
			t.Fatalf("right password after %d failures = %d, want 201 (not counted)", i+1, code)
		}
	}
	if code := login(a, "cy", "wrong passphrase"); code != 401 {
		t.Fatalf("fifth wrong password = %d, want 401", code)
	}
	if code := login(b, "cy", "the right passphrase"); code != http.StatusTooManyRequests {
		t.Errorf("right password on the other node after %d failures = %d, want 429", maxLoginFailures, code)
	}
	for i := range maxLoginFailures {
		if code := login([]*Server{a, b}[i%2], "nobody", "a guess at it"); code != 401 {
			t.Errorf("unknown name %d = %d, want 401", i, code)
		}
	}
	if code := login(a, "nobody", "a guess at it"); code != http.StatusTooManyRequests {
		t.Errorf("unknown name after %d failures = %d, want 429 like a known one", maxLoginFailures, code)
	}
	now = now.Add(loginWindow + time.Second)
	if code := login(b, "cy", "the right passphrase"); code != 201 {
		t.Errorf("login after the window = %d, want 201", code)
	}
}
