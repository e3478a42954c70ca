package profile

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"pgregory.net/rapid"
)

// memStore keeps what batches write, following the order Batch documents:
// the store's side of the contract, as the engine's store must implement it.
type memStore struct {
	profiles map[uint64][]byte
	timeline map[uint64][]TimelineEntry
	traits   map[uint64][]TraitWrite
}

func newMemStore() *memStore {
	return &memStore{profiles: map[uint64][]byte{}, timeline: map[uint64][]TimelineEntry{},
		traits: map[uint64][]TraitWrite{}}
}

func (m *memStore) write(b Batch) {
	for _, id := range b.Deleted {
		delete(m.profiles, id)
		delete(m.timeline, id)
		delete(m.traits, id)
	}
	for _, mr := range b.Merges {
		for _, e := range m.timeline[mr.Absorbed] {
			e.ProfileID = mr.Survivor
			m.timeline[mr.Survivor] = append(m.timeline[mr.Survivor], e)
		}
		for _, w := range m.traits[mr.Absorbed] {
			w.ProfileID = mr.Survivor
			m.traits[mr.Survivor] = append(m.traits[mr.Survivor], w)
		}
		delete(m.timeline, mr.Absorbed)
		delete(m.traits, mr.Absorbed)
		delete(m.profiles, mr.Absorbed)
	}
	for _, e := range b.Timeline {
		m.timeline[e.ProfileID] = append(m.timeline[e.ProfileID], e)
	}
	for _, w := range b.Traits {
		m.traits[w.ProfileID] = append(m.traits[w.ProfileID], w)
	}
	for _, s := range b.Profiles {
		m.profiles[s.ID] = s.Data
	}
}

// rows returns id's stored rows in a canonical order, relabelled as 0.
func (m *memStore) rows(id uint64) ([]TimelineEntry, []TraitWrite) {
	tl := slices.Clone(m.timeline[id])
	tw := slices.Clone(m.traits[id])
	for i := range tl {
		tl[i].ProfileID = 0
	}
	for i := range tw {
		tw[i].ProfileID = 0
	}
	slices.SortFunc(tl, func(a, b TimelineEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	slices.SortFunc(tw, func(a, b TraitWrite) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.GroupID, b.GroupID), cmp.Compare(a.Name, b.Name))
	})
	return tl, tw
}

func flush(t tb, s *Set, m *memStore) {
	t.Helper()
	b, err := s.Flush()
	if err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	m.write(b)
	s.Reuse(&b) // the store copied the rows: as the engine does once a save is done
}

func TestSetApplyAndFlush(t *testing.T) {
	s := NewSet()
	for _, ev := range []*mosaic.Event{
		event(1, "identify", `{"traits":{"plan":"pro","email":"a@example.com"},"timestamp":"2024-05-01T10:00:00Z"}`),
		event(2, "page", `{"name":"Ho\u006de","timestamp":"2024-05-01T10:01:00Z"}`),
		event(3, "group", `{"groupId":"acme","traits":{"size":3},"timestamp":"2024-05-01T10:02:00Z"}`),
	} {
		if err := s.Apply(pa, ev); err != nil {
			t.Fatalf("Apply(%d, seq %d) = %v", pa, ev.Seq, err)
		}
	}
	if err := s.Apply(pa, event(4, "track", `{`)); err == nil {
		t.Errorf("Apply(a, invalid) = nil, want an error")
	}
	if got := len(s.PendingTimeline(pa)); got != 3 {
		t.Errorf("len(PendingTimeline(a)) = %d, want 3", got)
	}
	b, err := s.Flush()
	if err != nil {
		t.Fatalf("Flush() = %v", err)
	}
	ts := func(min int) string { return fmt.Sprintf("2024-05-01 10:%02d:00 +0000 UTC", min) }
	var tl []string
	for _, e := range b.Timeline {
		tl = append(tl, fmt.Sprintf("%d %d %s %s %q %s", e.ProfileID, e.Seq, e.Time, e.Type, e.Name, e.SourceID))
	}
	wantTL := []string{
		"10 1 " + ts(0) + ` identify "" web`,
		"10 2 " + ts(1) + ` page "Home" web`,
		"10 3 " + ts(2) + ` group "" web`,
	}
	if diff := gocmp.Diff(wantTL, tl); diff != "" {
		t.Errorf("Batch.Timeline mismatch (-want +got):\n%s", diff)
	}
	var tw []string
	for _, w := range b.Traits {
		tw = append(tw, fmt.Sprintf("%d %q %s=%s %s %d %s %s", w.ProfileID, w.GroupID, w.Name, w.Value, w.Time, w.Seq, w.SourceID, w.MessageID))
	}
	wantTW := []string{
		`10 "" email="a@example.com" ` + ts(0) + ` 1 web m1`,
		`10 "" plan="pro" ` + ts(0) + ` 1 web m1`,
		`10 "acme" size=3 ` + ts(2) + ` 3 web m3`,
	}
	slices.Sort(tw)
	if diff := gocmp.Diff(wantTW, tw); diff != "" {
		t.Errorf("Batch.Traits mismatch (-want +got):\n%s", diff)
	}
	if len(b.Profiles) != 1 || b.Profiles[0].ID != pa {
		t.Fatalf("Batch.Profiles = %v, want profile %d", b.Profiles, pa)
	}
	if want := state(t, s.Get(pa)); !bytes.Equal(b.Profiles[0].Data, mustMarshal(t, s.Get(pa))) {
		t.Errorf("Batch.Profiles[0].Data is not a's binary form %x", want)
	}
	if b, _ := s.Flush(); !b.Empty() {
		t.Errorf("second Flush() = %+v, want an empty batch", b)
	}
}

