package engine

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/eventlog"
)

// erin is erased; nick's profile was refused a merge with hers (his event
// carried her email), so it is rebuilt without that event; uma is
// unrelated.
var erinNickUma = []string{
	`{"type":"identify","userId":"erin","anonymousId":"e-1","traits":{"name":"Erin","email":"erin@mosaic.dev"},"timestamp":"2025-03-01T10:00:00Z"}`,
	`{"type":"identify","userId":"uma","traits":{"name":"Uma","email":"uma@mosaic.dev"},"timestamp":"2025-03-01T10:00:30Z"}`,
	`{"type":"track","anonymousId":"e-2","event":"Product Viewed","timestamp":"2025-03-01T10:01:00Z"}`,
	`{"type":"identify","anonymousId":"e-2","traits":{"email":"erin@mosaic.dev"},"timestamp":"2025-03-01T10:02:00Z"}`,
	`{"type":"identify","userId":"nick","traits":{"name":"Nick"},"timestamp":"2025-03-01T10:03:00Z"}`,
	`{"type":"identify","userId":"nick","traits":{"email":"erin@mosaic.dev","plan":"erin-shared"},"timestamp":"2025-03-01T10:04:00Z"}`,
	`{"type":"track","userId":"uma","event":"Order Completed","timestamp":"2025-03-01T10:05:00Z"}`,
	`{"type":"track","userId":"nick","event":"Order Completed","timestamp":"2025-03-01T10:06:00Z"}`,
	`{"type":"track","userId":"erin","event":"Order Completed","timestamp":"2025-03-01T10:07:00Z"}`,
}

// tombstoneForTest replaces a record with an event that carries nothing,
// of the same size, as the server's erasure does.
func tombstoneForTest(_ uint64, old []byte) []byte {
	ev := mosaic.Event{SourceID: "mosaic:erased", MessageID: "erased", Type: "erased", Message: []byte(`{}`)}
	b, _ := ev.MarshalBinary()
	return append(b, bytes.Repeat([]byte{' '}, len(old)-len(b))...)
}

func redactWith(l *eventlog.Log) RedactFunc {
	return func(seqs []uint64) (int, error) { return l.Redact(seqs, tombstoneForTest) }
}

