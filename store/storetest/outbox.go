package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

func (s suite) outbox(t *testing.T) {
	t.Run("Destinations", s.destinations)
	t.Run("ClaimOrder", s.claimOrder)
	t.Run("Holds", s.holds)
	t.Run("EnqueueIdempotent", s.enqueueIdempotent)
	t.Run("Forward", s.forward)
	t.Run("RequeueAndStats", s.requeueAndStats)
	s.outboxAudience(t)
}

func newDestination(t *testing.T, st store.Store, id string) *store.Destination {
	t.Helper()
	d := &store.Destination{ID: id, Name: "dest " + id, Type: "webhook", Status: "active", Config: []byte(`{"k":1}`), CreatedAt: at(0)}
	if err := st.CreateDestination(t.Context(), d); err != nil {
		t.Fatalf("CreateDestination(%s) = %v, want nil", id, err)
	}
	return d
}

func (s suite) destinations(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	newDestination(t, st, "d1")
	err := st.CreateDestination(ctx, &store.Destination{ID: "d2", Name: "dest d1", Type: "webhook", CreatedAt: at(time.Second)})
	checkCode(t, "CreateDestination(same name)", err, mosaic.ECONFLICT)
	err = st.CreateDestination(ctx, &store.Destination{ID: "d3", Name: "x"})
	checkCode(t, "CreateDestination(no type)", err, mosaic.EINVALID)

	got, err := st.Destination(ctx, "d1")
	want := &store.Destination{ID: "d1", Name: "dest d1", Type: "webhook", Status: "active", Config: []byte(`{"k":1}`), CreatedAt: kept(at(0)), UpdatedAt: kept(at(0))}
	if err != nil || !cmp.Equal(got, want) {
		t.Fatalf("Destination(d1) = %v, %v; diff %s", got, err, cmp.Diff(want, got))
	}
	want.Name, want.Status, want.StatusReason, want.Config, want.UpdatedAt = "renamed", "disabled", "410", []byte(`{}`), at(time.Hour)
	if err := st.UpdateDestination(ctx, want); err != nil {
		t.Fatalf("UpdateDestination = %v, want nil", err)
	}
	got, _ = st.Destination(ctx, "d1")
	if got.Name != "renamed" || got.Status != "disabled" || string(got.Config) != "{}" || !got.UpdatedAt.Equal(kept(at(time.Hour))) {
		t.Errorf("Destination after update = %+v", got)
	}
	checkCode(t, "UpdateDestination(missing)", st.UpdateDestination(ctx, &store.Destination{ID: "nope"}), mosaic.ENOTFOUND)
	list, err := st.Destinations(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("Destinations() = %d, %v; want 1", len(list), err)
	}
	if err := st.Enqueue(ctx, []store.OutboxMessage{msg("d1", "m1", "p1")}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteDestination(ctx, "d1"); err != nil {
		t.Fatalf("DeleteDestination = %v", err)
	}
	checkCode(t, "DeleteDestination(again)", st.DeleteDestination(ctx, "d1"), mosaic.ENOTFOUND)
	_, err = st.Destination(ctx, "d1")
	checkCode(t, "Destination(deleted)", err, mosaic.ENOTFOUND)
	if ds, _ := st.Deliveries(ctx, "d1", "", 0, 10); len(ds) != 0 {
		t.Errorf("Deliveries(deleted destination) = %d, want 0", len(ds))
	}
}

func msg(dest, id, key string) store.OutboxMessage {
	return store.OutboxMessage{ID: id, DestinationID: dest, ProfileKey: key, Type: "event", Payload: []byte(`{"id":"` + id + `"}`), CreatedAt: at(0)}
}

func claimIDs(t *testing.T, st store.Store, dest string, now time.Time) []string {
	t.Helper()
	ds, err := st.ClaimDue(t.Context(), dest, now, 100)
	if err != nil {
		t.Fatalf("ClaimDue = %v", err)
	}
	ids := []string{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func (s suite) claimOrder(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	newDestination(t, st, "d")
	newDestination(t, st, "other")
	msgs := []store.OutboxMessage{msg("d", "a1", "A"), msg("d", "b1", "B"), msg("d", "a2", "A"), msg("other", "o1", "A"), msg("d", "b2", "B")}
	if err := st.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if got, want := claimIDs(t, st, "d", at(0)), []string{"a1", "b1", "a2", "b2"}; !cmp.Equal(got, want) {
		t.Fatalf("ClaimDue = %v, want %v", got, want)
	}
	ds, _ := st.ClaimDue(ctx, "d", at(0), 1)
	a1 := ds[0]
	// a1 fails: A waits a minute, B goes on; other destinations are not held.
	err := st.FinishDeliveries(ctx, []store.DeliveryUpdate{{Seq: a1.Seq, DestinationID: "d", ProfileKey: "A", Status: store.DeliveryPending,
		Attempts: 1, NextAt: at(time.Minute), LastError: "500", LastCode: 500}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := claimIDs(t, st, "d", at(time.Second)), []string{"b1", "b2"}; !cmp.Equal(got, want) {
		t.Errorf("ClaimDue while A is held = %v, want %v", got, want)
	}
	if got, want := claimIDs(t, st, "other", at(time.Second)), []string{"o1"}; !cmp.Equal(got, want) {
		t.Errorf("ClaimDue(other) = %v, want %v", got, want)
	}
	if got, want := claimIDs(t, st, "d", at(time.Minute+time.Second)), []string{"a1", "b1", "a2", "b2"}; !cmp.Equal(got, want) {
		t.Errorf("ClaimDue after the hold = %v, want %v", got, want)
	}
	err = st.FinishDeliveries(ctx, []store.DeliveryUpdate{{Seq: a1.Seq, DestinationID: "d", ProfileKey: "A", Status: store.DeliveryDelivered,
		Attempts: 2, NextAt: at(time.Minute), LastCode: 200, Latency: 3 * time.Millisecond, DoneAt: at(2 * time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := claimIDs(t, st, "d", at(time.Second)), []string{"b1", "a2", "b2"}; !cmp.Equal(got, want) {
		t.Errorf("ClaimDue after a1 delivered = %v, want %v", got, want)
	}
	list, _ := st.Deliveries(ctx, "d", store.DeliveryDelivered, 0, 10)
	if len(list) != 1 || list[0].ID != "a1" || list[0].Attempts != 2 || list[0].Latency != 3*time.Millisecond || !list[0].DoneAt.Equal(kept(at(2*time.Minute))) {
		t.Errorf("Deliveries(delivered) = %+v", list)
	}
}

func (s suite) enqueueIdempotent(t *testing.T) {
	st := s.newStore(t)
	newDestination(t, st, "d")
	for range 2 {
		if err := st.Enqueue(t.Context(), []store.OutboxMessage{msg("d", "m1", "A"), msg("d", "m2", "A")}); err != nil {
			t.Fatal(err)
		}
	}
	if got := claimIDs(t, st, "d", at(0)); len(got) != 2 {
		t.Errorf("ClaimDue after enqueueing twice = %v, want 2 messages", got)
	}
}

func (s suite) forward(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	newDestination(t, st, "d")
	if seq, err := st.ForwardCursor(ctx); seq != 0 || err != nil {
		t.Fatalf("ForwardCursor() = %d, %v; want 0", seq, err)
	}
	c := &store.ForwardCommit{Seq: 10, Outbox: []store.OutboxMessage{msg("d", "m1", "A")},
		Consent: []store.ConsentSignal{{ProfileKey: "A", Categories: []byte(`{"marketing":true}`), Time: at(time.Minute), Seq: 9}}}
	for range 2 { // the second is a replay: a no-op
		if err := st.SaveForward(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Older consent does not replace newer; nor does an old position enqueue.
	old := &store.ForwardCommit{Seq: 11, Consent: []store.ConsentSignal{{ProfileKey: "A", Categories: []byte(`{}`), Time: at(0), Seq: 11}}}
	if err := st.SaveForward(ctx, old); err != nil {
		t.Fatal(err)
	}
	if seq, _ := st.ForwardCursor(ctx); seq != 11 {
		t.Errorf("ForwardCursor() = %d, want 11", seq)
	}
	if got := claimIDs(t, st, "d", at(0)); !cmp.Equal(got, []string{"m1"}) {
		t.Errorf("ClaimDue = %v, want [m1]", got)
	}
	r, err := st.ConsentSignal(ctx, "A")
	if err != nil || string(r.Categories) != `{"marketing":true}` || r.Seq != 9 || !r.Time.Equal(kept(at(time.Minute))) {
		t.Errorf("ConsentSignal(A) = %+v, %v", r, err)
	}
	_, err = st.ConsentSignal(ctx, "B")
	checkCode(t, "ConsentSignal(B)", err, mosaic.ENOTFOUND)
}

func (s suite) requeueAndStats(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	newDestination(t, st, "d")
	var msgs []store.OutboxMessage
	for i := range 4 {
		msgs = append(msgs, msg("d", fmt.Sprint("m", i), fmt.Sprint("P", i)))
	}
	if err := st.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	ds, _ := st.ClaimDue(ctx, "d", at(0), 10)
	ups := []store.DeliveryUpdate{
		{Seq: ds[0].Seq, DestinationID: "d", ProfileKey: "P0", Status: store.DeliveryDead, Attempts: 10, LastError: "gone", DoneAt: at(time.Hour)},
		{Seq: ds[1].Seq, DestinationID: "d", ProfileKey: "P1", Status: store.DeliveryBlocked, Blocked: []string{"marketing", "advertising"}, DoneAt: at(time.Hour)},
		{Seq: ds[2].Seq, DestinationID: "d", ProfileKey: "P2", Status: store.DeliveryDelivered, Attempts: 1, Latency: time.Millisecond, DoneAt: at(time.Hour)},
		{Seq: ds[3].Seq, DestinationID: "d", ProfileKey: "P3", Status: store.DeliveryPending, Attempts: 1, NextAt: at(time.Hour)},
	}
	if err := st.FinishDeliveries(ctx, ups); err != nil {
		t.Fatal(err)
	}
	stats, err := st.DeliveryStats(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	want := &store.DeliveryStats{Counts: map[string]int64{"dead": 1, "blocked": 1, "delivered": 1, "pending": 1},
		Blocked: map[string]int64{"marketing": 1, "advertising": 1}, Retrying: 1, Latencies: []time.Duration{time.Millisecond}}
	if !cmp.Equal(stats, want) {
		t.Errorf("DeliveryStats diff (-want +got):\n%s", cmp.Diff(want, stats))
	}
	dead, _ := st.Deliveries(ctx, "d", store.DeliveryDead, 0, 10)
	if len(dead) != 1 || dead[0].LastError != "gone" {
		t.Errorf("Deliveries(dead) = %+v", dead)
	}
	n, err := st.Requeue(ctx, "d", store.DeliveryDead, at(2*time.Hour))
	if n != 1 || err != nil {
		t.Fatalf("Requeue = %d, %v; want 1", n, err)
	}
	got, _ := st.ClaimDue(ctx, "d", at(2*time.Hour), 10)
	if len(got) != 2 || got[0].ID != "m0" || got[0].Attempts != 0 || !got[0].Since.Equal(kept(at(2*time.Hour))) {
		t.Errorf("ClaimDue after requeue = %+v, want m0 with no attempts, then m3", got)
	}
}
