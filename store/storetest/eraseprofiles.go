package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// eraseIDs are the profiles seedErase gives rows in every table derived
// from the log about a profile.
var eraseIDs = []uint64{1, 2, 3}

// eraseState is what a store answers about the profiles eraseIDs, read
// through its public methods: per profile, only what it has.
type eraseState struct {
	ProfileSeq, SegmentVersion, SegmentSeq, ConsentSeq, ActivitySeq uint64

	Profiles       map[uint64]string
	Timeline       map[uint64][]store.TimelineRow
	Traits         map[uint64][]store.TraitRow // own traits and group g's, name n
	Decisions      map[uint64][]store.DecisionRow
	Segments       map[uint64]string
	Changes        []store.AudienceChange // all audiences, by ID
	ProfileChanges map[uint64][]store.AudienceChange
	Consent        map[uint64]string
	ConsentHistory map[uint64][]store.ConsentRow
	Activity       map[uint64]string
	Predictions    map[uint64]string // JSON, compacted
}

// rows returns how many stored rows s shows of the profiles ids.
func (s eraseState) rows(ids ...uint64) int64 {
	var n int
	for _, id := range ids {
		n += len(s.Timeline[id]) + len(s.Traits[id]) + len(s.Decisions[id]) + len(s.ProfileChanges[id]) +
			len(s.ConsentHistory[id])
		for _, m := range []map[uint64]string{s.Profiles, s.Segments, s.Consent, s.Activity, s.Predictions} {
			if _, ok := m[id]; ok {
				n++
			}
		}
	}
	return int64(n)
}

// without returns s with the rows of the profiles ids removed and the
// rest as they were.
func (s eraseState) without(ids ...uint64) eraseState {
	w := s
	w.Profiles, w.Segments, w.Consent = maps.Clone(s.Profiles), maps.Clone(s.Segments), maps.Clone(s.Consent)
	w.Activity, w.Predictions = maps.Clone(s.Activity), maps.Clone(s.Predictions)
	w.Timeline, w.Traits, w.Decisions = maps.Clone(s.Timeline), maps.Clone(s.Traits), maps.Clone(s.Decisions)
	w.ProfileChanges, w.ConsentHistory = maps.Clone(s.ProfileChanges), maps.Clone(s.ConsentHistory)
	for _, id := range ids {
		delete(w.Profiles, id)
		delete(w.Segments, id)
		delete(w.Consent, id)
		delete(w.Activity, id)
		delete(w.Predictions, id)
		delete(w.Timeline, id)
		delete(w.Traits, id)
		delete(w.Decisions, id)
		delete(w.ProfileChanges, id)
		delete(w.ConsentHistory, id)
	}
	w.Changes = slices.DeleteFunc(slices.Clone(s.Changes), func(c store.AudienceChange) bool {
		return slices.Contains(ids, c.ProfileID)
	})
	return w
}

// seedErase saves, through each stage's save, rows of profiles 1, 2 and 3
// in every table derived from the log about a profile; profile 2 has
// several rows in each table that can hold several.
func seedErase(t *testing.T, st store.Store) {
	t.Helper()
	ctx := t.Context()
	saveProfiles(t, st, withDecisions(&store.ProfileCommit{Seq: 10, Graph: []byte("graph"), Batches: []store.ProfileBatch{{
		Timeline: []store.TimelineRow{tl(1, 1, 0), tl(2, 2, sec), tl(2, 3, 2*sec), tl(3, 4, 0)},
		Traits: []store.TraitRow{tr(1, "", "n", 1, 0, `1`), tr(2, "", "n", 2, sec, `2`),
			tr(2, "g", "n", 3, 2*sec, `"g2"`), tr(3, "", "n", 4, 0, `3`)},
		Profiles: []store.ProfileRow{prof(1, "one"), prof(2, "two"), prof(3, "three")},
	}}}, dec(1, 1, "merge"), dec(2, 2, "merge"), dec(2, 3, "refuse"), dec(3, 4, "merge")))
	change := func(id int64, aud string, pid uint64, entered bool) store.AudienceChange {
		return store.AudienceChange{ID: id, AudienceID: aud, ProfileID: pid, Entered: entered,
			At: at(time.Duration(id) * sec), Seq: uint64(id), Cause: `{"kind":"event"}`}
	}
	err := st.SaveSegments(ctx, &store.SegmentCommit{Version: 5, Seq: 10, Meta: []byte("meta"),
		Profiles: []store.SegmentProfileRow{{ID: 1, Version: 5, Data: []byte("s1")},
			{ID: 2, Version: 5, Data: []byte("s2")}, {ID: 3, Version: 5, Data: []byte("s3")}},
		Changes: []store.AudienceChange{change(1, "a", 1, true), change(2, "a", 2, true),
			change(3, "b", 2, true), change(4, "a", 2, false), change(5, "b", 3, true)}})
	if err != nil {
		t.Fatalf("SaveSegments() = %v, want nil", err)
	}
	consent := func(pid uint64, purpose string, seq uint64) store.ConsentRow {
		return store.ConsentRow{ProfileID: pid, Purpose: purpose, Time: at(time.Duration(seq) * sec), Seq: seq,
			Data: fmt.Appendf(nil, `{"seq":%d}`, seq)}
	}
	err = st.SaveConsent(ctx, &store.ConsentCommit{Seq: 10,
		Records: []store.ConsentRow{consent(1, "marketing", 1), consent(2, "marketing", 2),
			consent(2, "analytics", 3), consent(3, "marketing", 4)},
		States: []store.ProfileRow{prof(1, "c1"), prof(2, "c2"), prof(3, "c3")}})
	if err != nil {
		t.Fatalf("SaveConsent() = %v, want nil", err)
	}
	saveActivity(t, st, &store.PredictActivityCommit{Seq: 10,
		Rows: []store.ProfileRow{prof(1, "a1"), prof(2, "a2"), prof(3, "a3")}})
	savePredictions(t, st, &store.PredictionFit{
		Models:   []store.PredictionModelRow{{Name: "churn", FitAt: base, Report: []byte(`{}`)}},
		Profiles: []store.ProfileRow{prof(1, `{"p":1}`), prof(2, `{"p":2}`), prof(3, `{"p":3}`)}})
}

