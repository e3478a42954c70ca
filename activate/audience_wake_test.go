package activate

import (
	"context"
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