// TestProfilesErase erases Erin while the stage runs: she is gone from the
// graph, the profiles, the store and the log; Nick, whom a refused merge
// linked to her, is rebuilt without the event that carried her email; Uma
// is untouched; and a restart and a replay of the redacted log give the
// same profiles.
func TestProfilesErase(t *testing.T) {
	dir := t.TempDir()
	l, st := openLog(t, dir), openStore(t)
	opts := ProfileOptions{CheckpointEvery: 10 * time.Millisecond, Append: l.Append, Redact: redactWith(l)}
	p, stop := stages(t, l, st, opts)
	waitProfiles(t, p, appendMessages(t, l, erinNickUma...))
	before := dump(t, p)
	erin, err := p.Identity("user_id:erin")
	if err != nil {
		t.Fatal(err)
	}
	nick, _ := p.Find("user_id:nick")
	uma, _ := p.Find("user_id:uma")
	nickHistory, _ := p.Identity(nick.String())
	if !strings.Contains(mustJSON(nickHistory.History), "erin@mosaic.dev") {
		t.Fatalf("Nick's history = %s; the test needs a refusal naming Erin's email", mustJSON(nickHistory.History))
	}
	absorbed := 0
	for _, d := range erin.History {
		if d.Kind == "merge" {
			absorbed++
		}
	}
	if absorbed == 0 {
		t.Fatalf("Erin's history = %s; the test needs a merge into her profile", mustJSON(erin.History))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := p.Erase(ctx, "email:erin@mosaic.dev")
	if err != nil {
		t.Fatalf("Erase: %v", err)
	}
	if len(out.Profiles) != 1 || out.Profiles[0] != erin.ID || out.Events != 5 || len(out.Absorbed) != absorbed || len(out.Rebuilt) != 1 || out.Rebuilt[0] != nick {
		t.Errorf("outcome = %s; want profile %s, 5 events (4 of hers and Nick's that carried her email), %d absorbed, Nick rebuilt", mustJSON(out), erin.ID, absorbed)
	}
	for _, ref := range []string{"user_id:erin", "email:erin@mosaic.dev", "anonymous_id:e-1", "anonymous_id:e-2", erin.ID.String(), out.Absorbed[0].String()} {
		if _, err := p.Find(ref); !isCode(err, mosaic.ENOTFOUND) {
			t.Errorf("Find(%s) after the erasure = %v, want %s", ref, err, mosaic.ENOTFOUND)
		}
	}
	after := dump(t, p)
	if after[uma.String()] != before[uma.String()] {
		t.Errorf("Uma changed:\n%s\nwas\n%s", after[uma.String()], before[uma.String()])
	}
	if strings.Contains(after[nick.String()], "erin") {
		t.Errorf("Nick's profile still names Erin: %s", after[nick.String()])
	}
	if !strings.Contains(after[nick.String()], `"Nick"`) || !strings.Contains(after[nick.String()], "Order Completed") {
		t.Errorf("Nick's profile lost his own data: %s", after[nick.String()])
	}
	if rows, _ := st.Timeline(ctx, uint64(erin.ID), time.Time{}, 0, 10); len(rows) != 0 {
		t.Errorf("Erin's stored timeline = %d rows, want none", len(rows))
	}
	if ds, _ := st.Decisions(ctx, uint64(nick)); strings.Contains(mustJSON(ds), "erin") {
		t.Errorf("Nick's stored decisions still name Erin: %s", mustJSON(ds))
	}
	err = l.Scan(0, func(r eventlog.Record) error {
		if bytes.Contains(r.Data, []byte("erin")) {
			t.Errorf("log record %d still holds Erin's data: %q", r.Seq, r.Data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if _, graph, _, _ := st.ProfileCheckpoint(ctx); bytes.Contains(graph, []byte("erin")) {
		t.Error("the saved identity graph still holds Erin's identifiers")
	}

	t.Run("restart", func(t *testing.T) {
		p, stop := stages(t, l, st, opts)
		defer stop()
		waitProfiles(t, p, l.LastSeq())
		diffDumps(t, "after a restart", dump(t, p), after)
	})
	t.Run("replay", func(t *testing.T) {
		fresh := openStore(t)
		p, stop := stages(t, l, fresh, ProfileOptions{})
		defer stop()
		waitProfiles(t, p, l.LastSeq())
		diffDumps(t, "replay", dump(t, p), after)
	})
}

// TestProfilesEraseMany erases several profiles in one command, as the
// expiry of anonymous profiles does; a name that finds no profile is left
// out, the others stay, and a replay of the redacted log agrees.
func TestProfilesEraseMany(t *testing.T) {
	dir := t.TempDir()
	l, st := openLog(t, dir), openStore(t)
	opts := ProfileOptions{CheckpointEvery: 10 * time.Millisecond, Append: l.Append, Redact: redactWith(l)}
	p, stop := stages(t, l, st, opts)
	defer stop()
	waitProfiles(t, p, appendMessages(t, l,
		`{"type":"page","anonymousId":"anon-aaa-1","name":"Home","timestamp":"2025-03-01T10:00:00Z"}`,
		`{"type":"page","anonymousId":"anon-bbb-2","name":"Shoes","timestamp":"2025-03-01T10:01:00Z"}`,
		`{"type":"page","anonymousId":"anon-ccc-3","name":"Home","timestamp":"2025-03-01T10:02:00Z"}`,
		`{"type":"identify","userId":"usr-ddd-4","traits":{"name":"Dee"},"timestamp":"2025-03-01T10:03:00Z"}`,
		`{"type":"page","anonymousId":"anon-aaa-1","name":"Cart","timestamp":"2025-03-01T10:04:00Z"}`))
	keep := map[string]string{}
	for _, ref := range []string{"anonymous_id:anon-ccc-3", "user_id:usr-ddd-4"} {
		id, _ := p.Find(ref)
		keep[id.String()] = dump(t, p)[id.String()]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := p.Erase(ctx, "anonymous_id:anon-aaa-1", "anonymous_id:anon-bbb-2", "anonymous_id:nobody")
	if err != nil {
		t.Fatalf("Erase: %v", err)
	}
	if len(out.Profiles) != 2 || out.Events != 3 {
		t.Errorf("outcome = %s, want 2 profiles and 3 events erased", mustJSON(out))
	}
	for _, ref := range []string{"anonymous_id:anon-aaa-1", "anonymous_id:anon-bbb-2"} {
		if _, err := p.Find(ref); !isCode(err, mosaic.ENOTFOUND) {
			t.Errorf("Find(%s) after the erasure = %v, want %s", ref, err, mosaic.ENOTFOUND)
		}
	}
	after := dump(t, p)
	for id, want := range keep {
		if after[id] != want {
			t.Errorf("profile %s changed:\n%s\nwas\n%s", id, after[id], want)
		}
	}
	err = l.Scan(0, func(r eventlog.Record) error {
		if bytes.Contains(r.Data, []byte("anon-aaa-1")) || bytes.Contains(r.Data, []byte("anon-bbb-2")) {
			t.Errorf("log record %d still holds an erased profile's data", r.Seq)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Erase(ctx, "anonymous_id:nobody"); !isCode(err, mosaic.ENOTFOUND) {
		t.Errorf("Erase of no profile = %v, want %s", err, mosaic.ENOTFOUND)
	}
	fresh := openStore(t)
	r, stopReplay := stages(t, l, fresh, ProfileOptions{})
	defer stopReplay()
	waitProfiles(t, r, l.LastSeq())
	diffDumps(t, "replay", dump(t, r), after)
}
