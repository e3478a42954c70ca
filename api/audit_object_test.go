package api

import (
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/privacy"
)

// referenceAuditObject is auditObject as it was before it sliced the path:
// the reference its fast path is held to.
func referenceAuditObject(s *Server, path, rawQuery string) string {
	parts := strings.Split(path, "/")
	if len(parts) > 4 && parts[3] == "profiles" && parts[4] != "" {
		if _, err := identity.ParseProfileID(parts[4]); err != nil {
			parts[4] = s.opts.Audit.Pseudonym(parts[4])
		}
	}
	obj := strings.Join(parts, "/")
	r := httptest.NewRequest("GET", "/", nil)
	r.URL.RawQuery = rawQuery
	if q := r.URL.Query(); len(q) > 0 {
		names := make([]string, 0, len(q))
		for k := range q {
			names = append(names, k)
		}
		sort.Strings(names)
		obj += "?" + strings.Join(names, "&")
	}
	return obj
}

func TestAuditObject(t *testing.T) {
	s := New(nil, nil, Options{Audit: privacy.NewAuditor(nil, []byte("k3y"), nil)})
	tests := []struct{ name, path, query string }{
		{"identifier", "/api/v1/profiles/email:jane@example.com", ""},
		{"identifier with a sub-route", "/api/v1/profiles/user_id:42/events", "limit=10&before=x"},
		{"profile ID", "/api/v1/profiles/p00000000000000ff", ""},
		{"profile ID with a sub-route", "/api/v1/profiles/p00000000000000ff/identity", ""},
		{"not quite a profile ID", "/api/v1/profiles/p00000000000000fg", ""},
		{"p and 16 characters", "/api/v1/profiles/pxxxxxxxxxxxxxxxx", ""},
		{"profile ID 0", "/api/v1/profiles/p0000000000000000", ""},
		{"no ref", "/api/v1/profiles/", ""},
		{"search", "/api/v1/profiles", "q=jane@example.com&limit=5"},
		{"empty segment", "/api/v1/profiles//x", ""},
		{"other route", "/api/v1/events", "wait=1s"},
		{"profiles elsewhere", "/x/y/profiles/email:a@b", ""},
		{"profiles as segment 4", "/api/v1/x/profiles/email:a@b", ""},
		{"query without names", "/api/v1/audit", "&"},
		{"root", "/", ""},
		{"empty", "", "a=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.URL.Path, r.URL.RawQuery = tt.path, tt.query
			if got, want := s.auditObject(r), referenceAuditObject(s, tt.path, tt.query); got != want {
				t.Errorf("auditObject(%q, %q) = %q, want %q", tt.path, tt.query, got, want)
			}
		})
	}
}

// FuzzAuditObject holds auditObject to the reference on any path.
func FuzzAuditObject(f *testing.F) {
	for _, p := range []string{"/api/v1/profiles/email:a@b/events", "/api/v1/profiles/p00000000000000ff", "////", "/a/b/profiles/"} {
		f.Add(p, "x=1")
	}
	s := New(nil, nil, Options{Audit: privacy.NewAuditor(nil, []byte("k3y"), nil)})
	f.Fuzz(func(t *testing.T, path, query string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path, r.URL.RawQuery = path, query
		if got, want := s.auditObject(r), referenceAuditObject(s, path, query); got != want {
			t.Errorf("auditObject(%q, %q) = %q, want %q", path, query, got, want)
		}
	})
}