// Profile IDs of the Set tests.
const pa, pb, pc, pz uint64 = 10, 11, 12, 99

func mustMarshal(t tb, p *Profile) []byte {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary = %v", err)
	}
	return b
}

func TestSetMergeDelete(t *testing.T) {
	tests := []struct {
		name string
		ops  func(t *testing.T, s *Set, m *memStore)
		want map[uint64][]uint64 // stored profile → timeline seqs
	}{{
		name: "merge moves pending and stored rows",
		ops: func(t *testing.T, s *Set, m *memStore) {
			mustApply(t, s, pa, 1)
			flush(t, s, m)
			mustApply(t, s, pa, 2)
			mustApply(t, s, pb, 3)
			s.Merge(pa, pb)
		},
		want: map[uint64][]uint64{pb: {1, 2, 3}},
	}, {
		name: "merge into a profile with no events creates it",
		ops: func(t *testing.T, s *Set, m *memStore) {
			mustApply(t, s, pa, 1)
			s.Merge(pa, pb)
		},
		want: map[uint64][]uint64{pb: {1}},
	}, {
		name: "merging a missing profile or into itself changes nothing",
		ops: func(t *testing.T, s *Set, m *memStore) {
			mustApply(t, s, pa, 1)
			s.Merge(pz, pa)
			s.Merge(pa, pa)
		},
		want: map[uint64][]uint64{pa: {1}},
	}, {
		name: "chained merges",
		ops: func(t *testing.T, s *Set, m *memStore) {
			mustApply(t, s, pa, 1)
			flush(t, s, m)
			mustApply(t, s, pb, 2)
			s.Merge(pa, pb)
			mustApply(t, s, pc, 3)
			s.Merge(pb, pc)
		},
		want: map[uint64][]uint64{pc: {1, 2, 3}},
	}, {
		name: "delete removes stored and pending rows, and those merged in",
		ops: func(t *testing.T, s *Set, m *memStore) {
			mustApply(t, s, pa, 1)
			mustApply(t, s, pb, 2)
			flush(t, s, m)
			mustApply(t, s, pb, 3)
			s.Merge(pa, pb)
			mustApply(t, s, pc, 4)
			s.Delete(pb)
		},
		want: map[uint64][]uint64{pc: {4}},
	}, {
		name: "delete then rebuild in one batch",
		ops: func(t *testing.T, s *Set, m *memStore) {
			mustApply(t, s, pa, 1)
			mustApply(t, s, pa, 2)
			flush(t, s, m)
			s.Delete(pa)
			mustApply(t, s, pa, 2)
		},
		want: map[uint64][]uint64{pa: {2}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m := NewSet(), newMemStore()
			tt.ops(t, s, m)
			flush(t, s, m)
			got := map[uint64][]uint64{}
			for id := range m.profiles {
				got[id] = []uint64{}
				tl, _ := m.rows(id)
				for _, e := range tl {
					got[id] = append(got[id], e.Seq)
				}
			}
			for id := range m.timeline {
				if _, ok := m.profiles[id]; !ok {
					t.Errorf("store has rows of %d, which it has no profile for", id)
				}
			}
			if diff := gocmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stored profiles and timelines mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func mustApply(t *testing.T, s *Set, id, seq uint64) {
	t.Helper()
	if err := s.Apply(id, event(seq, "identify", fmt.Sprintf(`{"traits":{"n":%d}}`, seq))); err != nil {
		t.Fatalf("Apply(%d, seq %d) = %v", id, seq, err)
	}
}

// TestSetsMatchOneProfile: events spread over profiles in two Sets
// (partitions), merged within and across Sets at random moments, flushed
// to the store at random moments, with profiles deleted and rebuilt from
// their events, end in the store exactly as if all events had been applied
// to one profile: the same state, timeline and trait history.
func TestSetsMatchOneProfile(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		evs := genEvents(t)
		ref, refStore := NewSet(), newMemStore()
		for _, ev := range evs {
			if err := ref.Apply(1, ev); err != nil {
				t.Fatalf("Apply = %v", err)
			}
		}
		flush(t, ref, refStore)

		w := newWorld(t)
		for _, ev := range rapid.Permutation(evs).Draw(t, "order") {
			w.randomStep(t)
			w.apply(t, rapid.SampledFrom(w.liveIDs()).Draw(t, "target"), ev)
		}
		for len(w.liveIDs()) > 1 {
			w.merge(t)
		}
		for i := range w.sets {
			flush(t, w.sets[i], w.store)
		}
		survivor := w.liveIDs()[0]
		if len(w.store.profiles) != 1 || len(w.store.timeline) != 1 {
			t.Fatalf("store has %d profiles and timelines of %d, want 1 (%d)",
				len(w.store.profiles), len(w.store.timeline), survivor)
		}
		var got Profile
		if err := got.UnmarshalBinary(w.store.profiles[survivor]); err != nil {
			t.Fatalf("UnmarshalBinary(stored) = %v", err)
		}
		if g, want := state(t, &got), state(t, ref.Get(1)); !bytes.Equal(g, want) {
			t.Fatalf("stored state differs:\n%s", diffStates(t, g, want))
		}
		gotTL, gotTW := w.store.rows(survivor)
		wantTL, wantTW := refStore.rows(1)
		if diff := gocmp.Diff(wantTL, gotTL); diff != "" {
			t.Fatalf("stored timeline mismatch (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff(wantTW, gotTW); diff != "" {
			t.Fatalf("stored trait history mismatch (-want +got):\n%s", diff)
		}
	})
}

// world is two Sets, the store they flush to, and which events each live
// profile holds (to rebuild a deleted one).
type world struct {
	sets   [2]*Set
	home   map[uint64]int             // live profile → its Set
	events map[uint64][]*mosaic.Event // live profile → its events
	store  *memStore
}

func newWorld(t *rapid.T) *world {
	w := &world{sets: [2]*Set{NewSet(), NewSet()}, home: map[uint64]int{},
		events: map[uint64][]*mosaic.Event{}, store: newMemStore()}
	for i := range rapid.IntRange(1, 4).Draw(t, "profiles") {
		w.home[uint64(i+1)<<8] = rapid.IntRange(0, 1).Draw(t, "home")
	}
	return w
}

func (w *world) liveIDs() []uint64 {
	ids := make([]uint64, 0, len(w.home))
	for id := range w.home {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (w *world) apply(t *rapid.T, id uint64, ev *mosaic.Event) {
	if err := w.sets[w.home[id]].Apply(id, ev); err != nil {
		t.Fatalf("Apply = %v", err)
	}
	w.events[id] = append(w.events[id], ev)
}

// randomStep maybe merges, flushes a Set, or deletes and rebuilds a profile.
func (w *world) randomStep(t *rapid.T) {
	switch rapid.IntRange(0, 5).Draw(t, "step") {
	case 0:
		if len(w.home) > 1 {
			w.merge(t)
		}
	case 1:
		flush(t, w.sets[rapid.IntRange(0, 1).Draw(t, "flushSet")], w.store)
	case 2:
		id := rapid.SampledFrom(w.liveIDs()).Draw(t, "rebuild")
		s := w.sets[w.home[id]]
		s.Delete(id)
		evs := w.events[id]
		w.events[id] = nil
		for _, ev := range rapid.Permutation(evs).Draw(t, "rebuildOrder") {
			w.apply(t, id, ev)
		}
	}
}

// merge merges a random live profile into another, across Sets if they
// live in different ones.
func (w *world) merge(t *rapid.T) {
	ids := w.liveIDs()
	a := rapid.SampledFrom(ids).Draw(t, "absorbed")
	b := rapid.SampledFrom(slices.DeleteFunc(ids, func(id uint64) bool { return id == a })).Draw(t, "survivor")
	sa, sb := w.sets[w.home[a]], w.sets[w.home[b]]
	if sa == sb {
		sa.Merge(a, b)
	} else if d := sa.Detach(a); d != nil {
		sb.Absorb(b, d)
	}
	w.events[b] = append(w.events[b], w.events[a]...)
	delete(w.events, a)
	delete(w.home, a)
}
