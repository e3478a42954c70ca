package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// deletions checks the erasure side of the outbox (finding and removing a
// person's messages), deletion notices and request deadline extensions.
func (s suite) deletions(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	newDestination(t, st, "d1")
	newDestination(t, st, "d2")
	msgs := []store.OutboxMessage{
		{ID: "m1", DestinationID: "d1", ProfileKey: "p1", Type: "event", Payload: []byte(`{"email":"jane@example.com"}`), CreatedAt: at(0)},
		{ID: "m2", DestinationID: "d1", ProfileKey: "p2", Type: "event", Payload: []byte(`{"email":"bob@example.com"}`), CreatedAt: at(0)},
		{ID: "m3", DestinationID: "d2", ProfileKey: "user_id:u7", Type: "event", Payload: []byte(`{"userId":"u7"}`), CreatedAt: at(0)},
		{ID: "m4", DestinationID: "d2", ProfileKey: "p9", Type: "event", Payload: []byte(`{"note":"jane@example.com wrote"}`), CreatedAt: at(0)},
	}
	if err := st.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	got, err := st.PersonOutbox(ctx, []string{"user_id:u7"}, [][]byte{[]byte("jane@example.com"), nil})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range got {
		ids = append(ids, d.ID)
	}
	if !cmp.Equal(ids, []string{"m1", "m3", "m4"}) {
		t.Errorf("PersonOutbox = %v, want [m1 m3 m4]", ids)
	}
	if none, err := st.PersonOutbox(ctx, nil, nil); err != nil || len(none) != 0 || none == nil {
		t.Errorf("PersonOutbox(nothing) = %v, %v, want empty", none, err)
	}
	if n, err := st.RemoveOutbox(ctx, got); n != 3 || err != nil {
		t.Errorf("RemoveOutbox = %d, %v, want 3", n, err)
	}
	if left, _ := st.Deliveries(ctx, "d1", "", 0, 10); len(left) != 1 || left[0].ID != "m2" {
		t.Errorf("d1 after RemoveOutbox = %v, want only m2", left)
	}

	n1 := store.DeletionNotice{ID: "n1", RequestID: "r1", DestinationID: "d1", DestinationName: "b hook", Status: store.NoticeQueued,
		IdentifierHashes: []string{"h1", "h2"}, Payload: []byte(`{"type":"delete"}`), NextAt: kept(at(time.Minute)), CreatedAt: kept(at(0))}
	n2 := store.DeletionNotice{ID: "n2", RequestID: "r1", DestinationID: "d2", DestinationName: "a file", Status: store.NoticeNotSupported,
		IdentifierHashes: []string{}, NextAt: kept(at(0)), CreatedAt: kept(at(0)), DoneAt: kept(at(0))}
	if err := st.AddDeletionNotices(ctx, []store.DeletionNotice{n1, n2}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddDeletionNotices(ctx, []store.DeletionNotice{n1}); mosaic.ErrorCode(err) != mosaic.ECONFLICT {
		t.Errorf("AddDeletionNotices twice = %v, want ECONFLICT", err)
	}
	if due, _ := st.DueDeletionNotices(ctx, at(0), 10); len(due) != 0 {
		t.Errorf("DueDeletionNotices(before next_at) = %v, want none", due)
	}
	if due, _ := st.DueDeletionNotices(ctx, at(time.Hour), 10); !cmp.Equal(due, []store.DeletionNotice{n1}) {
		t.Errorf("DueDeletionNotices = %+v, want [n1]", due)
	}
	n1.Status, n1.Payload, n1.Attempts, n1.LastCode, n1.DoneAt = store.NoticeDelivered, nil, 1, 204, kept(at(2*time.Minute))
	if err := st.UpdateDeletionNotice(ctx, &n1); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateDeletionNotice(ctx, &store.DeletionNotice{ID: "nope"}); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("UpdateDeletionNotice(unknown) = %v, want ENOTFOUND", err)
	}
	if all, _ := st.DeletionNotices(ctx, "r1"); !cmp.Equal(all, []store.DeletionNotice{n2, n1}) {
		t.Errorf("DeletionNotices = %+v, want [n2 n1] (by destination name)", all)
	}

	r := &store.PrivacyRequest{ID: "r1", Type: "access", IdentifierType: "email", Identifier: "a@b.nl", IdentifierHash: "h1", Law: "gdpr",
		Status: "pending", Actor: "dpo", ReceivedAt: kept(at(0)), DueAt: kept(at(time.Hour)), Outcome: []byte(`{}`)}
	if err := st.CreatePrivacyRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	due, when := kept(at(3*time.Hour)), kept(at(time.Minute))
	if err := st.ExtendPrivacyRequest(ctx, "r1", due, "complex request", when); err != nil {
		t.Fatalf("ExtendPrivacyRequest = %v", err)
	}
	r.DueAt, r.ExtendedAt, r.ExtensionReason = due, &when, "complex request"
	if got, _ := st.PrivacyRequest(ctx, "r1"); !cmp.Equal(got, r) {
		t.Errorf("extended request = %+v, want %+v", got, r)
	}
	if err := st.ExtendPrivacyRequest(ctx, "r1", due, "again", when); mosaic.ErrorCode(err) != mosaic.ECONFLICT {
		t.Errorf("ExtendPrivacyRequest twice = %v, want ECONFLICT", err)
	}
	if err := st.ExtendPrivacyRequest(ctx, "nope", due, "x", when); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("ExtendPrivacyRequest(unknown) = %v, want ENOTFOUND", err)
	}
}
