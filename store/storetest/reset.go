package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// resetProfiles are the profile IDs whose rows storeState reads.
var resetProfiles = []uint64{1, 2, 3}

// storeState is what a store answers about everything ResetDerived clears
// or keeps, for sources web and app and the profiles resetProfiles.
type storeState struct {
	DedupeSeq  uint64
	Chunks     []store.DedupeChunk
	Duplicates map[uint64]bool
	Stats      []*mosaic.SourceStats
	ProfileSeq uint64
	Graph      []byte
	GraphSeq   uint64
	Profiles   []store.ProfileRow
	Timeline   []store.TimelineRow
	Traits     []store.TraitRow
	Decisions  []store.DecisionRow
	Sources    []*mosaic.Source
	Setting    string
	Rejected   []*mosaic.Rejected
}

// readStoreState returns st's state or fails t.
func readStoreState(t *testing.T, st store.Store) storeState {
	t.Helper()
	var s storeState
	s.DedupeSeq, s.Chunks = checkpoint(t, st, time.Time{})
	s.Duplicates = duplicates(t, st, 0, maxID)
	s.Stats = []*mosaic.SourceStats{mustStats(t, st, "src_web"), mustStats(t, st, "src_app")}
	s.ProfileSeq, s.Graph, s.GraphSeq = profileCheckpoint(t, st)
	s.Profiles = loadProfiles(t, st)
	for _, pid := range resetProfiles {
		s.Timeline = append(s.Timeline, timelineOf(t, st, pid, zeroTime, 0, 10_000)...)
		s.Traits = append(s.Traits, traitsOf(t, st, pid, "", "n", 10_000)...)
		s.Decisions = append(s.Decisions, decisionsOf(t, st, pid)...)
	}
	var err error
	if s.Sources, err = st.Sources(t.Context()); err != nil {
		t.Fatalf("Sources() = %v, want nil", err)
	}
	if s.Setting, err = st.Setting(t.Context(), "k"); err != nil {
		t.Fatalf("Setting(k) = %v, want nil", err)
	}
	s.Rejected = append(listRejected(t, st, "src_web"), listRejected(t, st, "src_app")...)
	return s
}

// cleared returns s as ResetDerived leaves it: no derived state, counters
// of the quarantine only, the rest as it was.
func (s storeState) cleared() storeState {
	c := storeState{Sources: s.Sources, Setting: s.Setting, Rejected: s.Rejected}
	for _, st := range s.Stats {
		c.Stats = append(c.Stats, &mosaic.SourceStats{SourceID: st.SourceID, Received: st.Rejected, Rejected: st.Rejected})
	}
	return c
}

// seedDerived gives a store with sources web and app (and a deleted one)
// and setting k both derived state and state that is not derived.
func seedDerived(t *testing.T, st store.Store) {
	t.Helper()
	mustCreate(t, st, source("web", base), source("app", at(sec)), source("old", at(2*sec)))
	deletes("src_old")(t, st)
	if err := st.PutSetting(t.Context(), "k", "v"); err != nil {
		t.Fatalf("PutSetting(k) = %v, want nil", err)
	}
	rejects("src_web", 2)(t, st)
	rejects("src_app", 1)(t, st)
	mustSave(t, st, &store.DedupeCommit{Seq: 10, Chunk: chunk(0, "aaaa"), Duplicates: []uint64{4, 7},
		Counts: map[string]store.Increment{"src_web": {Stored: 8, Duplicates: 2}}})
	mustSave(t, st, &store.DedupeCommit{Seq: 20, Chunk: chunk(sec, "bbbb"), Duplicates: []uint64{15},
		Counts: map[string]store.Increment{"src_web": {Stored: 3, Duplicates: 1}, "src_app": {Stored: 5}}})
	saveProfiles(t, st,
		withDecisions(&store.ProfileCommit{Seq: 5, Graph: []byte("graph"), Batches: []store.ProfileBatch{{
			Timeline: []store.TimelineRow{tl(1, 1, 0), tl(1, 2, sec), tl(2, 3, 0)},
			Traits:   []store.TraitRow{tr(1, "", "n", 1, 0, `1`), tr(2, "", "n", 3, 0, `"x"`)},
			Profiles: []store.ProfileRow{prof(1, "one"), prof(2, "two")},
		}}}, dec(1, 2, "merge"), dec(2, 3, "refuse")),
		pcommit(8, store.ProfileBatch{Timeline: []store.TimelineRow{tl(3, 8, 0)}, Profiles: []store.ProfileRow{prof(3, "three")}}))
}

// mustReset runs ResetDerived or fails t.
func mustReset(t *testing.T, st store.Store) {
	t.Helper()
	if err := st.ResetDerived(t.Context()); err != nil {
		t.Fatalf("ResetDerived() = %v, want nil", err)
	}
}

