package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestUsersAndTokensCLI drives users and role tokens through the CLI
// against a running server, and signs in as the user.
func TestUsersAndTokensCLI(t *testing.T) {
	m := startMain(t)
	cli := []string{"--server", m.URL(), "--admin-token", testToken}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("first passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append(args, cli...)...)
		if code != want {
			t.Fatalf("mosaic %v = %d %s %s, want %d", args, code, out, errOut, want)
		}
		return out + errOut
	}
	run(0, "users", "add", "ann", "--role", "privacy", "--password-file", pwFile)
	if out := run(1, "users", "add", "ann", "--role", "viewer", "--password-file", pwFile); !strings.Contains(out, "exists already") {
		t.Errorf("adding ann twice: %s", out)
	}
	if out := run(0, "users", "list"); !strings.Contains(out, "ann") || !strings.Contains(out, "privacy") {
		t.Errorf("users list = %s", out)
	}
	login := func(pw string) (int, string) {
		status, b := do(t, "POST", m.URL()+"/api/v1/login", adminHeader(), `{"name":"ann","password":"`+pw+`"}`)
		var out struct{ Token string }
		_ = json.Unmarshal(b, &out)
		return status, out.Token
	}
	status, session := login("first passphrase")
	if status != 201 {
		t.Fatalf("login = %d", status)
	}
	h := adminHeader()
	h.Set("Authorization", "Bearer "+session)
	if status, b := do(t, "GET", m.URL()+"/api/v1/privacy/requests", h, ""); status != 200 {
		t.Errorf("ann's session GET privacy requests = %d %s", status, b)
	}
	if status, _ := do(t, "GET", m.URL()+"/api/v1/tokens", h, ""); status != 403 {
		t.Errorf("ann's session GET tokens = %d, want 403", status)
	}

	if err := os.WriteFile(pwFile, []byte("second passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(0, "users", "passwd", "ann", "--password-file", pwFile)
	if status, _ := do(t, "GET", m.URL()+"/api/v1/privacy/requests", h, ""); status != 401 {
		t.Errorf("old session after passwd = %d, want 401", status)
	}
	if status, _ := login("second passphrase"); status != 201 {
		t.Errorf("login with the new password = %d", status)
	}
	if out := run(0, "users", "role", "ann", "viewer", "--pii"); !strings.Contains(out, "viewer") {
		t.Errorf("users role = %s", out)
	}
	run(0, "users", "remove", "ann")
	if status, _ := login("second passphrase"); status != 401 {
		t.Errorf("login of a removed user = %d, want 401", status)
	}

	out := run(0, "token", "create", "crm-sync", "--role", "marketer")
	tok := regexp.MustCompile(`mosaic_t_[0-9a-f]{16}_\S+`).FindString(out)
	id := regexp.MustCompile(`id ([0-9a-f]{16})`).FindStringSubmatch(out)
	if tok == "" || id == nil {
		t.Fatalf("token create = %s", out)
	}
	if out := run(0, "token", "list"); !strings.Contains(out, "crm-sync") || strings.Contains(out, tok) {
		t.Errorf("token list = %s: want the token's name, never its secret", out)
	}
	h.Set("Authorization", "Bearer "+tok)
	if status, _ := do(t, "GET", m.URL()+"/api/v1/audiences", h, ""); status != 200 {
		t.Errorf("marketer token GET audiences = %d", status)
	}
	run(0, "token", "revoke", id[1])
	if status, _ := do(t, "GET", m.URL()+"/api/v1/audiences", h, ""); status != 401 {
		t.Errorf("revoked token = %d, want 401", status)
	}
}
