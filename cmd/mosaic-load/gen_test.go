package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic/synth"
)

// runGen runs 'mosaic-load gen' with args and returns the file written.
func runGen(t *testing.T, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "journeys.jsonl")
	var stdout, stderr strings.Builder
	args = append([]string{"gen", "-out", out}, args...)
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("run(%q) = %d, want 0; stderr: %s", args, code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGenIsDeterministic(t *testing.T) {
	a := runGen(t, "-people", "40", "-seed", "3")
	if b := runGen(t, "-people", "40", "-seed", "3"); !bytes.Equal(a, b) {
		t.Errorf("gen -seed 3 twice wrote different files (%d and %d bytes)", len(a), len(b))
	}
	if c := runGen(t, "-people", "40", "-seed", "4"); bytes.Equal(a, c) {
		t.Errorf("gen -seed 3 and -seed 4 wrote the same file")
	}
}

func TestGenWritesMessagesAndTruth(t *testing.T) {
	truth := filepath.Join(t.TempDir(), "truth.jsonl")
	b := runGen(t, "-people", "60", "-events-per-person", "6", "-region", "US", "-truth", truth)
	ids := messageIDs(t, b)
	tb, err := os.ReadFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	var people []synth.Person
	dec := json.NewDecoder(bytes.NewReader(tb))
	for dec.More() {
		var p synth.Person
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("truth line %d: %v", len(people)+1, err)
		}
		people = append(people, p)
	}
	sum := 0
	for _, p := range people {
		sum += p.Messages
	}
	if len(people) != 60 || sum != len(ids) {
		t.Errorf("truth = %d people with %d messages, want 60 people with the %d messages written", len(people), sum, len(ids))
	}
}

// messageIDs checks every line is a JSON message and returns their ids.
func messageIDs(t *testing.T, jsonl []byte) []string {
	t.Helper()
	var ids []string
	for i, line := range bytes.Split(bytes.TrimSuffix(jsonl, []byte("\n")), []byte("\n")) {
		var m struct {
			MessageID string `json:"messageId"`
			Type      string `json:"type"`
		}
		if err := json.Unmarshal(line, &m); err != nil || m.MessageID == "" || m.Type == "" {
			t.Fatalf("line %d = %.200s: not a message with type and messageId (%v)", i+1, line, err)
		}
		ids = append(ids, m.MessageID)
	}
	return ids
}

func TestParseGenFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // substring; empty for success
	}{
		{"defaults", []string{"-out", "x.jsonl"}, ""},
		{"everything", []string{"-out", "-", "-people", "5", "-events-per-person", "3", "-seed", "9", "-start", "2025-03-01",
			"-days", "7", "-junk-rate", "0", "-shared-device-rate", "0.1", "-email-change-rate", "0.2", "-late-rate", "0.5",
			"-region", "GB", "-window", "8"}, ""},
		{"no output", nil, "set -out"},
		{"bad start", []string{"-out", "x", "-start", "yesterday"}, "-start"},
		{"bad region", []string{"-out", "x", "-region", "FR"}, "Region"},
		{"bad rate", []string{"-out", "x", "-late-rate", "2"}, "LateRate"},
		{"truth is output", []string{"-out", "x", "-truth", "x"}, "different files"},
		{"extra argument", []string{"-out", "x", "more"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseGenFlags(tt.args, io.Discard)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("parseGenFlags(%q) = %v, want no error", tt.args, err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("parseGenFlags(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestParseRunJourneyFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"journeys need no duration", []string{"-write-key", "k", "-journeys", "100"}, ""},
		{"journeys stay on this machine", []string{"-write-key", "k", "-journeys", "100", "-url", "http://192.0.2.1:8080"}, "only sends to this machine"},
		{"negative journeys", []string{"-write-key", "k", "-journeys", "-1", "-duration", "1s"}, "-journeys"},
		{"too few events", []string{"-write-key", "k", "-journeys", "10", "-events-per-person", "0"}, "-events-per-person"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseRunFlags(tt.args, io.Discard)
			if tt.wantErr == "" && (err != nil || cfg.Duration != maxJourneysDuration) {
				t.Fatalf("parseRunFlags(%q) = %v, want no error and duration %s", tt.args, err, maxJourneysDuration)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("parseRunFlags(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

// sink is a Tracking API that acknowledges everything and keeps the
// messageIds and paths it got.
type sink struct {
	mu    sync.Mutex
	ids   []string
	paths map[string]bool
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		MessageID string `json:"messageId"`
		Batch     []struct {
			MessageID string `json:"messageId"`
		} `json:"batch"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paths[r.URL.Path] = true
	if body.MessageID != "" {
		s.ids = append(s.ids, body.MessageID)
	}
	for _, m := range body.Batch {
		s.ids = append(s.ids, m.MessageID)
	}
	io.WriteString(w, `{"success":true}`)
}

// run -journeys sends exactly the messages gen writes for the same flags,
// each once, and stops by itself.
func TestRunSendsJourneys(t *testing.T) {
	want := messageIDs(t, runGen(t, "-people", "30", "-seed", "5"))
	tests := []struct {
		name      string
		args      []string
		wantPaths []string
	}{
		{"batch", []string{"-batch", "25"}, []string{"/v1/batch"}},
		{"track", []string{"-mode", "track"}, []string{"/v1/identify", "/v1/page", "/v1/screen", "/v1/track"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{paths: map[string]bool{}}
			srv := httptest.NewServer(s)
			defer srv.Close()
			args := append([]string{"run", "-url", srv.URL, "-write-key", "wk", "-journeys", "30", "-seed", "5",
				"-concurrency", "3", "-json", "-progress", "0"}, tt.args...)
			var stdout, stderr strings.Builder
			if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
				t.Fatalf("run(%q) = %d, want 0; stderr: %s", args, code, stderr.String())
			}
			var rep Report
			if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
				t.Fatalf("run -json printed %q: %v", stdout.String(), err)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if diff := cmp.Diff(slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(s.ids))); diff != "" {
				t.Errorf("messages sent differ from gen's (-gen +sent):\n%s", diff)
			}
			if !rep.JourneysComplete || rep.Journeys != 30 || rep.AckedEvents != uint64(len(want)) {
				t.Errorf("report = journeys %d complete %v acked %d, want 30 complete %d", rep.Journeys, rep.JourneysComplete, rep.AckedEvents, len(want))
			}
			if got := slices.Sorted(maps.Keys(s.paths)); !cmp.Equal(got, tt.wantPaths) {
				t.Errorf("paths posted to = %v, want %v", got, tt.wantPaths)
			}
		})
	}
}