// reset tests ResetDerived.
func (s suite) reset(t *testing.T) {
	t.Run("Clears", s.resetClears)
	t.Run("Empty", s.resetEmpty)
	t.Run("StartOver", s.resetStartOver)
	t.Run("Canceled", s.resetCanceled)
	t.Run("Atomic", s.resetAtomic)
}

func (s suite) resetClears(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	seedDerived(t, st)
	before := readStoreState(t, st)
	if before.DedupeSeq != 20 || before.ProfileSeq != 8 || len(before.Timeline) != 4 || len(before.Rejected) != 3 {
		t.Fatalf("state before ResetDerived() = %+v, want the seeded state", before)
	}
	want := before.cleared()
	mustReset(t, st)
	diff(t, "state after ResetDerived()", readStoreState(t, st), want)
	mustReset(t, st)
	diff(t, "state after a second ResetDerived()", readStoreState(t, st), want)
}

func (s suite) resetEmpty(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	mustCreate(t, st, source("web", base))
	if err := st.PutSetting(t.Context(), "k", "v"); err != nil {
		t.Fatalf("PutSetting(k) = %v, want nil", err)
	}
	before := readStoreState(t, st)
	mustReset(t, st)
	diff(t, "state after ResetDerived() of an empty store", readStoreState(t, st), before)
}

// resetStartOver tests that after a reset the stages save from position 0
// again, below the positions saved before it.
func (s suite) resetStartOver(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	seedDerived(t, st)
	want := readStoreState(t, st).cleared()
	mustReset(t, st)
	mustSave(t, st, &store.DedupeCommit{Seq: 3, Chunk: chunk(0, "cccc"), Duplicates: []uint64{2},
		Counts: map[string]store.Increment{"src_web": {Stored: 2, Duplicates: 1}}})
	saveProfiles(t, st, withDecisions(&store.ProfileCommit{Seq: 2, Graph: []byte("graph 2"), Batches: []store.ProfileBatch{{
		Timeline: []store.TimelineRow{tl(1, 1, 0)},
		Traits:   []store.TraitRow{tr(1, "", "n", 1, 0, `2`)},
		Profiles: []store.ProfileRow{prof(1, "one again")},
	}}}, dec(1, 1, "merge")))
	want.DedupeSeq, want.Chunks, want.Duplicates = 3, keptChunks(chunk(0, "cccc")), map[uint64]bool{2: true}
	want.Stats[0].Stored, want.Stats[0].Duplicates, want.Stats[0].Received = 2, 1, 2+1+want.Stats[0].Rejected
	want.ProfileSeq, want.Graph, want.GraphSeq = 2, []byte("graph 2"), 2
	want.Profiles = []store.ProfileRow{prof(1, "one again")}
	want.Timeline = keptTimeline(tl(1, 1, 0))
	want.Traits = keptTraits(tr(1, "", "n", 1, 0, `2`))
	want.Decisions = keptDecisions(dec(1, 1, "merge"))
	diff(t, "state after saves that follow ResetDerived()", readStoreState(t, st), want)
}

func (s suite) resetCanceled(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	seedDerived(t, st)
	before := readStoreState(t, st)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := st.ResetDerived(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ResetDerived() with a canceled context = %v, want an error wrapping context.Canceled", err)
	}
	diff(t, "state after a canceled ResetDerived()", readStoreState(t, st), before)
}

// resetAtomic tests that a reset ended by its context at any point clears
// all or nothing: it is tried with deadlines doubling from a microsecond
// until one is long enough, on a store with enough rows to take a while.
func (s suite) resetAtomic(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	seedDerived(t, st)
	big := bigCommit()
	big.Seq = 9
	saveProfiles(t, st, big)
	before := readStoreState(t, st)
	after := before.cleared()
	for d, tries := time.Microsecond, 0; ; d, tries = d*2, tries+1 {
		if d > time.Minute {
			t.Fatal("ResetDerived() failed with deadlines up to a minute, want it to succeed")
		}
		ctx, cancel := context.WithTimeout(t.Context(), d)
		err := st.ResetDerived(ctx)
		cancel()
		got := readStoreState(t, st)
		if err == nil || got.DedupeSeq == 0 {
			// Reset; the deadline may have come as the reset returned.
			diff(t, fmt.Sprintf("state after ResetDerived() with a %v deadline = %v", d, err), got, after)
			t.Logf("ResetDerived() reset with a %v deadline, after %d tries that failed", d, tries)
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("ResetDerived() with a %v deadline = %v, want an error wrapping context.DeadlineExceeded", d, err)
		}
		diff(t, fmt.Sprintf("state after ResetDerived() failed with a %v deadline", d), got, before)
	}
}
