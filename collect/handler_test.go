package collect

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mosaic-cdp/mosaic"
)

const testKey = "wk_test"

var testSource = &mosaic.Source{ID: "src_1", Name: "web", WriteKey: testKey}

// testEnv is a Handler with in-memory dependencies that really keep state.
type testEnv struct {
	h   *Handler
	log *memLog
	src *memSources
	q   *memQuarantine
}

func newTestEnv(t *testing.T, edit ...func(*Options)) *testEnv {
	t.Helper()
	e := &testEnv{log: &memLog{}, src: newMemSources(testSource), q: &memQuarantine{}}
	opts := Options{
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:          func() time.Time { return testNow },
		NewMessageID: counterIDs(),
	}
	for _, f := range edit {
		f(&opts)
	}
	e.h = NewHandler(e.log, e.src, e.q, opts)
	return e
}

// basic returns an Authorization header value for a write key.
func basic(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

// post sends body to path with the test key in Basic auth unless headers
// name an Authorization (use "Authorization", "" to send none).
func (e *testEnv) post(t *testing.T, path string, body []byte, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", basic(testKey))
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			r.Header.Del(headers[i])
		} else {
			r.Header.Set(headers[i], headers[i+1])
		}
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// response is the union of the Tracking API's response bodies.
type response struct {
	Success  bool
	Error    struct{ Code, Message string }
	Rejected []rejection
}

func decodeResponse(t *testing.T, w *httptest.ResponseRecorder) response {
	t.Helper()
	var resp response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response %q is not JSON: %v", w.Body, err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("response Content-Type = %q, want application/json", ct)
	}
	return resp
}

// storedIDs returns the messageIds in the log, in order.
func (e *testEnv) storedIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, ev := range e.log.events(t) {
		ids = append(ids, ev.MessageID)
	}
	return ids
}

// quarantined returns "index:code" for each quarantined message.
func (e *testEnv) quarantined() []string {
	var out []string
	for _, r := range e.q.all() {
		out = append(out, fmt.Sprintf("%d:%s", r.Index, r.Code))
	}
	return out
}

// batchOf builds a batch body from messages.
func batchOf(msgs ...string) []byte {
	return []byte(`{"batch":[` + strings.Join(msgs, ",") + `]}`)
}

func track(id string) string {
	return `{"type":"track","messageId":"` + id + `","userId":"u1","event":"Clicked","properties":{"n":1}}`
}

func TestRoutes(t *testing.T) {
	bodies := map[string]string{
		mosaic.TypeIdentify: `{"userId":"u1","traits":{"email":"a@b.c"}}`,
		mosaic.TypeTrack:    `{"userId":"u1","event":"Clicked"}`,
		mosaic.TypePage:     `{"anonymousId":"a1","name":"Home"}`,
		mosaic.TypeScreen:   `{"anonymousId":"a1","name":"Home"}`,
		mosaic.TypeGroup:    `{"userId":"u1","groupId":"g1"}`,
		mosaic.TypeAlias:    `{"userId":"u1","previousId":"a1"}`,
	}
	for _, rt := range routes {
		if rt.typ == "" {
			continue
		}
		t.Run(rt.path, func(t *testing.T) {
			e := newTestEnv(t)
			w := e.post(t, rt.path, []byte(bodies[rt.typ]))
			if w.Code != http.StatusOK || w.Body.String() != "{\"success\":true}\n" {
				t.Fatalf("POST %s = %d %s, want 200 {\"success\":true}", rt.path, w.Code, w.Body)
			}
			evs := e.log.events(t)
			if len(evs) != 1 || evs[0].Type != rt.typ || evs[0].SourceID != testSource.ID || !evs[0].ReceivedAt.Equal(testNow) {
				t.Fatalf("POST %s stored %+v, want one %s event of %s received at %v", rt.path, evs, rt.typ, testSource.ID, testNow)
			}
			var msg map[string]any
			if err := json.Unmarshal(evs[0].Message, &msg); err != nil || msg["type"] != rt.typ || msg["messageId"] != evs[0].MessageID {
				t.Errorf("stored message %s: type/messageId do not match the record (%v)", evs[0].Message, err)
			}
		})
	}
}

