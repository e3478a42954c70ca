package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic/store"
)

func (s suite) outboxAudience(t *testing.T) {
	t.Run("AudienceCursor", s.audienceCursor)
	t.Run("PurgeDeliveries", s.purgeDeliveries)
	t.Run("AudienceChangesEnd", s.audienceChangesEnd)
}

func (s suite) audienceChangesEnd(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	if id, err := st.AudienceChangesEnd(ctx); id != 0 || err != nil {
		t.Fatalf("AudienceChangesEnd() = %d, %v; want 0", id, err)
	}
	c := &store.SegmentCommit{Version: 1, Seq: 1, Changes: []store.AudienceChange{
		{ID: 3, AudienceID: "a", ProfileID: 1, Entered: true, At: at(0), Cause: "{}"},
		{ID: 5, AudienceID: "b", ProfileID: 2, Entered: true, At: at(0), Cause: "{}"}}}
	if err := st.SaveSegments(ctx, c); err != nil {
		t.Fatal(err)
	}
	if id, err := st.AudienceChangesEnd(ctx); id != 5 || err != nil {
		t.Errorf("AudienceChangesEnd() = %d, %v; want 5", id, err)
	}
}

func (s suite) audienceCursor(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	newDestination(t, st, "d")
	if id, err := st.AudienceCursor(ctx); id != 0 || err != nil {
		t.Fatalf("AudienceCursor() = %d, %v; want 0", id, err)
	}
	for range 2 { // the second is a replay after a crash: a no-op
		if err := st.SaveAudienceDelivery(ctx, 7, []store.OutboxMessage{msg("d", "e1", "p1"), msg("d", "e2", "p2")}); err != nil {
			t.Fatal(err)
		}
	}
	// A stale follower (an older cursor) enqueues nothing.
	if err := st.SaveAudienceDelivery(ctx, 5, []store.OutboxMessage{msg("d", "stale", "p1")}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveAudienceDelivery(ctx, 9, nil); err != nil {
		t.Fatal(err)
	}
	if id, err := st.AudienceCursor(ctx); id != 9 || err != nil {
		t.Errorf("AudienceCursor() = %d, %v; want 9", id, err)
	}
	if got, want := claimIDs(t, st, "d", at(0)), []string{"e1", "e2"}; !cmp.Equal(got, want) {
		t.Errorf("ClaimDue = %v, want %v", got, want)
	}
	// A replay deletes the changes, whose IDs then start again: so does the
	// cursor. The outbox stays.
	if err := st.ResetDerived(ctx); err != nil {
		t.Fatal(err)
	}
	if id, err := st.AudienceCursor(ctx); id != 0 || err != nil {
		t.Errorf("AudienceCursor() after ResetDerived = %d, %v; want 0", id, err)
	}
	if got := claimIDs(t, st, "d", at(0)); len(got) != 2 {
		t.Errorf("ClaimDue after ResetDerived = %v, want the 2 messages", got)
	}
}

func (s suite) purgeDeliveries(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	newDestination(t, st, "d")
	newDestination(t, st, "other")
	var msgs []store.OutboxMessage
	for _, id := range []string{"old1", "old2", "old3", "blocked", "dead", "pending", "new"} {
		msgs = append(msgs, msg("d", id, id))
	}
	msgs = append(msgs, msg("other", "o", "o"))
	if err := st.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	rows, err := st.ClaimDue(ctx, "d", at(0), 100)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := st.ClaimDue(ctx, "other", at(0), 100)
	done := func(r store.Delivery, status string, when time.Duration) store.DeliveryUpdate {
		return store.DeliveryUpdate{Seq: r.Seq, DestinationID: r.DestinationID, ProfileKey: r.ProfileKey, Status: status, Attempts: 1, DoneAt: at(when)}
	}
	up := []store.DeliveryUpdate{done(rows[0], store.DeliveryDelivered, time.Minute), done(rows[1], store.DeliveryDelivered, time.Minute),
		done(rows[2], store.DeliveryDelivered, time.Minute), done(rows[3], store.DeliveryBlocked, time.Minute),
		done(rows[4], store.DeliveryDead, time.Minute), done(rows[6], store.DeliveryDelivered, time.Hour),
		done(other[0], store.DeliveryDelivered, time.Minute)}
	if err := st.FinishDeliveries(ctx, up); err != nil {
		t.Fatal(err)
	}
	cut := at(30 * time.Minute)
	if n, err := st.PurgeDeliveries(ctx, "d", cut, 2); n != 2 || err != nil {
		t.Errorf("PurgeDeliveries(limit 2) = %d, %v; want 2", n, err)
	}
	if n, err := st.PurgeDeliveries(ctx, "d", cut, 100); n != 2 || err != nil {
		t.Errorf("PurgeDeliveries(rest) = %d, %v; want 2 (old3 and blocked)", n, err)
	}
	if n, err := st.PurgeDeliveries(ctx, "d", cut, 100); n != 0 || err != nil {
		t.Errorf("PurgeDeliveries(again) = %d, %v; want 0", n, err)
	}
	left, _ := st.Deliveries(ctx, "d", "", 0, 100)
	var ids []string
	for _, d := range left {
		ids = append(ids, d.ID)
	}
	if want := []string{"new", "pending", "dead"}; !cmp.Equal(ids, want) {
		t.Errorf("Deliveries after purge = %v, want %v (pending, dead and recent stay)", ids, want)
	}
	if o, _ := st.Deliveries(ctx, "other", "", 0, 100); len(o) != 1 {
		t.Errorf("Deliveries(other) = %d, want 1: a purge is per destination", len(o))
	}
}
