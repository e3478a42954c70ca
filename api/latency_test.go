package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestLatencyByRoute checks that requests are observed under the route they
// matched, never under their path: a lookup's path names a person.
func TestLatencyByRoute(t *testing.T) {
	s := newServer(t)
	reg := prometheus.NewRegistry()
	s.opts.Latency = NewLatency(reg)
	requests := []struct {
		method, path string
		auth         bool
		status       int
	}{
		{"GET", "/api/v1/sources", true, http.StatusOK},
		{"GET", "/api/v1/sources", true, http.StatusOK},
		{"GET", "/api/v1/profiles/email:jane@example.com", true, http.StatusServiceUnavailable}, // no profile stage here
		{"GET", "/api/v1/sources", false, http.StatusUnauthorized},
		{"GET", "/api/v1/no-such-route", true, http.StatusNotFound},
	}
	for _, r := range requests {
		req := httptest.NewRequest(r.method, r.path, nil)
		if r.auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		code := w.Code
		if code != r.status {
			t.Fatalf("%s %s = %d, want %d", r.method, r.path, code, r.status)
		}
	}
	// An unknown route matches the catch-all that answers 404.
	want := map[string]int{"GET /api/v1/sources": 2, "GET /api/v1/profiles/{ref}": 1, "/api/v1/": 1, "other": 1}
	got := map[string]int{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				got[l.GetValue()] += int(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for route, n := range want {
		if got[route] != n {
			t.Errorf("route %q observed %d times, want %d (all: %v)", route, got[route], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("routes observed: %v, want only %v", got, want)
	}
}
