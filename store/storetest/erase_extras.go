package storetest

import (
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// eraseExtras checks the smaller deletions an erasure makes: the identity
// decisions of the profiles it rebuilds, and the event forwarder's consent
// signals of the erased profiles.
func (s suite) eraseExtras(t *testing.T) {
	t.Run("DeleteDecisions", func(t *testing.T) {
		st := s.newStore(t)
		ctx := t.Context()
		c := &store.ProfileCommit{Seq: 5, Decisions: []store.DecisionRow{
			{ProfileID: 1, Seq: 2, Kind: "merge", Data: []byte(`{"a":1}`)},
			{ProfileID: 2, Seq: 3, Kind: "refusal", Data: []byte(`{"b":2}`)},
			{ProfileID: 3, Seq: 4, Kind: "refusal", Data: []byte(`{"c":3}`)},
		}}
		if err := st.SaveProfiles(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteDecisions(ctx, []uint64{2, 3, 99}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[uint64]int{1: 1, 2: 0, 3: 0} {
			if ds, err := st.Decisions(ctx, id); err != nil || len(ds) != want {
				t.Errorf("Decisions(%d) after DeleteDecisions = %d rows, %v; want %d", id, len(ds), err, want)
			}
		}
		checkCode(t, "DeleteDecisions(2^63)", st.DeleteDecisions(ctx, []uint64{1 << 63}), mosaic.EINVALID)
		if ds, _ := st.Decisions(ctx, 1); len(ds) != 1 {
			t.Errorf("a refused DeleteDecisions deleted profile 1's decisions")
		}
	})
	t.Run("RemoveConsentSignals", func(t *testing.T) {
		st := s.newStore(t)
		ctx := t.Context()
		c := &store.ForwardCommit{Seq: 10, Consent: []store.ConsentSignal{
			{ProfileKey: "pA", Categories: []byte(`{"marketing":true}`), Time: at(time.Minute), Seq: 8},
			{ProfileKey: "user_id:u1", Categories: []byte(`{"marketing":false}`), Time: at(time.Minute), Seq: 9},
			{ProfileKey: "pB", Categories: []byte(`{"marketing":true}`), Time: at(time.Minute), Seq: 10},
		}}
		if err := st.SaveForward(ctx, c); err != nil {
			t.Fatal(err)
		}
		n, err := st.RemoveConsentSignals(ctx, []string{"pA", "user_id:u1", "unknown"})
		if err != nil || n != 2 {
			t.Fatalf("RemoveConsentSignals = %d, %v; want 2", n, err)
		}
		for _, k := range []string{"pA", "user_id:u1"} {
			_, err := st.ConsentSignal(ctx, k)
			checkCode(t, "ConsentSignal("+k+") after removal", err, mosaic.ENOTFOUND)
		}
		if r, err := st.ConsentSignal(ctx, "pB"); err != nil || r.Seq != 10 {
			t.Errorf("ConsentSignal(pB) = %+v, %v; want it kept", r, err)
		}
	})
}
