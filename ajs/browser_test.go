package ajs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/mosaic-cdp/mosaic/browsertest"
)

// TestBrowser loads a page with Segment's standard snippet in headless
// Chromium, the snippet's host pointed at this package's handler, and checks
// what the real library then does: which files and settings it fetches, and
// what it posts where. The page and the server are different origins, as on
// a real website, so CORS is exercised too.
func TestBrowser(t *testing.T) {
	browser := browsertest.Start(t)
	const key = "wk_browser_test"
	rec := &recorder{changed: make(chan struct{}, 1)}
	server := httptest.NewServer(rec.wrap(testMux(NewHandler(newKeyring(key), Options{}), rec)))
	t.Cleanup(server.Close)

	t.Run("events arrive", func(t *testing.T) {
		pageOrigin := loadSnippetPage(t, browser, server.URL, key, func(ctx context.Context) error {
			return rec.waitFor(ctx, func(reqs []recorded) bool {
				return len(posts(reqs)) >= 3
			})
		})
		reqs := rec.snapshot()
		checkLoads(t, reqs, key)
		checkPreflight(t, reqs, pageOrigin)
		checkEvents(t, posts(reqs), key, pageOrigin)
	})

	t.Run("unknown write key", func(t *testing.T) {
		rec.reset()
		var errorsSeen []string
		loadSnippetPage(t, browser, server.URL, "wk_nobody", func(ctx context.Context) error {
			errorsSeen = consoleErrorsUntil(ctx, "Failed to load Analytics.js")
			return ctx.Err()
		})
		if !slices.ContainsFunc(errorsSeen, func(s string) bool { return strings.Contains(s, "Unknown write key") }) {
			t.Errorf("console errors = %q, want one with Mosaic's unknown write key message", errorsSeen)
		}
		if p := posts(rec.snapshot()); len(p) != 0 {
			t.Errorf("the library posted %d events with an unknown key, want none: %v", len(p), p)
		}
	})
}

// loadSnippetPage serves testdata/snippet.html for key on its own origin, opens
// it in a new tab, and calls wait until it returns. It returns the page's
// origin. Console messages are logged if the test fails.
func loadSnippetPage(t *testing.T, browser context.Context, cdn, key string, wait func(context.Context) error) string {
	t.Helper()
	tmpl := template.Must(template.ParseFiles("testdata/snippet.html"))
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		tmpl.Execute(w, map[string]string{"Origin": cdn, "WriteKey": key})
	}))
	defer page.Close()

	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(tab, 20*time.Second)
	defer cancelTimeout()
	var console []string
	var mu sync.Mutex
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL+"/checkout")); err != nil {
		t.Fatalf("opening the snippet page: %v", err)
	}
	if err := wait(ctx); err != nil {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("waiting for the library: %v; console:\n%s", err, strings.Join(console, "\n"))
	}
	return page.URL
}

// consoleErrorsUntil collects console errors in the context's tab until one
// contains stop or the context ends.
func consoleErrorsUntil(ctx context.Context, stop string) []string {
	var seen []string
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			break
		}
		if m.Type == chromedp.ConsoleError {
			seen = append(seen, m.Text)
			if strings.Contains(m.Text, stop) {
				break
			}
		}
	}
	return seen
}

// testMux mounts ajs where the main server will, and the recorder in place
// of the Tracking API.
func testMux(ajs http.Handler, rec *recorder) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/analytics.js/", ajs)
	mux.Handle("/analytics-next/", ajs)
	mux.Handle("/v1/projects/", ajs)
	mux.HandleFunc("/v1/", rec.collect)
	return mux
}

// recorded is one request the test server answered.
type recorded struct {
	Method, Path, Origin, Authorization, ContentType, RequestHeaders string
	Status                                                           int
	Body                                                             []byte
}

// recorder keeps every request to the test server and stands in for the
// Tracking API: it answers event posts and their preflights as Mosaic's
// collector must.
type recorder struct {
	mu      sync.Mutex
	reqs    []recorded
	changed chan struct{}
}

