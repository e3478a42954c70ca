package engine

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
)

// tablet is the split_rule scenario: Bob signs up for the newsletter on
// the tablet Alice logged in on, so his email joins her profile.
var tablet = []string{
	`{"type":"identify","userId":"alice","anonymousId":"t-tab","traits":{"name":"Alice","email":"alice@mosaic.dev"},"timestamp":"2025-03-01T10:00:00Z"}`,
	`{"type":"track","anonymousId":"t-tab","event":"Product Viewed","timestamp":"2025-03-01T10:01:00Z"}`,
	`{"type":"identify","anonymousId":"t-tab","traits":{"name":"Bob","email":"bob@mosaic.dev"},"timestamp":"2025-03-01T10:02:00Z"}`,
	`{"type":"track","userId":"alice","event":"Order Completed","timestamp":"2025-03-01T10:03:00Z"}`,
}

// dump is every profile of a stage as the API shows it, with its
// timeline's seqs and identity history, by profile ID.
func dump(t *testing.T, p *Profiles) map[string]string {
	t.Helper()
	out := map[string]string{}
	for id := range p.graph().Profiles() {
		v, err := p.Profile(id.String())
		if err != nil {
			t.Fatal(err)
		}
		tl, err := p.Timeline(context.Background(), id.String(), time.Time{}, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, r := range tl {
			seqs = append(seqs, r.Seq)
		}
		iv, _ := p.Identity(id.String())
		b, _ := json.Marshal(map[string]any{"profile": v, "timeline": seqs, "history": iv.History})
		out[id.String()] = string(b)
	}
	return out
}

func split(t *testing.T, p *Profiles, ref string, req SplitRequest) *SplitOutcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := p.Split(ctx, ref, req)
	if err != nil {
		t.Fatalf("Split(%s, %+v): %v", ref, req, err)
	}
	return out
}

// TestProfilesSplit splits Bob's email off Alice's profile through the log:
// the dry run shows the outcome and changes nothing, the split rebuilds
// both profiles' traits, counts and timelines, survives a restart, keeps
// the link from being made again, and a replay of the log gives the same
// profiles.
func TestProfilesSplit(t *testing.T) {
	dir := t.TempDir()
	l, st := openLog(t, dir), openStore(t)
	opts := ProfileOptions{CheckpointEvery: 10 * time.Millisecond, Append: l.Append}
	p, stop := stages(t, l, st, opts)
	waitProfiles(t, p, appendMessages(t, l, tablet...))
	before := dump(t, p)
	alice, _ := p.Profile("user_id:alice")
	if string(alice.Traits["name"]) != `"Bob"` {
		t.Fatalf("before the split, name = %s, want Bob's (the newest write)", alice.Traits["name"])
	}
	bob := identity.Identifier{Type: "email", Value: " Bob@Mosaic.dev"}

	dry := split(t, p, "user_id:alice", SplitRequest{Identifier: &bob, DryRun: true})
	checkSplitOutcome(t, dry)
	if after := dump(t, p); !reflect.DeepEqual(after, before) {
		t.Errorf("a dry run changed profiles:\n%v\nwant\n%v", after, before)
	}

	applied := split(t, p, alice.ID.String(), SplitRequest{Identifier: &bob})
	checkSplitOutcome(t, applied)
	if !reflect.DeepEqual(applied.Profiles, dry.Profiles) {
		t.Errorf("applied profiles differ from the dry run:\n%s\nwant\n%s", mustJSON(applied.Profiles), mustJSON(dry.Profiles))
	}
	b, _ := p.Profile("email:bob@mosaic.dev")
	iv, _ := p.Identity(b.ID.String())
	if n := len(iv.History); n == 0 || iv.History[n-1].Kind != identity.DecisionSplit || iv.History[n-1].Seq != applied.Seq {
		t.Errorf("history of Bob's profile = %s, want it to end with the split at %d", mustJSON(iv.History), applied.Seq)
	}

	// Bob uses the tablet again: the never-link rule keeps him apart, while
	// his own new device joins him.
	waitProfiles(t, p, appendMessages(t, l,
		`{"type":"identify","anonymousId":"t-tab","traits":{"email":"bob@mosaic.dev"},"timestamp":"2025-03-02T10:00:00Z"}`,
		`{"type":"identify","anonymousId":"b-phone","traits":{"email":"bob@mosaic.dev"},"timestamp":"2025-03-02T11:00:00Z"}`))
	a2, _ := p.Find("user_id:alice")
	b2, _ := p.Find("email:bob@mosaic.dev")
	phone, _ := p.Find("anonymous_id:b-phone")
	if a2 == b2 || phone != b2 {
		t.Errorf("after the split alice=%s bob=%s b-phone=%s; want bob apart from alice, b-phone with bob", a2, b2, phone)
	}
	if _, err := p.Split(context.Background(), "user_id:alice", SplitRequest{Identifier: &bob}); !isCode(err, mosaic.ENOTFOUND) {
		t.Errorf("splitting an identifier no longer in the profile = %v, want %s", err, mosaic.ENOTFOUND)
	}
	want := dump(t, p)
	stop()

	t.Run("restart", func(t *testing.T) {
		p, stop := stages(t, l, st, opts)
		defer stop()
		waitProfiles(t, p, l.LastSeq())
		diffDumps(t, "after a restart", dump(t, p), want)
	})
	t.Run("replay", func(t *testing.T) {
		fresh := openStore(t)
		p, stop := stages(t, l, fresh, ProfileOptions{})
		defer stop()
		waitProfiles(t, p, l.LastSeq())
		diffDumps(t, "replay", dump(t, p), want)
	})
}

func checkSplitOutcome(t *testing.T, o *SplitOutcome) {
	t.Helper()
	if len(o.Profiles) != 2 {
		t.Fatalf("split outcome has %d profiles, want 2: %s", len(o.Profiles), mustJSON(o))
	}
	byName := map[string]*ProfileView{}
	for _, v := range o.Profiles {
		var name string
		_ = json.Unmarshal(v.Traits["name"], &name)
		byName[name] = v
	}
	a, b := byName["Alice"], byName["Bob"]
	if a == nil || b == nil {
		t.Fatalf("split outcome profiles = %s, want one named Alice and one named Bob", mustJSON(o.Profiles))
	}
	if a.EventCounts.Total != 3 || b.EventCounts.Total != 1 {
		t.Errorf("events: Alice %d, Bob %d; want 3 and 1", a.EventCounts.Total, b.EventCounts.Total)
	}
	if o.Rule.A != (identity.Identifier{Type: "email", Value: "bob@mosaic.dev"}) || o.Rule.B != (identity.Identifier{Type: "user_id", Value: "alice"}) {
		t.Errorf("rule = %+v, want email:bob@mosaic.dev / user_id:alice", o.Rule)
	}
}

func isCode(err error, code string) bool {
	var me *mosaic.Error
	return errors.As(err, &me) && me.Code == code
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// diffDumps reports where each profile of got differs from want.
func diffDumps(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: profile %s, which was not there", what, id)
		}
	}
	for id, w := range want {
		g := got[id]
		if g == w {
			continue
		}
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		lo := max(0, i-150)
		t.Errorf("%s: profile %s differs at byte %d:\n…%s\nwant\n…%s", what, id, i, g[lo:min(len(g), i+150)], w[lo:min(len(w), i+150)])
	}
}
