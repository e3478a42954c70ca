package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite docs/reference.md from openapi.json")

const token = "t0ken"

// newServer returns an API server over a real store, log and engine in a
// temporary directory.
func newServer(t *testing.T) *Server {
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	var opts Options
	opts.TokenHash = sha(token)
	return New(st, eng, opts)
}

func get(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestReferenceUpToDate(t *testing.T) {
	got, err := Reference()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "docs", "reference.md")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./api -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("docs/reference.md is out of date with api/openapi.json; run go test ./api -update (-file +generated):\n%s", diff)
	}
}

// TestDocumentedRoutesExist checks that every admin operation in the
// OpenAPI document is served: the document cannot promise a route that does
// not exist.
func TestDocumentedRoutesExist(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	s := newServer(t)
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method := range ops {
			if method == "parameters" {
				continue
			}
			url := strings.ReplaceAll(path, "{id}", "some-id")
			w := get(t, s, strings.ToUpper(method), url, "{}")
			if w.Code == http.StatusMethodNotAllowed || strings.Contains(w.Body.String(), "No admin API route") {
				t.Errorf("%s %s is documented but not routed: %d %s", method, url, w.Code, w.Body)
			}
		}
	}
	if w := get(t, s, "GET", "/api/v1/openapi.json", ""); w.Code != 200 || !json.Valid(w.Body.Bytes()) {
		t.Errorf("GET /api/v1/openapi.json = %d", w.Code)
	}
}

func TestValidation(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantCode                 string
	}{
		{"empty body", "POST", "/api/v1/sources", "", 400, mosaic.EINVALIDJSON},
		{"not json", "POST", "/api/v1/sources", "name=web", 400, mosaic.EINVALIDJSON},
		{"unknown field", "POST", "/api/v1/sources", `{"name":"a","nmae":"b"}`, 400, mosaic.EINVALIDJSON},
		{"blank name", "POST", "/api/v1/sources", `{"name":"   "}`, 400, mosaic.EINVALID},
		{"long name", "POST", "/api/v1/sources", `{"name":"` + strings.Repeat("x", 101) + `"}`, 400, mosaic.EINVALID},
		{"control char", "POST", "/api/v1/sources", `{"name":"a\u0007b"}`, 400, mosaic.EINVALID},
		{"unknown source", "GET", "/api/v1/sources/nope", "", 404, mosaic.ENOTFOUND},
		{"delete unknown", "DELETE", "/api/v1/sources/nope", "", 404, mosaic.ENOTFOUND},
		{"bad after", "GET", "/api/v1/events?after=-1", "", 400, mosaic.EINVALID},
		{"bad limit", "GET", "/api/v1/events?limit=5000", "", 400, mosaic.EINVALID},
		{"bad wait", "GET", "/api/v1/events?wait=forever", "", 400, mosaic.EINVALID},
		{"wait too long", "GET", "/api/v1/events?wait=2h", "", 400, mosaic.EINVALID},
		{"unknown route", "GET", "/api/v1/nothing", "", 404, mosaic.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(t, s, tt.method, tt.path, tt.body)
			var e struct {
				Error struct{ Code, Message string }
			}
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != tt.wantStatus || e.Error.Code != tt.wantCode || e.Error.Message == "" {
				t.Errorf("%s %s = %d %s, want %d %s with a message", tt.method, tt.path, w.Code, w.Body, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestRenderEvents(t *testing.T) {
	tests := []struct {
		name string
		ev   mosaic.Event
		want string
	}{
		{"fields", mosaic.Event{Seq: 7, SourceID: "s1", Message: []byte(`{"type":"track","event":"A"}`)},
			`{"seq":7,"source_id":"s1","type":"track","event":"A"}`},
		{"empty object", mosaic.Event{Seq: 1, SourceID: "s", Message: []byte(`{}`)}, `{"seq":1,"source_id":"s"}`},
		{"quotes in id", mosaic.Event{Seq: 2, SourceID: `a"b`, Message: []byte(`{"x":1}`)}, `{"seq":2,"source_id":"a\"b","x":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderEvents([]mosaic.Event{tt.ev})
			if string(got[0]) != tt.want || !json.Valid(got[0]) {
				t.Errorf("renderEvents(%s) = %s, want %s", tt.ev.Message, got[0], tt.want)
			}
		})
	}
}

func sha(s string) [32]byte { return sha256.Sum256([]byte(s)) }
