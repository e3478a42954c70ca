package storetest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// predict checks the PredictStore part of the contract.
func (s suite) predict(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		rows := loadActivity(t, st, 0)
		diff(t, "LoadPredictActivity on an empty store", rows, map[uint64]string{})
		models, err := st.PredictionModels(t.Context())
		if err != nil || models == nil || len(models) != 0 {
			t.Errorf("PredictionModels() = %v, %v; want an empty slice", models, err)
		}
		_, err = st.Predictions(t.Context(), 1)
		checkCode(t, "Predictions(1)", err, mosaic.ENOTFOUND)
	})
	t.Run("activity", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		saveActivity(t, st, &store.PredictActivityCommit{Seq: 10, Rows: []store.ProfileRow{
			{ID: 3, Data: []byte("three")}, {ID: 1, Data: []byte("one\x00\xff")}, {ID: 2, Data: []byte("two")},
		}})
		diff(t, "after the first save", loadActivity(t, st, 10), map[uint64]string{1: "one\x00\xff", 2: "two", 3: "three"})
		c := &store.PredictActivityCommit{Seq: 20, Deleted: []uint64{2, 3}, Rows: []store.ProfileRow{
			{ID: 3, Data: []byte("three again")}, {ID: 1, Data: []byte("one, new")},
		}}
		saveActivity(t, st, c)
		saveActivity(t, st, c) // a retried save is harmless
		diff(t, "after deletes and upserts", loadActivity(t, st, 20), map[uint64]string{1: "one, new", 3: "three again"})
		saveActivity(t, st, &store.PredictActivityCommit{Seq: 15, Rows: []store.ProfileRow{{ID: 1, Data: []byte("stale")}}})
		diff(t, "after an older checkpoint", loadActivity(t, st, 20), map[uint64]string{1: "one, new", 3: "three again"})
		err := st.SavePredictActivity(t.Context(), &store.PredictActivityCommit{Seq: 30, Rows: []store.ProfileRow{{ID: 1 << 63, Data: []byte("x")}}})
		checkCode(t, "SavePredictActivity(ID 2^63)", err, mosaic.EINVALID)
		diff(t, "after a refused save", loadActivity(t, st, 20), map[uint64]string{1: "one, new", 3: "three again"})
		stop := errors.New("stop")
		var calls int
		_, err = st.LoadPredictActivity(t.Context(), func(uint64, []byte) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("LoadPredictActivity(fn failing) = %v after %d calls, want fn's error after 1", err, calls)
		}
	})
	t.Run("fits", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		savePredictions(t, st, &store.PredictionFit{
			Models: []store.PredictionModelRow{
				{Name: "bgnbd", FitAt: at(0), Report: []byte(`{"params":{"r":0.24}}`)},
				{Name: "gamma_gamma", FitAt: at(0), Report: []byte(`{"params":{"p":6.25}}`)},
			},
			Profiles: []store.ProfileRow{{ID: 7, Data: []byte(`{"p_alive":0.5}`)}, {ID: 8, Data: []byte(`{"p_alive":0.9}`)}},
		})
		savePredictions(t, st, &store.PredictionFit{
			Models:   []store.PredictionModelRow{{Name: "bgnbd", FitAt: at(1), Report: []byte(`{"params":{"r":0.3}}`)}},
			Profiles: []store.ProfileRow{{ID: 8, Data: []byte(`{"p_alive":0.1, "name":"Zoë"}`)}, {ID: 9, Data: []byte(`{}`)}},
		})
		models, err := st.PredictionModels(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(models) != 1 || models[0].Name != "bgnbd" || !models[0].FitAt.Equal(kept(at(1))) {
			t.Fatalf("PredictionModels() = %+v, want only the second fit's bgnbd at %v", models, kept(at(1)))
		}
		checkUTC(t, "FitAt", models[0].FitAt)
		sameJSON(t, "bgnbd report", models[0].Report, `{"params":{"r":0.3}}`)
		_, err = st.Predictions(t.Context(), 7)
		checkCode(t, "Predictions(7) after a fit without it", err, mosaic.ENOTFOUND)
		got, err := st.Predictions(t.Context(), 8)
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "Predictions(8)", got, `{"p_alive":0.1, "name":"Zoë"}`)
		var ids []uint64
		if err := st.LoadPredictions(t.Context(), func(id uint64, data []byte) error { ids = append(ids, id); return nil }); err != nil {
			t.Fatal(err)
		}
		diff(t, "LoadPredictions IDs", ids, []uint64{8, 9})
		err = st.SavePredictions(t.Context(), &store.PredictionFit{Models: []store.PredictionModelRow{{Name: "", Report: []byte(`{}`)}}})
		checkCode(t, "SavePredictions(model without a name)", err, mosaic.EINVALID)
	})
	t.Run("reset keeps the fit", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		saveActivity(t, st, &store.PredictActivityCommit{Seq: 5, Rows: []store.ProfileRow{{ID: 1, Data: []byte("a")}}})
		savePredictions(t, st, &store.PredictionFit{Profiles: []store.ProfileRow{{ID: 1, Data: []byte(`{"x":1}`)}}})
		if err := st.ResetDerived(t.Context()); err != nil {
			t.Fatal(err)
		}
		diff(t, "activity after ResetDerived", loadActivity(t, st, 0), map[uint64]string{})
		if _, err := st.Predictions(t.Context(), 1); err != nil {
			t.Errorf("Predictions(1) after ResetDerived = %v, want the fit kept", err)
		}
	})
}

func saveActivity(t *testing.T, st store.Store, c *store.PredictActivityCommit) {
	t.Helper()
	if err := st.SavePredictActivity(t.Context(), c); err != nil {
		t.Fatalf("SavePredictActivity(seq %d) = %v, want nil", c.Seq, err)
	}
}

func savePredictions(t *testing.T, st store.Store, f *store.PredictionFit) {
	t.Helper()
	if err := st.SavePredictions(t.Context(), f); err != nil {
		t.Fatalf("SavePredictions() = %v, want nil", err)
	}
}

// loadActivity loads every activity row, checking the position and the
// order of the IDs.
func loadActivity(t *testing.T, st store.Store, wantSeq uint64) map[uint64]string {
	t.Helper()
	out := map[uint64]string{}
	var last uint64
	seq, err := st.LoadPredictActivity(t.Context(), func(id uint64, data []byte) error {
		if id <= last && len(out) > 0 {
			t.Errorf("LoadPredictActivity: ID %d after %d, want ID order", id, last)
		}
		last, out[id] = id, string(data)
		return nil
	})
	if err != nil || seq != wantSeq {
		t.Fatalf("LoadPredictActivity() = %d, %v; want %d, nil", seq, err, wantSeq)
	}
	return out
}

// sameJSON fails t unless got and want hold the same JSON value: stores
// may keep JSON in a normalised form.
func sameJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s = %q, not JSON: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	diff(t, what, g, w)
}