func (rec *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{
			Method: r.Method, Path: r.URL.Path, Origin: r.Header.Get("Origin"),
			Authorization: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"),
			RequestHeaders: r.Header.Get("Access-Control-Request-Headers"),
			Status:         sw.status, Body: body,
		})
		rec.mu.Unlock()
		select {
		case rec.changed <- struct{}{}:
		default:
		}
	})
}

func (rec *recorder) collect(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"success": true}`)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (rec *recorder) snapshot() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.reqs)
}

func (rec *recorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.reqs = nil
}

// waitFor returns nil once done holds for the recorded requests, or the
// context's error.
func (rec *recorder) waitFor(ctx context.Context, done func([]recorded) bool) error {
	for !done(rec.snapshot()) {
		select {
		case <-rec.changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// posts returns the recorded event posts.
func posts(reqs []recorded) []recorded {
	var out []recorded
	for _, r := range reqs {
		if r.Method == http.MethodPost {
			out = append(out, r)
		}
	}
	return out
}

// checkLoads checks that the library came from the test server with its
// settings, and loaded no optional chunk (the settings ask for none).
func checkLoads(t *testing.T, reqs []recorded, key string) {
	t.Helper()
	want := map[string]bool{
		"/analytics.js/v1/" + key + "/analytics.min.js": false,
		"/v1/projects/" + key + "/settings":             false,
	}
	for _, r := range reqs {
		if _, ok := want[r.Path]; ok && r.Method == http.MethodGet && r.Status == http.StatusOK {
			want[r.Path] = true
		}
		if strings.HasPrefix(r.Path, "/analytics-next/bundles/") {
			t.Errorf("the library loaded chunk %s, want none for settings with only Segment.io", r.Path)
		}
	}
	for path, seen := range want {
		if !seen {
			t.Errorf("no successful GET %s among the requests", path)
		}
	}
}

// checkPreflight checks that the browser asked before posting events with an
// Authorization header, and that the answer let it go on.
func checkPreflight(t *testing.T, reqs []recorded, origin string) {
	t.Helper()
	for _, r := range reqs {
		if r.Method == http.MethodOptions && strings.HasPrefix(r.Path, "/v1/") &&
			strings.Contains(strings.ToLower(r.RequestHeaders), "authorization") {
			if r.Status != http.StatusNoContent || r.Origin != origin {
				t.Errorf("preflight %s from %s answered %d, want 204 for origin %s", r.Path, r.Origin, r.Status, origin)
			}
			return
		}
	}
	t.Errorf("no CORS preflight asking for Authorization among %d requests", len(reqs))
}

// event is what the test checks of each posted event.
type event struct {
	Path       string         `json:"-"`
	Type       string         `json:"type"`
	UserID     string         `json:"userId"`
	Event      string         `json:"event"`
	WriteKey   string         `json:"writeKey"`
	Traits     map[string]any `json:"traits"`
	Properties map[string]any `json:"properties"`
}

func checkEvents(t *testing.T, got []recorded, key, origin string) {
	t.Helper()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
	var events []event
	for _, r := range got {
		if r.Authorization != auth || r.Origin != origin || r.ContentType != "text/plain" {
			t.Errorf("POST %s: Authorization %q, Origin %q, Content-Type %q; want %q, %q, text/plain",
				r.Path, r.Authorization, r.Origin, r.ContentType, auth, origin)
		}
		var e event
		if err := json.Unmarshal(r.Body, &e); err != nil {
			t.Fatalf("POST %s body is not JSON: %v", r.Path, err)
		}
		e.Path = r.Path
		if e.Type == "page" {
			e.Properties = nil // the page's URL, title and so on
		}
		events = append(events, e)
	}
	slices.SortFunc(events, func(a, b event) int { return strings.Compare(a.Path, b.Path) })
	want := []event{
		{Path: "/v1/i", Type: "identify", UserID: "user-42", WriteKey: key,
			Traits: map[string]any{"email": "ada@example.com", "plan": "pro"}},
		{Path: "/v1/p", Type: "page", UserID: "user-42", WriteKey: key},
		{Path: "/v1/t", Type: "track", UserID: "user-42", Event: "Order Completed", WriteKey: key,
			Properties: map[string]any{"orderId": "o-1001", "revenue": 42.5, "currency": "EUR"}},
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("posted events (-want +got):\n%s", diff)
	}
}
