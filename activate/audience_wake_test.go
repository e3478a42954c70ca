package activate

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// oneAudience is a directory of one audience, "gold", with no members
// yet and profiles known by ID alone.
type oneAudience struct{}

func (oneAudience) Audience(ref string) (AudienceInfo, bool) {
	if ref != "a1" && ref != "gold" {
		return AudienceInfo{}, false
	}
	return AudienceInfo{ID: "a1", Key: "gold", Name: "Gold"}, true
}

func (oneAudience) Members(string, uint64, int) ([]Member, error) { return nil, nil }

func (oneAudience) Profile(id uint64) (ProfileInfo, bool) {
	return ProfileInfo{Identifiers: map[string][]string{}, Traits: map[string]any{}}, true
}

// TestAudienceNotify: with a poll of an hour, a saved change is queued
// and sent as soon as Notify is called.
func TestAudienceNotify(t *testing.T) {
	st, rcv := openStore(t), newReceiver(t)
	svc := New(st, Options{HTTP: loopbackClient(), Consent: allowAll{}, Poll: 10 * time.Millisecond})
	aud := NewAudienceDelivery(st, oneAudience{}, svc, AudienceOptions{Poll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = svc.Run(ctx); done <- struct{}{} }()
	defer func() { cancel(); <-done; <-done }()
	waitFor(t, "service start", func() bool { svc.mu.Lock(); defer svc.mu.Unlock(); return svc.ctx != nil })
	v, err := svc.Create(ctx, Input{Name: "hook", Type: "webhook", Settings: map[string]any{"url": rcv.srv.URL},
		Purposes: []string{"marketing"}, Audiences: []string{"gold"}})
	if err != nil {
		t.Fatalf("Create = %v", err)
	}
	rcv.secret = v.Secret
	save := func(version uint64, id int64) {
		t.Helper()
		c := &store.SegmentCommit{Version: version, Seq: version, Changes: []store.AudienceChange{
			{ID: id, AudienceID: "a1", ProfileID: uint64(id), Entered: true, At: time.Now(), Cause: "{}"}}}
		if err := st.SaveSegments(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	save(1, 1) // read by Run's first look, before it goes idle
	go func() { _ = aud.Run(ctx); done <- struct{}{} }()
	waitFor(t, "the first change delivered", func() bool { return len(rcv.deliveredIDs()) == 1 })
	save(2, 2)
	svc.AudienceChangesSaved()
	waitFor(t, "the second change delivered after Notify", func() bool { return len(rcv.deliveredIDs()) == 2 })
}

// countingChanges counts the reads of the audience change list.
type countingChanges struct {
	AudienceStore
	reads atomic.Int32
}

func (c *countingChanges) AudienceChanges(ctx context.Context, audienceID string, afterID int64, limit int) ([]store.AudienceChange, error) {
	c.reads.Add(1)
	return c.AudienceStore.AudienceChanges(ctx, audienceID, afterID, limit)
}

// TestAudiencePassWithoutSubscribers: while no destination subscribes to
// an audience, the cursor moves past the changes without reading them;
// a destination that subscribes then gets the changes after its horizon,
// and no earlier one.
func TestAudiencePassWithoutSubscribers(t *testing.T) {
	st, rcv := openStore(t), newReceiver(t)
	counted := &countingChanges{AudienceStore: st}
	svc := New(st, Options{HTTP: loopbackClient(), Consent: allowAll{}, Poll: 10 * time.Millisecond})
	aud := NewAudienceDelivery(counted, oneAudience{}, svc, AudienceOptions{Poll: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = svc.Run(ctx); done <- struct{}{} }()
	go func() { _ = aud.Run(ctx); done <- struct{}{} }()
	defer func() { cancel(); <-done; <-done }()
	save := func(version uint64, ids ...int64) {
		t.Helper()
		c := &store.SegmentCommit{Version: version, Seq: version}
		for _, id := range ids {
			c.Changes = append(c.Changes, store.AudienceChange{ID: id, AudienceID: "a1", ProfileID: uint64(id), Entered: true, At: time.Now(), Cause: "{}"})
		}
		if err := st.SaveSegments(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	cursorAt := func(want int64) func() bool {
		return func() bool { c, err := st.AudienceCursor(context.Background()); return err == nil && c == want }
	}
	// A destination of events only subscribes to no audience.
	if _, err := svc.Create(ctx, Input{Name: "events", Type: "webhook", Settings: map[string]any{"url": rcv.srv.URL},
		Purposes: []string{"marketing"}, Events: &EventFilter{Names: []string{"Order Completed"}}}); err != nil {
		t.Fatalf("Create = %v", err)
	}
	save(1, 1, 2, 3)
	waitFor(t, "the cursor past the first changes", cursorAt(3))
	save(2, 5) // 4 is a gap: its save commits late
	waitFor(t, "the cursor past the gap", cursorAt(5))
	if n := counted.reads.Load(); n != 0 {
		t.Fatalf("the change list was read %d times with no subscriber; want 0", n)
	}
	save(3, 4)
	v, err := svc.Create(ctx, Input{Name: "hook", Type: "webhook", Settings: map[string]any{"url": rcv.srv.URL},
		Purposes: []string{"marketing"}, Audiences: []string{"gold"}})
	if err != nil {
		t.Fatalf("Create = %v", err)
	}
	rcv.secret = v.Secret
	save(4, 6)
	waitFor(t, "the change after the subscription delivered", func() bool { return len(rcv.deliveredIDs()) == 1 })
	waitFor(t, "the cursor past it", cursorAt(6))
	time.Sleep(50 * time.Millisecond) // would an earlier change follow?
	if got := rcv.deliveredIDs(); len(got) != 1 {
		t.Fatalf("delivered %v; want only the change after the subscription", got)
	}
}
