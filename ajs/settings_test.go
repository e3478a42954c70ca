package ajs

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestSettingsGolden pins the whole settings document. Run with -update after
// a deliberate change, and check the diff with analytics-next's sources.
func TestSettingsGolden(t *testing.T) {
	h := NewHandler(newKeyring("wk_golden"), Options{})
	w := do(t, h, http.MethodGet, "/v1/projects/wk_golden/settings")
	if w.Code != http.StatusOK {
		t.Fatalf("GET settings = %d, want 200; body %s", w.Code, w.Body)
	}
	var doc any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("settings are not JSON: %v", err)
	}
	got, _ := json.MarshalIndent(doc, "", "  ")
	got = append(got, '\n')
	golden := filepath.Join("testdata", "settings.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading %s: %v (run go test -update to create it)", golden, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("settings differ from %s (-want +got):\n%s", golden, diff)
	}
}

// segmentIO decodes the fields of the settings that steer event delivery.
func segmentIO(t *testing.T, w *httptest.ResponseRecorder) segmentIOSettings {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("GET settings = %d, want 200; body %s", w.Code, w.Body)
	}
	var doc struct {
		Integrations map[string]segmentIOSettings  `json:"integrations"`
		Metrics      struct{ SampleRate *float64 } `json:"metrics"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("settings are not JSON: %v", err)
	}
	if len(doc.Integrations) != 1 {
		t.Errorf("integrations = %v, want only Segment.io (others load destination code from Segment's CDN)", doc.Integrations)
	}
	if doc.Metrics.SampleRate == nil || *doc.Metrics.SampleRate != 0 {
		t.Errorf("metrics.sampleRate = %v, want 0 (else the library posts metrics to Segment)", doc.Metrics.SampleRate)
	}
	return doc.Integrations["Segment.io"]
}

func TestSettingsAPIHost(t *testing.T) {
	tests := []struct {
		name      string
		publicURL string
		host      string
		tls       bool
		header    []string
		want      segmentIOSettings
	}{
		{"host", "", "cdp.example.com", false, nil,
			segmentIOSettings{"wk_1", "cdp.example.com/v1", "http"}},
		{"host and port", "", "127.0.0.1:8080", false, nil,
			segmentIOSettings{"wk_1", "127.0.0.1:8080/v1", "http"}},
		{"tls", "", "cdp.example.com", true, nil,
			segmentIOSettings{"wk_1", "cdp.example.com/v1", "https"}},
		{"forwarded https", "", "cdp.example.com", false, []string{"X-Forwarded-Proto", "https"},
			segmentIOSettings{"wk_1", "cdp.example.com/v1", "https"}},
		{"forwarded chain", "", "cdp.example.com", false, []string{"X-Forwarded-Proto", "HTTPS, http"},
			segmentIOSettings{"wk_1", "cdp.example.com/v1", "https"}},
		{"forwarded http over tls", "", "cdp.example.com", true, []string{"X-Forwarded-Proto", "http"},
			segmentIOSettings{"wk_1", "cdp.example.com/v1", "http"}},
		{"forwarded nonsense", "", "cdp.example.com", false, []string{"X-Forwarded-Proto", "gopher"},
			segmentIOSettings{"wk_1", "cdp.example.com/v1", "http"}},
		{"public URL", "https://events.example.com", "10.0.0.5:8080", false, []string{"X-Forwarded-Proto", "http"},
			segmentIOSettings{"wk_1", "events.example.com/v1", "https"}},
		{"public URL with port and prefix", "http://example.com:8443/mosaic/", "internal", true, nil,
			segmentIOSettings{"wk_1", "example.com:8443/mosaic/v1", "http"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHandler(newKeyring("wk_1"), Options{PublicURL: tt.publicURL})
			r := httptest.NewRequest(http.MethodGet, "/v1/projects/wk_1/settings", nil)
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for i := 0; i+1 < len(tt.header); i += 2 {
				r.Header.Set(tt.header[i], tt.header[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if diff := cmp.Diff(tt.want, segmentIO(t, w)); diff != "" {
				t.Errorf("Segment.io settings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSettingsHeaders(t *testing.T) {
	tests := []struct {
		name, path, publicURL, vary string
	}{
		{"from request", "/v1/projects/wk_1/settings", "", "X-Forwarded-Proto"},
		{"trailing slash", "/v1/projects/wk_1/settings/", "", "X-Forwarded-Proto"},
		{"public URL", "/v1/projects/wk_1/settings", "https://cdp.example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, NewHandler(newKeyring("wk_1"), Options{PublicURL: tt.publicURL}), http.MethodGet, tt.path)
			if got := segmentIO(t, w); got.APIKey != "wk_1" {
				t.Errorf("apiKey = %q, want wk_1", got.APIKey)
			}
			checkHeaders(t, w, map[string]string{
				"Content-Type":                "application/json",
				"Cache-Control":               "public, max-age=60",
				"Access-Control-Allow-Origin": "*",
				"Vary":                        tt.vary,
			})
		})
	}
}

func TestSettingsUnknownKey(t *testing.T) {
	keys := newKeyring("wk_live", "wk_deleted")
	keys.remove("wk_deleted")
	h := NewHandler(keys, Options{})
	long := strings.Repeat("k", 500)
	for _, key := range []string{"wk_unknown", "wk_deleted", "WK_LIVE", long} {
		t.Run(key[:min(len(key), 20)], func(t *testing.T) {
			w := do(t, h, http.MethodGet, "/v1/projects/"+key+"/settings")
			msg := checkError(t, w, http.StatusNotFound, "not_found")
			if !strings.Contains(msg, "Unknown write key") || !strings.Contains(msg, "mosaic sources") {
				t.Errorf("message = %q, want it to name the unknown write key and how to get one", msg)
			}
			if len(msg) > 400 {
				t.Errorf("message is %d bytes, want the key cut short", len(msg))
			}
			checkHeaders(t, w, map[string]string{"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"})
		})
	}
	t.Run("key added later", func(t *testing.T) {
		keys.add(source("wk_new"))
		if got := segmentIO(t, do(t, h, http.MethodGet, "/v1/projects/wk_new/settings")); got.APIKey != "wk_new" {
			t.Errorf("apiKey = %q, want wk_new", got.APIKey)
		}
	})
}

func TestSettingsLookupFails(t *testing.T) {
	keys := newKeyring("wk_1")
	keys.fail = errDiskOnFire
	w := do(t, NewHandler(keys, Options{Logger: discardLogger()}), http.MethodGet, "/v1/projects/wk_1/settings")
	msg := checkError(t, w, http.StatusInternalServerError, "internal")
	if strings.Contains(msg, errDiskOnFire.Error()) {
		t.Errorf("message %q shows the internal error, want a generic one", msg)
	}
}

func TestSettingsNoHost(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/v1/projects/wk_1/settings", nil)
	r.Host = ""
	w := httptest.NewRecorder()
	NewHandler(newKeyring("wk_1"), Options{}).ServeHTTP(w, r)
	checkError(t, w, http.StatusBadRequest, "invalid")
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		publicURL string
		ok        bool
	}{
		{"", true},
		{"https://cdp.example.com", true},
		{"http://127.0.0.1:8080", true},
		{"https://example.com/mosaic/", true},
		{"cdp.example.com", false},
		{"ftp://cdp.example.com", false},
		{"https://", false},
		{"https://user:pw@cdp.example.com", false},
		{"https://cdp.example.com/?a=b", false},
		{"https://cdp.example.com/#x", false},
		{"https://cdp example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.publicURL, func(t *testing.T) {
			err := Options{PublicURL: tt.publicURL}.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Options{PublicURL: %q}.Validate() = %v, want ok %v", tt.publicURL, err, tt.ok)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("NewHandler with an invalid PublicURL did not panic")
		}
	}()
	NewHandler(newKeyring(), Options{PublicURL: "ftp://x"})
}

func BenchmarkSettings(b *testing.B) {
	h := NewHandler(newKeyring("wk_1"), Options{})
	r := httptest.NewRequest(http.MethodGet, "/v1/projects/wk_1/settings", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(discard{}, r)
	}
}