// readEraseState returns what st answers about the profiles eraseIDs, or
// fails t.
func readEraseState(t *testing.T, st store.Store) eraseState {
	t.Helper()
	ctx := t.Context()
	s := eraseState{Profiles: map[uint64]string{}, Timeline: map[uint64][]store.TimelineRow{},
		Traits: map[uint64][]store.TraitRow{}, Decisions: map[uint64][]store.DecisionRow{},
		ProfileChanges: map[uint64][]store.AudienceChange{}, ConsentHistory: map[uint64][]store.ConsentRow{}}
	s.ProfileSeq, _, _ = profileCheckpoint(t, st)
	for _, p := range loadProfiles(t, st) {
		s.Profiles[p.ID] = string(p.Data)
	}
	var err error
	if s.SegmentVersion, s.SegmentSeq, _, err = st.SegmentCheckpoint(ctx); err != nil {
		t.Fatalf("SegmentCheckpoint() = %v, want nil", err)
	}
	s.Segments = loadBlobs(t, "LoadSegmentProfiles", st.LoadSegmentProfiles)
	if s.Changes, err = st.AudienceChanges(ctx, "", 0, 1000); err != nil {
		t.Fatalf("AudienceChanges() = %v, want nil", err)
	}
	if s.ConsentSeq, err = st.ConsentCheckpoint(ctx); err != nil {
		t.Fatalf("ConsentCheckpoint() = %v, want nil", err)
	}
	s.Consent = loadBlobs(t, "LoadConsent", st.LoadConsent)
	s.Activity = loadBlobs(t, "LoadPredictActivity", func(ctx context.Context, fn func(uint64, []byte) error) error {
		s.ActivitySeq, err = st.LoadPredictActivity(ctx, fn)
		return err
	})
	s.Predictions = loadBlobs(t, "LoadPredictions", st.LoadPredictions)
	for id, data := range s.Predictions {
		s.Predictions[id] = compactJSON(t, data)
	}
	for _, id := range eraseIDs {
		readProfileRows(t, st, id, &s)
	}
	return s
}

// readProfileRows adds to s the rows of profile id that the store reads
// one profile at a time.
func readProfileRows(t *testing.T, st store.Store, id uint64, s *eraseState) {
	t.Helper()
	addRows(s.Timeline, id, timelineOf(t, st, id, zeroTime, 0, 1000))
	addRows(s.Traits, id, append(traitsOf(t, st, id, "", "n", 1000), traitsOf(t, st, id, "g", "n", 1000)...))
	addRows(s.Decisions, id, decisionsOf(t, st, id))
	changes, err := st.ProfileAudienceChanges(t.Context(), id, time.Time{}, 0, 1000)
	if err != nil {
		t.Fatalf("ProfileAudienceChanges(%d) = %v, want nil", id, err)
	}
	addRows(s.ProfileChanges, id, changes)
	history, err := st.ConsentHistory(t.Context(), id)
	if err != nil {
		t.Fatalf("ConsentHistory(%d) = %v, want nil", id, err)
	}
	addRows(s.ConsentHistory, id, history)
}

// addRows sets m[id] to rows if there are any, so that a profile without
// rows has no entry.
func addRows[R any](m map[uint64][]R, id uint64, rows []R) {
	if len(rows) > 0 {
		m[id] = rows
	}
}

