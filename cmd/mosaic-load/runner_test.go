package main

import (
	"compress/gzip"
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
	"time"

	"github.com/google/go-cmp/cmp"
)

// collector is a small Tracking API that answers by a fixed rotation of
// statuses and remembers the messageIds of the requests it answered 200:
// the ground truth the record file must match exactly.
type collector struct {
	mu     sync.Mutex
	n      int
	acked  []string
	paths  map[string]int
	auths  map[string]bool
	gzips  int
	plains int
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ids, err := c.messageIDs(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.paths[r.URL.Path]++
	user, pass, _ := r.BasicAuth()
	c.auths[user+":"+pass] = true
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
	case c.n%7 == 0:
		http.Error(w, `{"error":{"code":"internal"}}`, http.StatusInternalServerError)
	case c.n%5 == 0:
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"error":{"code":"rate_limited"}}`, http.StatusTooManyRequests)
	default:
		c.acked = append(c.acked, ids...)
		io.WriteString(w, `{"success":true}`)
	}
}

// messageIDs decodes a batch or a single call.
func (c *collector) messageIDs(r *http.Request) ([]string, error) {
	body := r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		body = zr
	}
	var msg struct {
		MessageID string `json:"messageId"`
		Batch     []struct {
			MessageID string `json:"messageId"`
		} `json:"batch"`
	}
	if err := json.NewDecoder(body).Decode(&msg); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if r.Header.Get("Content-Encoding") == "gzip" {
		c.gzips++
	} else {
		c.plains++
	}
	c.mu.Unlock()
	if r.URL.Path != "/v1/batch" {
		return []string{msg.MessageID}, nil
	}
	ids := make([]string, len(msg.Batch))
	for i, m := range msg.Batch {
		ids[i] = m.MessageID
	}
	return ids, nil
}

func TestRunRecordsOnlyAcknowledged(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantPaths []string
	}{
		{"batch", []string{"-mode", "batch", "-batch", "10"}, []string{"/v1/batch"}},
		{"track gzip", []string{"-mode", "track", "-gzip"}, []string{"/v1/identify", "/v1/page", "/v1/track"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &collector{paths: map[string]int{}, auths: map[string]bool{}}
			srv := httptest.NewServer(c)
			defer srv.Close()
			record := filepath.Join(t.TempDir(), "acked.txt")
			args := append([]string{"run", "-url", srv.URL, "-write-key", "wk", "-concurrency", "4",
				"-duration", "300ms", "-rate", "200", "-record", record, "-json", "-progress", "0"}, tt.args...)
			var stdout, stderr strings.Builder
			if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
				t.Fatalf("run(%q) = %d, want 0; stderr: %s", args, code, stderr.String())
			}
			var rep Report
			if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
				t.Fatalf("run -json printed %q, not a report: %v", stdout.String(), err)
			}
			checkCollected(t, c, rep, readLines(t, record), tt.wantPaths)
		})
	}
}

// checkCollected compares what the collector acknowledged with the record
// file and the report.
func checkCollected(t *testing.T, c *collector, rep Report, recorded []string, wantPaths []string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if diff := cmp.Diff(slices.Sorted(slices.Values(c.acked)), slices.Sorted(slices.Values(recorded))); diff != "" {
		t.Errorf("record file differs from acknowledged messageIds (-acked +recorded):\n%s", diff)
	}
	if rep.AckedEvents != uint64(len(c.acked)) || rep.Recorded != uint64(len(c.acked)) {
		t.Errorf("report acked_events = %d, recorded = %d, want %d", rep.AckedEvents, rep.Recorded, len(c.acked))
	}
	if rep.Requests != uint64(c.n) || rep.Errors["HTTP 500"].Count == 0 || rep.Errors["HTTP 429"].Count == 0 {
		t.Errorf("report requests = %d, errors = %v; want %d requests with HTTP 500 and 429 counted", rep.Requests, rep.Errors, c.n)
	}
	if rep.Latency.Count != uint64(c.n) || rep.Latency.P99 <= 0 || rep.Latency.Max < rep.Latency.P99 {
		t.Errorf("report latency = %+v, want %d samples with 0 < p99 ≤ max", rep.Latency, c.n)
	}
	if got := slices.Sorted(maps.Keys(c.paths)); !cmp.Equal(got, wantPaths) {
		t.Errorf("paths posted to = %v, want %v", got, wantPaths)
	}
	if !c.auths["wk:"] || len(c.auths) != 1 {
		t.Errorf("basic auth seen = %v, want only write key wk with an empty password", c.auths)
	}
	if rep.Gzip != (c.gzips > 0) || (c.gzips > 0 && c.plains > 0) {
		t.Errorf("report gzip = %v, server saw %d gzipped and %d plain bodies", rep.Gzip, c.gzips, c.plains)
	}
}

func TestRunCountsConnectionErrors(t *testing.T) {
	// Nothing listens on the port of a closed server: every attempt must be
	// counted as an error, none recorded, and the run must still end on time.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	cfg, err := parseRunFlags([]string{"-url", srv.URL, "-write-key", "wk", "-concurrency", "2", "-duration", "200ms"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(t.TempDir(), "acked.txt")
	rec, err := CreateRecorder(record)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep := NewRunner(cfg, "wk", rec).Run(context.Background(), nil)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Run() took %v, want it to stop after its 200ms duration", elapsed)
	}
	if rep.AckedEvents != 0 || rep.Errors["connection refused"].Count == 0 || rep.Requests == 0 {
		t.Errorf("Run() against nothing = acked %d, errors %v, want 0 acked and connection refused counted", rep.AckedEvents, rep.Errors)
	}
	if lines := readLines(t, record); len(lines) != 0 {
		t.Errorf("record file has %d ids, want none", len(lines))
	}
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}
