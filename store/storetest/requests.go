package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// privacy checks requests, the suppression list, erasure from the
// quarantine and Compact.
func (s suite) privacy(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	r := &store.PrivacyRequest{ID: "r1", Type: "erase", IdentifierType: "email", Identifier: "a@b.nl", IdentifierHash: "h1", Law: "gdpr",
		Status: "pending", Actor: "dpo", ReceivedAt: kept(at(0)), DueAt: kept(at(time.Hour)), Outcome: []byte(`{}`)}
	if err := st.CreatePrivacyRequest(ctx, r); err != nil {
		t.Fatalf("CreatePrivacyRequest = %v", err)
	}
	if err := st.CreatePrivacyRequest(ctx, r); mosaic.ErrorCode(err) != mosaic.ECONFLICT {
		t.Errorf("CreatePrivacyRequest twice = %v, want ECONFLICT", err)
	}
	got, err := st.PrivacyRequest(ctx, "r1")
	if err != nil || !cmp.Equal(got, r) {
		t.Errorf("PrivacyRequest = %+v, %v, want %+v", got, err, r)
	}
	done := kept(at(2 * time.Hour))
	r.Status, r.Identifier, r.CompletedAt, r.Outcome = "completed", "", &done, []byte(`{"events":3}`)
	if err := st.UpdatePrivacyRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.PrivacyRequest(ctx, "r1"); !cmp.Equal(got, r) {
		t.Errorf("after update = %+v, want %+v", got, r)
	}
	if err := st.UpdatePrivacyRequest(ctx, &store.PrivacyRequest{ID: "nope"}); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("UpdatePrivacyRequest(unknown) = %v, want ENOTFOUND", err)
	}
	if open, _ := st.PrivacyRequests(ctx, true); len(open) != 0 {
		t.Errorf("open requests = %v, want none", open)
	}
	if all, _ := st.PrivacyRequests(ctx, false); len(all) != 1 {
		t.Errorf("all requests = %v, want one", all)
	}

	if err := st.Suppress(ctx, []string{"h1", "h2", "h1"}, "erase", at(0)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Suppressions(ctx); !cmp.Equal(got, []string{"h1", "h2"}) {
		t.Errorf("Suppressions = %v", got)
	}
	if n, err := st.Unsuppress(ctx, []string{"h1", "h9"}); n != 1 || err != nil {
		t.Errorf("Unsuppress = %d, %v, want 1", n, err)
	}

	src := &mosaic.Source{ID: "s1", Name: "web", WriteKey: "k1", CreatedAt: at(0)}
	if err := st.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	rej := []*mosaic.Rejected{
		{SourceID: "s1", ReceivedAt: at(0), Code: "invalid", Reason: "x", Raw: []byte(`{"email":"a@b.nl"}`)},
		{SourceID: "s1", ReceivedAt: at(0), Code: "invalid", Reason: "x", Raw: []byte(`{"email":"c@d.nl"}`)},
	}
	if err := st.AddRejected(ctx, rej); err != nil {
		t.Fatal(err)
	}
	if n, err := st.EraseRejected(ctx, [][]byte{[]byte("a@b.nl"), nil}); n != 1 || err != nil {
		t.Errorf("EraseRejected = %d, %v, want 1", n, err)
	}
	if left, _ := st.Rejected(ctx, "s1", 0, 10); len(left) != 1 || string(left[0].Raw) != `{"email":"c@d.nl"}` {
		t.Errorf("quarantine after erasure = %v", left)
	}
	for _, c := range []struct {
		src  string
		days int
	}{{"s1", 30}, {"s2", 7}, {"s1", 90}, {"s2", 0}} {
		if err := st.SetRetention(ctx, c.src, c.days); err != nil {
			t.Fatalf("SetRetention(%s, %d) = %v", c.src, c.days, err)
		}
	}
	if got, err := st.Retentions(ctx); err != nil || !cmp.Equal(got, map[string]int{"s1": 90}) {
		t.Errorf("Retentions = %v, %v, want s1: 90 (s2 back to unlimited)", got, err)
	}
	if names, err := st.TraitNames(ctx); err != nil || len(names) != 0 {
		t.Errorf("TraitNames of a store without profiles = %v, %v", names, err)
	}
	if err := st.Compact(ctx); err != nil {
		t.Errorf("Compact = %v", err)
	}
}