// loadBlobs returns what a Load method gives, by profile ID, or fails t.
func loadBlobs(t *testing.T, op string, load func(context.Context, func(uint64, []byte) error) error) map[uint64]string {
	t.Helper()
	out := map[uint64]string{}
	if err := load(t.Context(), func(id uint64, data []byte) error { out[id] = string(data); return nil }); err != nil {
		t.Fatalf("%s() = %v, want nil", op, err)
	}
	return out
}

// compactJSON returns data re-encoded compactly: stores may keep JSON in a
// normalised form.
func compactJSON(t *testing.T, data string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("predicted traits %q are not JSON: %v", data, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// eraseProfiles tests EraseProfiles.
func (s suite) eraseProfiles(t *testing.T) {
	tests := []struct {
		name   string
		ids    []uint64
		erased []uint64 // the seeded profiles whose rows go
		want   int64
		code   string
	}{
		// Profile 2: its profile, 2 timeline rows, 2 trait rows, 2
		// decisions, its segment state, 3 audience changes, its consent
		// state, 2 consent decisions, its activity, its predicted traits.
		{name: "one of three", ids: []uint64{2}, erased: []uint64{2}, want: 16},
		{name: "several and unknown", ids: []uint64{3, 99, 1, 3}, erased: []uint64{1, 3}, want: 20},
		{name: "unknown", ids: []uint64{99, maxID}, want: 0},
		{name: "none", ids: nil, want: 0},
		{name: "too large", ids: []uint64{2, maxID + 1}, code: mosaic.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			seedErase(t, st)
			before := readEraseState(t, st)
			if got := before.rows(eraseIDs...); got != 36 {
				t.Fatalf("rows seeded = %d, want 36: seedErase or a reader changed", got)
			}
			n, err := st.EraseProfiles(t.Context(), tt.ids)
			checkCode(t, fmt.Sprintf("EraseProfiles(%v)", tt.ids), err, tt.code)
			if n != tt.want {
				t.Errorf("EraseProfiles(%v) = %d rows, want %d", tt.ids, n, tt.want)
			}
			if got := before.rows(tt.erased...); got != tt.want {
				t.Errorf("rows of profiles %v before = %d, want %d", tt.erased, got, tt.want)
			}
			diff(t, fmt.Sprintf("state after EraseProfiles(%v)", tt.ids), readEraseState(t, st), before.without(tt.erased...))
		})
	}
	t.Run("again", s.eraseAgain)
	t.Run("older segment save", s.eraseOlderSegmentSave)
	t.Run("canceled", s.eraseCanceled)
}

// eraseAgain tests that erasing a profile twice deletes nothing the
// second time.
func (s suite) eraseAgain(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	seedErase(t, st)
	if n, err := st.EraseProfiles(t.Context(), []uint64{2}); err != nil || n != 16 {
		t.Fatalf("EraseProfiles([2]) = %d, %v; want 16, nil", n, err)
	}
	after := readEraseState(t, st)
	if n, err := st.EraseProfiles(t.Context(), []uint64{2}); err != nil || n != 0 {
		t.Errorf("EraseProfiles([2]) again = %d, %v; want 0, nil", n, err)
	}
	diff(t, "state after a second EraseProfiles([2])", readEraseState(t, st), after)
}

// eraseOlderSegmentSave tests that an erased profile's segment state keeps
// its version: a segment save older than it, retried after the erasure,
// does not bring the profile back, and a newer one saves it.
func (s suite) eraseOlderSegmentSave(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	seedErase(t, st)
	if _, err := st.EraseProfiles(t.Context(), []uint64{2}); err != nil {
		t.Fatalf("EraseProfiles([2]) = %v, want nil", err)
	}
	save := func(version uint64, data string) {
		t.Helper()
		err := st.SaveSegments(t.Context(), &store.SegmentCommit{Version: version, Seq: 10,
			Profiles: []store.SegmentProfileRow{{ID: 2, Version: version, Data: []byte(data)}}})
		if err != nil {
			t.Fatalf("SaveSegments(version %d) = %v, want nil", version, err)
		}
	}
	save(4, "s2 older")
	save(5, "s2 same version")
	diff(t, "segment states after older saves", loadBlobs(t, "LoadSegmentProfiles", st.LoadSegmentProfiles),
		map[uint64]string{1: "s1", 3: "s3"})
	save(6, "s2 newer")
	diff(t, "segment states after a newer save", loadBlobs(t, "LoadSegmentProfiles", st.LoadSegmentProfiles),
		map[uint64]string{1: "s1", 2: "s2 newer", 3: "s3"})
}

// eraseCanceled tests that an erasure whose context ended deletes nothing.
func (s suite) eraseCanceled(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	seedErase(t, st)
	before := readEraseState(t, st)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := st.EraseProfiles(ctx, []uint64{2}); !errors.Is(err, context.Canceled) {
		t.Errorf("EraseProfiles([2]) with a canceled context = %v, want an error wrapping context.Canceled", err)
	}
	diff(t, "state after a canceled EraseProfiles([2])", readEraseState(t, st), before)
}
