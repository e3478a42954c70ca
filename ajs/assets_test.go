package ajs

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

func TestScript(t *testing.T) {
	h := NewHandler(newKeyring(), Options{})
	want := readAsset(t, "standalone.js")
	for _, path := range []string{
		"/analytics.js/v1/wk_123/analytics.min.js",
		"/analytics.js/v1/wk_123/analytics.js",
		"/analytics.js/v1/wk_123/platform/analytics.min.js",
		"/analytics.js/v1/any-key-at-all/analytics.min.js", // the key matters only for the settings
	} {
		t.Run(path, func(t *testing.T) {
			w := do(t, h, http.MethodGet, path)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200; body %s", path, w.Code, w.Body)
			}
			if !bytes.Equal(w.Body.Bytes(), want) {
				t.Errorf("GET %s body: %d bytes that differ from assets/standalone.js (%d bytes)", path, w.Body.Len(), len(want))
			}
			checkHeaders(t, w, map[string]string{
				"Content-Type":                "application/javascript",
				"Cache-Control":               scriptCacheControl,
				"Access-Control-Allow-Origin": "*",
				"Content-Encoding":            "",
			})
			if etag := w.Header().Get("ETag"); !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) {
				t.Errorf("GET %s ETag = %q, want a quoted content hash", path, etag)
			}
		})
	}
}

func TestScriptNotFound(t *testing.T) {
	h := NewHandler(newKeyring(), Options{})
	for _, path := range []string{
		"/analytics.js/v1/wk_123/standalone.js",
		"/analytics.js/v1/wk_123/analytics.classic.js",
		"/analytics.js/v1/wk_123/analytics.min.js.map",
		"/analytics.js/v1/wk_123",
		"/analytics.js/v2/wk_123/analytics.min.js",
	} {
		t.Run(path, func(t *testing.T) {
			checkError(t, do(t, h, http.MethodGet, path), http.StatusNotFound, "not_found")
		})
	}
}

func TestChunks(t *testing.T) {
	h := NewHandler(newKeyring(), Options{})
	for _, name := range chunkFiles(t) {
		t.Run(name, func(t *testing.T) {
			w := do(t, h, http.MethodGet, "/analytics-next/bundles/"+name)
			if w.Code != http.StatusOK {
				t.Fatalf("GET chunk %s = %d, want 200", name, w.Code)
			}
			if want := readAsset(t, name); !bytes.Equal(w.Body.Bytes(), want) {
				t.Errorf("GET chunk %s: %d bytes that differ from the vendored %d", name, w.Body.Len(), len(want))
			}
			checkHeaders(t, w, map[string]string{
				"Content-Type":  "application/javascript",
				"Cache-Control": chunkCacheControl,
			})
		})
	}
}

// TestChunkTraversal checks that only chunk names are served: no other
// embedded file, and nothing outside the embedded folder however the path is
// spelled.
func TestChunkTraversal(t *testing.T) {
	h := NewHandler(newKeyring(), Options{})
	for _, path := range []string{
		"/analytics-next/bundles/../../go.mod",
		"/analytics-next/bundles/..%2f..%2fgo.mod",
		"/analytics-next/bundles/%2e%2e/%2e%2e/go.mod",
		"/analytics-next/bundles/..%2f..%2fajs%2fassets.go",
		"/analytics-next/bundles/standalone.js",
		"/analytics-next/bundles/LICENSE",
		"/analytics-next/bundles/VERSION",
		"/analytics-next/bundles/assets/standalone.js",
		"/analytics-next/bundles/",
		"/analytics-next/bundles/nope.bundle.0123456789abcdef.js",
	} {
		t.Run(path, func(t *testing.T) {
			w := do(t, h, http.MethodGet, path)
			// The mux answers a path with dot segments by redirecting to its
			// cleaned form; anything else must be a 404.
			switch {
			case w.Code == http.StatusNotFound:
			case w.Code >= 300 && w.Code < 400:
				if loc := w.Header().Get("Location"); strings.HasPrefix(loc, "/analytics-next/") {
					t.Errorf("GET %s redirects to %s, want a path outside the bundles", path, loc)
				}
			default:
				t.Fatalf("GET %s = %d, want 404 or a redirect", path, w.Code)
			}
			if body := w.Body.String(); strings.Contains(body, "module github.com") || strings.Contains(body, "package ajs") || strings.Contains(body, "Permission is hereby granted") {
				t.Errorf("GET %s leaked a file: %.80s", path, body)
			}
		})
	}
}

