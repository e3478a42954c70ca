package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic/store"
)

// holds checks what a worker needs after an outage: when the first held
// profile is due, and releasing every hold at once.
func (s suite) holds(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	newDestination(t, st, "d")
	newDestination(t, st, "other")
	if err := st.Enqueue(ctx, []store.OutboxMessage{msg("d", "a1", "A"), msg("d", "b1", "B"), msg("d", "a2", "A"), msg("other", "o1", "A")}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.NextHold(ctx, "d"); !got.IsZero() || err != nil {
		t.Fatalf("NextHold(d) with no hold = %v, %v; want zero time", got, err)
	}
	ds, err := st.ClaimDue(ctx, "d", at(0), 10)
	if err != nil {
		t.Fatal(err)
	}
	var updates []store.DeliveryUpdate
	for _, d := range ds[:2] { // a1 and b1 fail: A waits an hour, B two
		updates = append(updates, store.DeliveryUpdate{Seq: d.Seq, DestinationID: "d", ProfileKey: d.ProfileKey, Status: store.DeliveryPending,
			Attempts: 1, NextAt: at(time.Duration(len(updates)+1) * time.Hour), LastError: "503", LastCode: 503})
	}
	ds, _ = st.ClaimDue(ctx, "other", at(0), 1)
	updates = append(updates, store.DeliveryUpdate{Seq: ds[0].Seq, DestinationID: "other", ProfileKey: "A", Status: store.DeliveryPending,
		Attempts: 1, NextAt: at(time.Minute)})
	if err := st.FinishDeliveries(ctx, updates); err != nil {
		t.Fatal(err)
	}
	if got, err := st.NextHold(ctx, "d"); !got.Equal(kept(at(time.Hour))) || err != nil {
		t.Errorf("NextHold(d) = %v, %v; want %v", got, err, at(time.Hour))
	}
	if got := claimIDs(t, st, "d", at(time.Minute)); len(got) != 0 {
		t.Errorf("ClaimDue while held = %v, want none", got)
	}
	if n, err := st.ReleaseHolds(ctx, "d"); n != 2 || err != nil {
		t.Fatalf("ReleaseHolds(d) = %d, %v; want 2", n, err)
	}
	if got, want := claimIDs(t, st, "d", at(time.Minute)), []string{"a1", "b1", "a2"}; !cmp.Equal(got, want) {
		t.Errorf("ClaimDue after ReleaseHolds = %v, want %v", got, want)
	}
	if got, err := st.NextHold(ctx, "d"); !got.IsZero() || err != nil {
		t.Errorf("NextHold(d) after ReleaseHolds = %v, %v; want zero time", got, err)
	}
	if got := claimIDs(t, st, "other", at(time.Second)); len(got) != 0 {
		t.Errorf("ClaimDue(other) = %v; want none: its hold is its own", got)
	}
}
