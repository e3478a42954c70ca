package profile

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
)

// tb is what the helpers need of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// received is the receivedAt of test events unless a test sets another.
var received = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// event returns a log event of the given type from source "web" with the
// message msg, which is used as it is.
func event(seq uint64, typ, msg string) *mosaic.Event {
	return &mosaic.Event{Seq: seq, SourceID: "web", MessageID: fmt.Sprintf("m%d", seq),
		Type: typ, ReceivedAt: received, Message: []byte(msg)}
}

// applyAll applies evs to a new profile with ID 1, failing on an error.
func applyAll(t tb, evs ...*mosaic.Event) *Profile {
	t.Helper()
	p := New(1)
	for _, ev := range evs {
		if err := Apply(p, ev); err != nil {
			t.Fatalf("Apply(seq %d) = %v, want nil", ev.Seq, err)
		}
	}
	return p
}

// viewJSON returns View(p) as a generic JSON value.
func viewJSON(t tb, p *Profile) map[string]any {
	t.Helper()
	b, err := json.Marshal(View(p))
	if err != nil {
		t.Fatalf("json.Marshal(View(%d)) = %v", p.ID, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("json.Unmarshal(View) = %v", err)
	}
	return m
}

// checkView compares the members of the JSON object want with those of
// View(p); members want does not have are not compared.
func checkView(t *testing.T, p *Profile, want string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	got := viewJSON(t, p)
	for k, wv := range w {
		if diff := cmp.Diff(wv, got[k]); diff != "" {
			t.Errorf("View(p)[%q] mismatch (-want +got):\n%s", k, diff)
		}
	}
}

// state returns p's binary form with the ID left out, to compare the state
// of profiles with different IDs.
func state(t tb, p *Profile) []byte {
	t.Helper()
	q := *p
	q.ID = 0
	b, err := q.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary(%d) = %v", p.ID, err)
	}
	return b
}