func TestGzip(t *testing.T) {
	h := NewHandler(newKeyring(), Options{})
	plain := readAsset(t, "standalone.js")
	identityETag := do(t, h, http.MethodGet, "/analytics.js/v1/k/analytics.min.js").Header().Get("ETag")
	tests := []struct {
		name, accept string
		gzip         bool
	}{
		{"none", "", false},
		{"gzip", "gzip", true},
		{"browser list", "gzip, deflate, br, zstd", true},
		{"wildcard", "*", true},
		{"q zero", "gzip;q=0, br", false},
		{"q positive", "br;q=1.0, gzip;q=0.5", true},
		{"only br", "br", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, h, http.MethodGet, "/analytics.js/v1/k/analytics.min.js", "Accept-Encoding", tt.accept)
			if got := w.Header().Get("Content-Encoding") == "gzip"; got != tt.gzip {
				t.Fatalf("Accept-Encoding %q: gzip = %v, want %v", tt.accept, got, tt.gzip)
			}
			if vary := w.Header().Get("Vary"); vary != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding", vary)
			}
			body := w.Body.Bytes()
			if tt.gzip {
				body = gunzip(t, body)
				if w.Header().Get("ETag") == identityETag {
					t.Errorf("gzip ETag = identity ETag %s, want a distinct tag", identityETag)
				}
			}
			if !bytes.Equal(body, plain) {
				t.Errorf("Accept-Encoding %q: decoded body differs from standalone.js", tt.accept)
			}
		})
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip.NewReader: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("reading gzip body: %v", err)
	}
	return out
}

func TestConditionalGet(t *testing.T) {
	h := NewHandler(newKeyring(), Options{})
	const path = "/analytics.js/v1/k/analytics.min.js"
	etag := do(t, h, http.MethodGet, path).Header().Get("ETag")
	gzETag := do(t, h, http.MethodGet, path, "Accept-Encoding", "gzip").Header().Get("ETag")
	tests := []struct {
		name, ifNoneMatch, accept string
		want                      int
	}{
		{"current", etag, "", http.StatusNotModified},
		{"weak", "W/" + etag, "", http.StatusNotModified},
		{"in a list", `"old", ` + etag, "", http.StatusNotModified},
		{"star", "*", "", http.StatusNotModified},
		{"gzip current", gzETag, "gzip", http.StatusNotModified},
		{"stale", `"0123"`, "", http.StatusOK},
		{"identity tag for gzip", etag, "gzip", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, h, http.MethodGet, path, "If-None-Match", tt.ifNoneMatch, "Accept-Encoding", tt.accept)
			if w.Code != tt.want {
				t.Fatalf("If-None-Match %s = %d, want %d", tt.ifNoneMatch, w.Code, tt.want)
			}
			if tt.want == http.StatusNotModified && w.Body.Len() != 0 {
				t.Errorf("304 has a %d-byte body, want none", w.Body.Len())
			}
		})
	}
}

func TestHead(t *testing.T) {
	h := NewHandler(newKeyring(), Options{})
	w := do(t, h, http.MethodHead, "/analytics.js/v1/k/analytics.min.js")
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("HEAD = %d with %d body bytes, want 200 and none", w.Code, w.Body.Len())
	}
	if got, want := w.Header().Get("Content-Length"), len(readAsset(t, "standalone.js")); got != strconv.Itoa(want) {
		t.Errorf("HEAD Content-Length = %s, want %d", got, want)
	}
}

// TestLibraryVersion checks that VERSION names the version compiled into
// the vendored script, so the two cannot drift apart.
func TestLibraryVersion(t *testing.T) {
	v := LibraryVersion()
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("LibraryVersion() = %q, want a version like 1.84.3", v)
	}
	if !bytes.Contains(readAsset(t, "standalone.js"), []byte(`"`+v+`"`)) {
		t.Errorf("standalone.js does not contain its VERSION %q: the vendored files are from different versions", v)
	}
}

func TestLoadLibraryIncomplete(t *testing.T) {
	script := &fstest.MapFile{Data: []byte("/* lib */")}
	version := &fstest.MapFile{Data: []byte("1.2.3\n")}
	chunk := &fstest.MapFile{Data: []byte("/* chunk */")}
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string // in the error; "" means success
	}{
		{"complete", fstest.MapFS{"standalone.js": script, "VERSION": version, "a.bundle.0f.js": chunk}, ""},
		{"no script", fstest.MapFS{"VERSION": version, "a.bundle.0f.js": chunk}, "standalone.js"},
		{"no version", fstest.MapFS{"standalone.js": script, "a.bundle.0f.js": chunk}, "VERSION"},
		{"no chunks", fstest.MapFS{"standalone.js": script, "VERSION": version, "a.js.map": chunk}, "no *.bundle.*.js"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib, err := loadLibrary(tt.fsys)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("loadLibrary = %v, want success", err)
			case tt.want == "":
				if lib.version != "1.2.3" || len(lib.chunks) != 1 || lib.chunks["a.bundle.0f.js"] == nil {
					t.Errorf("loadLibrary = version %q, chunks %v; want 1.2.3 and a.bundle.0f.js", lib.version, lib.chunks)
				}
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Errorf("loadLibrary error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func BenchmarkScript(b *testing.B) {
	h := NewHandler(newKeyring(), Options{})
	for _, accept := range []string{"", "gzip"} {
		b.Run("accept="+accept, func(b *testing.B) {
			r, _ := http.NewRequest(http.MethodGet, "/analytics.js/v1/k/analytics.min.js", nil)
			r.Header.Set("Accept-Encoding", accept)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(discard{}, r)
			}
		})
	}
}

// discard is a ResponseWriter that keeps nothing, so benchmarks measure the
// handler rather than a recorder's copying.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