func TestBatchRoutes(t *testing.T) {
	for _, path := range []string{"/v1/batch", "/v1/import"} {
		t.Run(path, func(t *testing.T) {
			e := newTestEnv(t)
			w := e.post(t, path, batchOf(track("m1"), track("m2"), track("m3")))
			if w.Code != http.StatusOK {
				t.Fatalf("POST %s = %d %s, want 200", path, w.Code, w.Body)
			}
			if got, want := e.storedIDs(t), []string{"m1", "m2", "m3"}; !cmp.Equal(got, want) {
				t.Errorf("stored %v, want %v", got, want)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	single := `{"userId":"u","event":"E"}`
	withKey := `{"writeKey":"` + testKey + `","userId":"u","event":"E"}`
	batchWithKey := `{"writeKey":"` + testKey + `","batch":[` + track("m1") + `]}`
	tests := []struct {
		name, path, body, auth string
		status                 int
	}{
		{"basic with colon", "/v1/track", single, basic(testKey), 200},
		{"basic without colon", "/v1/track", single, "Basic " + base64.StdEncoding.EncodeToString([]byte(testKey)), 200},
		{"basic without padding", "/v1/track", single, "Basic " + base64.RawStdEncoding.EncodeToString([]byte(testKey+":")), 200},
		{"basic lower-case scheme", "/v1/track", single, "basic " + base64.StdEncoding.EncodeToString([]byte(testKey+":")), 200},
		{"basic with a password", "/v1/track", single, "Basic " + base64.StdEncoding.EncodeToString([]byte(testKey+":pw")), 200},
		{"writeKey in a single call", "/v1/track", withKey, "", 200},
		{"writeKey at batch top level", "/v1/batch", batchWithKey, "", 200},
		{"header wins over body", "/v1/batch", `{"writeKey":"wrong","batch":[` + track("m1") + `]}`, basic(testKey), 200},
		{"empty user name", "/v1/track", single, basic(""), 401},
		{"empty writeKey", "/v1/track", `{"writeKey":"","userId":"u","event":"E"}`, "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			h := []string{"Authorization", tt.auth}
			w := e.post(t, tt.path, []byte(tt.body), h...)
			if w.Code != tt.status {
				t.Fatalf("POST %s with %q = %d %s, want %d", tt.path, tt.auth, w.Code, w.Body, tt.status)
			}
			if n := len(e.log.events(t)); (n == 1) != (tt.status == 200) {
				t.Errorf("stored %d events, want %d", n, map[bool]int{true: 1}[tt.status == 200])
			}
		})
	}
}

func TestWriteKeyNotStored(t *testing.T) {
	e := newTestEnv(t)
	w := e.post(t, "/v1/track", []byte(`{"writeKey":"`+testKey+`","userId":"u","event":"E"}`), "Authorization", "")
	if w.Code != 200 {
		t.Fatalf("POST = %d %s, want 200", w.Code, w.Body)
	}
	if msg := e.log.events(t)[0].Message; bytes.Contains(msg, []byte(testKey)) {
		t.Errorf("stored message %s contains the write key", msg)
	}
}

func TestDeletedSourceKeyStopsWorking(t *testing.T) {
	e := newTestEnv(t)
	cache := NewSourceCache(e.src, time.Hour)
	e.h = NewHandler(e.log, cache, e.q, Options{Now: e.h.opts.Now})
	if w := e.post(t, "/v1/track", []byte(`{"userId":"u","event":"E"}`)); w.Code != 200 {
		t.Fatalf("POST before delete = %d, want 200", w.Code)
	}
	e.src.delete(testKey)
	cache.Invalidate(testKey)
	w := e.post(t, "/v1/track", []byte(`{"userId":"u","event":"E"}`))
	if resp := decodeResponse(t, w); w.Code != 401 || resp.Error.Code != mosaic.EUNAUTHORIZED {
		t.Fatalf("POST after delete = %d %s, want 401 unauthorized", w.Code, w.Body)
	}
	if n := len(e.log.events(t)); n != 1 {
		t.Errorf("stored %d events, want 1 (before the delete only)", n)
	}
}

func TestGzipAndTextPlain(t *testing.T) {
	body := batchOf(track("m1"), track("m2"))
	tests := []struct {
		name    string
		body    []byte
		headers []string
	}{
		{"gzip", gzipped(t, body), []string{"Content-Encoding", "gzip"}},
		{"x-gzip", gzipped(t, body), []string{"Content-Encoding", "x-gzip"}},
		{"identity", body, []string{"Content-Encoding", "identity"}},
		{"text/plain", body, []string{"Content-Type", "text/plain;charset=UTF-8"}},
		{"json with charset", body, []string{"Content-Type", "application/json; charset=utf-8"}},
		{"no content type", body, []string{"Content-Type", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			// Twice, so the second request reuses pooled readers and buffers.
			for range 2 {
				if w := e.post(t, "/v1/batch", tt.body, tt.headers...); w.Code != 200 {
					t.Fatalf("POST = %d %s, want 200", w.Code, w.Body)
				}
			}
			if got, want := e.storedIDs(t), []string{"m1", "m2", "m1", "m2"}; !cmp.Equal(got, want) {
				t.Errorf("stored %v, want %v", got, want)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	e := newTestEnv(t)
	t.Run("preflight", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodOptions, "/v1/t", nil)
		r.Header.Set("Origin", "https://shop.example")
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-retry-count")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		want := map[string]string{
			"Access-Control-Allow-Origin":  "https://shop.example",
			"Access-Control-Allow-Methods": "POST, OPTIONS",
			"Access-Control-Allow-Headers": "authorization,content-type,x-retry-count",
			"Access-Control-Max-Age":       "86400",
		}
		if w.Code != http.StatusNoContent {
			t.Errorf("OPTIONS = %d, want 204", w.Code)
		}
		for k, v := range want {
			if got := w.Header().Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
	})
	t.Run("preflight without requested headers", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodOptions, "/v1/batch", nil)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if got := w.Header().Get("Access-Control-Allow-Headers"); !strings.Contains(got, "Authorization") || !strings.Contains(got, "X-Retry-Count") {
			t.Errorf("Access-Control-Allow-Headers = %q, want it to name Authorization and X-Retry-Count", got)
		}
	})
	t.Run("error response", func(t *testing.T) {
		w := e.post(t, "/v1/track", []byte(`{}`), "Origin", "https://shop.example", "Authorization", "Bearer x")
		if w.Code != 401 || w.Header().Get("Access-Control-Allow-Origin") != "https://shop.example" ||
			!strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "Retry-After") {
			t.Errorf("401 response headers %v, want the Origin echoed and Retry-After exposed", w.Header())
		}
	})
}

func TestMethodNotAllowed(t *testing.T) {
	e := newTestEnv(t)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/track", nil))
	if resp := decodeResponse(t, w); w.Code != 405 || resp.Error.Code != mosaic.EMETHOD || w.Header().Get("Allow") != "POST, OPTIONS" {
		t.Errorf("GET /v1/track = %d %s (Allow %q), want 405 method_not_allowed", w.Code, w.Body, w.Header().Get("Allow"))
	}
}

func TestMessageIDs(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.NewMessageID = nil }) // the real UUID generator
	body := batchOf(`{"type":"page","anonymousId":"a"}`, track("dup"), track("dup"))
	if w := e.post(t, "/v1/batch", body); w.Code != 200 {
		t.Fatalf("POST = %d %s, want 200", w.Code, w.Body)
	}
	ids := e.storedIDs(t)
	if len(ids) != 3 || len(ids[0]) != 36 || ids[1] != "dup" || ids[2] != "dup" {
		t.Fatalf("stored messageIds %v, want a generated UUID and the duplicate \"dup\" twice", ids)
	}
	var msg struct{ MessageID string }
	if err := json.Unmarshal(e.log.events(t)[0].Message, &msg); err != nil || msg.MessageID != ids[0] {
		t.Errorf("stored message has messageId %q (%v), want %q", msg.MessageID, err, ids[0])
	}
}

func TestClockSkewThroughHandler(t *testing.T) {
	e := newTestEnv(t)
	// The device clock is an hour fast: it sent at 13:00 an event of 12:59.
	body := `{"sentAt":"2024-05-01T13:00:00Z","batch":[{"type":"track","userId":"u","event":"E","timestamp":"2024-05-01T12:59:00Z"}]}`
	if w := e.post(t, "/v1/batch", []byte(body)); w.Code != 200 {
		t.Fatalf("POST = %d %s, want 200", w.Code, w.Body)
	}
	var msg struct{ Timestamp, OriginalTimestamp, SentAt, ReceivedAt string }
	if err := json.Unmarshal(e.log.events(t)[0].Message, &msg); err != nil {
		t.Fatal(err)
	}
	want := struct{ Timestamp, OriginalTimestamp, SentAt, ReceivedAt string }{
		"2024-05-01T11:59:00Z", "2024-05-01T12:59:00Z", "2024-05-01T13:00:00Z", "2024-05-01T12:00:00Z"}
	if diff := cmp.Diff(want, msg); diff != "" {
		t.Errorf("stored times mismatch (-want +got):\n%s", diff)
	}
}
