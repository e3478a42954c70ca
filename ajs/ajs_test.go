package ajs

import (
	"net/http"
	"strings"
	"testing"
)

// routes are one valid path per route, for tests that go over all of them.
var routes = []string{
	"/analytics.js/v1/wk_1/analytics.min.js",
	"/analytics-next/bundles/407.bundle.61efa1acb302134c434b.js",
	"/v1/projects/wk_1/settings",
}

func TestRoutesServe(t *testing.T) {
	h := NewHandler(newKeyring("wk_1"), Options{})
	for _, path := range routes {
		t.Run(path, func(t *testing.T) {
			w := do(t, h, http.MethodGet, path)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200 (if the chunk name changed, update routes)", path, w.Code)
			}
			checkHeaders(t, w, map[string]string{
				"Access-Control-Allow-Origin":  "*",
				"Cross-Origin-Resource-Policy": "cross-origin",
			})
		})
	}
}

func TestPreflight(t *testing.T) {
	h := NewHandler(newKeyring("wk_1"), Options{})
	for _, path := range routes {
		t.Run(path, func(t *testing.T) {
			w := do(t, h, http.MethodOptions, path,
				"Origin", "https://shop.example.com",
				"Access-Control-Request-Method", "GET",
				"Access-Control-Request-Headers", "x-custom, content-type")
			if w.Code != http.StatusNoContent {
				t.Fatalf("OPTIONS %s = %d, want 204", path, w.Code)
			}
			checkHeaders(t, w, map[string]string{
				"Access-Control-Allow-Origin":  "*",
				"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
				"Access-Control-Allow-Headers": "x-custom, content-type",
				"Access-Control-Max-Age":       "86400",
			})
			if w.Body.Len() != 0 {
				t.Errorf("OPTIONS body = %q, want empty", w.Body)
			}
		})
	}
	t.Run("unknown path", func(t *testing.T) {
		w := do(t, h, http.MethodOptions, "/analytics-next/other")
		checkError(t, w, http.StatusNotFound, "not_found")
	})
}

func TestMethodNotAllowed(t *testing.T) {
	h := NewHandler(newKeyring("wk_1"), Options{})
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			w := do(t, h, method, routes[2])
			msg := checkError(t, w, http.StatusMethodNotAllowed, "method_not_allowed")
			if !strings.Contains(msg, method) {
				t.Errorf("message %q does not name the method %s", msg, method)
			}
			checkHeaders(t, w, map[string]string{"Allow": "GET, HEAD, OPTIONS", "Access-Control-Allow-Origin": "*"})
		})
	}
}

func TestUnknownPaths(t *testing.T) {
	h := NewHandler(newKeyring("wk_1"), Options{})
	for _, path := range []string{
		"/analytics-next/",
		"/analytics-next/other/x.js",
		"/analytics.js/",
		"/v1/projects/wk_1",
		"/v1/projects/wk_1/settings/extra",
		"/v1/projects/wk_1/sources",
		"/v1/projects/",
	} {
		t.Run(path, func(t *testing.T) {
			msg := checkError(t, do(t, h, http.MethodGet, path), http.StatusNotFound, "not_found")
			if !strings.Contains(msg, "/analytics.js/v1/WRITE_KEY/analytics.min.js") {
				t.Errorf("message %q does not say where the library is", msg)
			}
		})
	}
}
