package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// newRoleServer returns a server over a real store that keeps tokens.
func newRoleServer(t *testing.T) *Server {
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
	return New(st, eng, Options{TokenHash: sha(token), Tokens: st, Users: st})
}

func call(t *testing.T, h http.Handler, bearer, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// makeToken creates a role token through the API as admin.
func makeToken(t *testing.T, s *Server, name, role string, pii bool) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "role": role, "pii": pii})
	w := call(t, s, token, "POST", "/api/v1/tokens", string(body))
	var out struct{ Token string }
	if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &out) != nil || !strings.HasPrefix(out.Token, "mosaic_t_") {
		t.Fatalf("POST /api/v1/tokens %s = %d %s", body, w.Code, w.Body)
	}
	return out.Token
}

// expectedRoles is the role × route matrix of docs/privacy.md, written out
// for every documented admin route. Routes of areas not listed are for
// admin only.
func expectedRoles(method, path string) []string {
	everyone := []string{"admin", "privacy", "marketer", "viewer"}
	read := method == "GET"
	switch {
	case path == "/api/v1/privacy/purposes" && read, path == "/api/v1/logout", path == "/api/v1/login":
		return everyone
	case path == "/api/v1/me", path == "/api/v1/me/password": // the caller's own account
		return everyone
	case strings.HasPrefix(path, "/api/v1/audit"), strings.HasPrefix(path, "/api/v1/privacy"):
		return []string{"admin", "privacy"}
	case strings.HasSuffix(path, "/consent") && read:
		return everyone
	case strings.HasSuffix(path, "/consent"):
		return []string{"admin", "privacy"}
	case strings.HasSuffix(path, "/events") && strings.HasPrefix(path, "/api/v1/profiles/"):
		return []string{"admin", "privacy"}
	case strings.HasPrefix(path, "/api/v1/profiles"), strings.HasPrefix(path, "/api/v1/identity"):
		if read {
			return everyone
		}
	case strings.HasSuffix(path, "/rejected"), strings.HasPrefix(path, "/api/v1/events"), strings.HasPrefix(path, "/api/v1/tokens"):
		return []string{"admin"}
	case strings.HasPrefix(path, "/api/v1/sources") && read:
		return everyone
	case strings.HasPrefix(path, "/api/v1/audiences"), strings.HasPrefix(path, "/api/v1/destinations"):
		if read {
			return everyone
		}
		return []string{"admin", "marketer"}
	}
	return []string{"admin"}
}

// TestRoleRouteMatrix calls every documented admin route with a token of
// every role and checks that exactly the roles of the matrix get past the
// role check (403 forbidden for the others).
func TestRoleRouteMatrix(t *testing.T) {
	s := newRoleServer(t)
	tokens := map[string]string{"admin": token}
	for _, role := range []string{"privacy", "marketer", "viewer"} {
		tokens[role] = makeToken(t, s, role+"-token", role, false)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method := range ops {
			if method == "parameters" {
				continue
			}
			method = strings.ToUpper(method)
			url := strings.NewReplacer("{id}", "some-id", "{ref}", "user_id:nobody", "{name}", "nobody").Replace(path)
			want := expectedRoles(method, path)
			for role, tok := range tokens {
				w := call(t, s, tok, method, url, "{}")
				if got := w.Code != http.StatusForbidden; got != slices.Contains(want, role) {
					t.Errorf("%s %s as %s = %d %s; allowed roles are %v", method, path, role, w.Code, w.Body, want)
				}
				checked++
			}
		}
	}
	if checked < 4*15 {
		t.Errorf("checked %d route × role pairs; the documented routes are missing", checked)
	}
	// A marketer cannot read the audit log, raw events or erase anything.
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/audit"}, {"GET", "/api/v1/events"}, {"POST", "/api/v1/privacy/requests"}, {"PUT", "/api/v1/profiles/user_id:x/consent"}} {
		if w := call(t, s, tokens["marketer"], c.method, c.path, "{}"); w.Code != http.StatusForbidden {
			t.Errorf("marketer %s %s = %d, want 403", c.method, c.path, w.Code)
		}
	}
}

func TestTokens(t *testing.T) {
	s := newRoleServer(t)
	tok := makeToken(t, s, "crm", "viewer", false)
	if w := call(t, s, tok, "GET", "/api/v1/sources", ""); w.Code != 200 {
		t.Errorf("viewer token GET sources = %d %s", w.Code, w.Body)
	}
	for name, bad := range map[string]string{
		"wrong secret": tok[:len(tok)-2] + "xx",
		"unknown id":   "mosaic_t_0000000000000000_" + tok[26:],
		"short":        "mosaic_t_abc",
		"no prefix":    tok[9:],
		"empty":        "",
	} {
		if w := call(t, s, bad, "GET", "/api/v1/sources", ""); w.Code != 401 {
			t.Errorf("%s token = %d, want 401", name, w.Code)
		}
	}
	for _, body := range []string{`{"name":"x","role":"root"}`, `{"name":"","role":"viewer"}`, `{"name":"crm","role":"viewer"}`} {
		if w := call(t, s, token, "POST", "/api/v1/tokens", body); w.Code != 400 && w.Code != 409 {
			t.Errorf("POST tokens %s = %d %s, want 400 or 409", body, w.Code, w.Body)
		}
	}
	w := call(t, s, token, "GET", "/api/v1/tokens", "")
	if w.Code != 200 || strings.Contains(w.Body.String(), tok[26:]) || !strings.Contains(w.Body.String(), `"crm"`) {
		t.Errorf("GET tokens = %d %s: want the token listed without its secret", w.Code, w.Body)
	}
	id := tok[9:25]
	if w := call(t, s, token, "DELETE", "/api/v1/tokens/"+id, ""); w.Code != 204 {
		t.Fatalf("DELETE token = %d %s", w.Code, w.Body)
	}
	if w := call(t, s, tok, "GET", "/api/v1/sources", ""); w.Code != 401 {
		t.Errorf("revoked token = %d, want 401", w.Code)
	}
}

func TestMaskPII(t *testing.T) {
	doc := `{"id":"p1","identifiers":[{"type":"email","value":"a@b.nl","sources":["s"]}],"traits":{"email":"a@b.nl","First_Name":"Ann","plan":"pro","address":{"city":"Delft"}}}`
	var v any
	_ = json.Unmarshal([]byte(doc), &v)
	s := &Server{}
	got, _ := json.Marshal(maskValue(v, s.piiSet(), false))
	want := `{"id":"p1","identifiers":[{"sources":["s"],"type":"email","value":"[masked]"}],"traits":{"First_Name":"[masked]","address":"[masked]","email":"[masked]","plan":"pro"}}`
	if string(got) != want {
		t.Errorf("maskValue = %s\nwant %s", got, want)
	}
}
