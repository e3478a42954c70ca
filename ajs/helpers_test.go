package ajs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// keyring is an in-memory WriteKeyChecker with the store's semantics: active
// sources are found, deleted ones are not, and a failure can be injected.
type keyring struct {
	mu      sync.Mutex
	sources map[string]*mosaic.Source // by write key
	fail    error                     // returned by every lookup when set
}

func newKeyring(keys ...string) *keyring {
	k := &keyring{sources: map[string]*mosaic.Source{}}
	for _, key := range keys {
		k.add(source(key))
	}
	return k
}

// source returns an active source with the given write key.
func source(key string) *mosaic.Source {
	return &mosaic.Source{ID: "src_" + key, Name: "web " + key, WriteKey: key, CreatedAt: time.Unix(1700000000, 0)}
}

// discardLogger keeps expected internal errors out of the test output.
func discardLogger() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}

func (k *keyring) add(src *mosaic.Source) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sources[src.WriteKey] = src
}

func (k *keyring) remove(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.sources, key)
}

func (k *keyring) SourceByWriteKey(_ context.Context, key string) (*mosaic.Source, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return nil, k.fail
	}
	src, ok := k.sources[key]
	if !ok {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "no source with that write key")
	}
	return src, nil
}

var errDiskOnFire = errors.New("disk on fire")

// do sends a request with the given method and headers (name, value pairs)
// to h and returns the recorded response.
func do(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	if len(header)%2 != 0 {
		t.Fatalf("do: odd number of header strings: %q", header)
	}
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// readAsset returns a vendored file as it is on disk, to compare with what
// the handler serves from the embedded copy.
func readAsset(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("assets", name))
	if err != nil {
		t.Fatalf("reading assets/%s: %v", name, err)
	}
	return b
}

// chunkFiles lists the vendored chunk names on disk.
func chunkFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("assets")
	if err != nil {
		t.Fatalf("listing assets: %v", err)
	}
	var names []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".bundle.") && strings.HasSuffix(e.Name(), ".js") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("assets holds no *.bundle.*.js chunk; rerun scripts/vendor-analytics-next.sh")
	}
	return names
}

// checkHeaders checks response headers; an empty want means "absent".
func checkHeaders(t *testing.T, w *httptest.ResponseRecorder, want map[string]string) {
	t.Helper()
	for name, v := range want {
		if got := w.Header().Get(name); got != v {
			t.Errorf("header %s = %q, want %q", name, got, v)
		}
	}
}

// checkError checks that w is a JSON error with the given status and code,
// and returns its message.
func checkError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) string {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q is not JSON: %v", w.Body, err)
	}
	if body.Error.Code != code {
		t.Errorf("error code = %q, want %q (message %q)", body.Error.Code, code, body.Error.Message)
	}
	if body.Error.Message == "" {
		t.Error("error message is empty, want one that says what to do")
	}
	return body.Error.Message
}
