package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// consent checks the consent store: positions, retried saves, merges moving
// history, state upserts, ordering, and ResetDerived clearing it all.
func (s suite) consent(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	if seq, err := st.ConsentCheckpoint(ctx); err != nil || seq != 0 {
		t.Fatalf("ConsentCheckpoint() on a new store = %d, %v, want 0, nil", seq, err)
	}
	row := func(p uint64, purpose string, sec int, seq uint64, data string) store.ConsentRow {
		return store.ConsentRow{ProfileID: p, Purpose: purpose, Time: kept(at(time.Duration(sec) * time.Second)), Seq: seq, Data: []byte(data)}
	}
	first := &store.ConsentCommit{Seq: 10,
		Records: []store.ConsentRow{row(1, "marketing", 5, 9, `{"a":1}`), row(1, "analytics", 1, 3, `{"a":2}`), row(2, "marketing", 2, 4, `{"b":1}`)},
		States:  []store.ProfileRow{{ID: 1, Data: []byte("s1")}, {ID: 2, Data: []byte("s2")}},
	}
	for range 2 { // the second save is a retry: a no-op
		if err := st.SaveConsent(ctx, first); err != nil {
			t.Fatalf("SaveConsent(seq 10) = %v, want nil", err)
		}
	}
	history := func(p uint64) []store.ConsentRow {
		t.Helper()
		h, err := st.ConsentHistory(ctx, p)
		if err != nil {
			t.Fatalf("ConsentHistory(%d) = %v", p, err)
		}
		return h
	}
	if got, want := history(1), []store.ConsentRow{first.Records[1], first.Records[0]}; !cmp.Equal(got, want) {
		t.Errorf("ConsentHistory(1) = %v, want %v (by time)", got, want)
	}
	merge := &store.ConsentCommit{Seq: 20, Merges: []store.ProfileMerge{{Absorbed: 2, Survivor: 1}},
		Records: []store.ConsentRow{row(1, "advertising", 3, 15, `{"c":1}`)},
		States:  []store.ProfileRow{{ID: 1, Data: []byte("s1+2")}}}
	if err := st.SaveConsent(ctx, merge); err != nil {
		t.Fatalf("SaveConsent(merge) = %v", err)
	}
	want := []store.ConsentRow{first.Records[1], row(1, "marketing", 2, 4, `{"b":1}`), merge.Records[0], first.Records[0]}
	if got := history(1); !cmp.Equal(got, want) {
		t.Errorf("after merge, ConsentHistory(1) = %v, want %v", got, want)
	}
	if got := history(2); len(got) != 0 {
		t.Errorf("after merge, ConsentHistory(2) = %v, want none", got)
	}
	states := map[uint64]string{}
	if err := st.LoadConsent(ctx, func(id uint64, data []byte) error { states[id] = string(data); return nil }); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(states, map[uint64]string{1: "s1+2"}) {
		t.Errorf("LoadConsent = %v, want only profile 1's merged state", states)
	}
	if err := st.SaveConsent(ctx, &store.ConsentCommit{Seq: 1 << 63}); mosaic.ErrorCode(err) != mosaic.EINVALID {
		t.Errorf("SaveConsent(seq 2^63) = %v, want EINVALID", err)
	}
	if err := st.ResetDerived(ctx); err != nil {
		t.Fatal(err)
	}
	if seq, err := st.ConsentCheckpoint(ctx); err != nil || seq != 0 || len(history(1)) != 0 {
		t.Errorf("after ResetDerived: position %d (%v), history %v; want all cleared", seq, err, history(1))
	}
}
