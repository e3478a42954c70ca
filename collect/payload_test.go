package collect

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/payloads")

// payloadCase is a request as an SDK sends it, read from testdata/payloads.
type payloadCase struct {
	Path        string          `json:"path"`
	Auth        string          `json:"auth"` // "basic" or "body" (the body has a writeKey)
	ContentType string          `json:"contentType"`
	Body        json.RawMessage `json:"body"` // sent byte for byte
}

// TestPayloads sends real SDK payloads and compares the response and the
// stored records with the golden files. Run with -update after a deliberate
// change, and review the diff.
func TestPayloads(t *testing.T) {
	files, err := filepath.Glob("testdata/payloads/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no payloads in testdata/payloads (%v)", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			var pc payloadCase
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &pc); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			got := runPayload(t, &pc)
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestPayloads -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: output differs from %s:\ngot:\n%s\nwant:\n%s", file, golden, got, want)
			}
		})
	}
}

// runPayload sends the case and describes what happened: the status, the
// response, then each stored record and each quarantined message.
func runPayload(t *testing.T, pc *payloadCase) []byte {
	t.Helper()
	e := newTestEnv(t)
	var headers []string
	if pc.Auth == "body" {
		headers = append(headers, "Authorization", "")
	}
	if pc.ContentType != "" {
		headers = append(headers, "Content-Type", pc.ContentType)
	}
	w := e.post(t, pc.Path, pc.Body, headers...)
	var out bytes.Buffer
	fmt.Fprintf(&out, "status %d\n%s", w.Code, w.Body)
	for _, ev := range e.log.events(t) {
		fmt.Fprintf(&out, "record seq=%d source=%s type=%s messageId=%s receivedAt=%s\n%s\n",
			ev.Seq, ev.SourceID, ev.Type, ev.MessageID, ev.ReceivedAt.UTC().Format("2006-01-02T15:04:05Z07:00"), ev.Message)
		if !json.Valid(ev.Message) {
			t.Errorf("stored message %s is not JSON", ev.Message)
		}
	}
	for _, r := range e.q.all() {
		fmt.Fprintf(&out, "quarantined index=%d code=%s\n%s\n", r.Index, r.Code, r.Raw)
	}
	return out.Bytes()
}
