package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// profileStore is what the profile tests need of a store.
type profileStore = interface {
	store.ProfileStore
	Close() error
}

// RunProfiles runs the contract suite of store.ProfileStore against the
// stores open returns, under the same rules as Run (which runs it too, as
// its "Profiles" group).
func RunProfiles(t *testing.T, open func(t *testing.T) interface {
	store.ProfileStore
	Close() error
}) {
	s := profileSuite{open: open}
	t.Run("Checkpoint", s.checkpoint)
	t.Run("Invalid", s.invalid)
	t.Run("Load", s.load)
	t.Run("Batches", s.batches)
	t.Run("Timeline", s.timeline)
	t.Run("TraitHistory", s.traitHistory)
	t.Run("Packed", s.packed)
	t.Run("Decisions", s.decisions)
	t.Run("Clean", s.clean)
	t.Run("Context", s.canceled)
	t.Run("Atomic", s.atomic)
}

// profileSuite carries the opener to the profile test groups.
type profileSuite struct {
	open func(t *testing.T) profileStore
}

// newStore opens a fresh store that is closed when t ends.
func (s profileSuite) newStore(t *testing.T) profileStore {
	t.Helper()
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
	})
	return st
}

// maxID is the largest profile ID and position the contract allows.
const maxID = math.MaxInt64

// sec is a second, short to keep the tables of rows readable.
const sec = time.Second

// zeroTime is the Timeline cursor that means "from the newest".
var zeroTime time.Time

// pcommit returns a profile commit at seq of batches.
func pcommit(seq uint64, batches ...store.ProfileBatch) *store.ProfileCommit {
	return &store.ProfileCommit{Seq: seq, Batches: batches}
}

// withDecisions returns c with decisions added.
func withDecisions(c *store.ProfileCommit, ds ...store.DecisionRow) *store.ProfileCommit {
	c.Decisions = append(c.Decisions, ds...)
	return c
}

// saveProfiles saves profile commits in order or fails t.
func saveProfiles(t *testing.T, st store.ProfileStore, commits ...*store.ProfileCommit) {
	t.Helper()
	for _, c := range commits {
		if err := st.SaveProfiles(t.Context(), c); err != nil {
			t.Fatalf("SaveProfiles(seq %d) = %v, want nil", c.Seq, err)
		}
	}
}

// prof returns a profile row whose data is data.
func prof(id uint64, data string) store.ProfileRow {
	return store.ProfileRow{ID: id, Data: []byte(data)}
}

// tl returns a timeline row of profile pid for the event at seq, at base+d.
// Its other fields derive from seq, so a row moved to another profile is
// tl(other, seq, d).
func tl(pid, seq uint64, d time.Duration) store.TimelineRow {
	return store.TimelineRow{ProfileID: pid, Seq: seq, Time: at(d), Type: "track",
		Name: fmt.Sprintf("Event %d", seq), SourceID: "src_web"}
}

// tr returns a trait row of profile pid: the event at seq, at base+d, set
// group's trait name to value (JSON).
func tr(pid uint64, group, name string, seq uint64, d time.Duration, value string) store.TraitRow {
	return store.TraitRow{ProfileID: pid, GroupID: group, Name: name, Value: []byte(value), Time: at(d), Seq: seq,
		SourceID: "src_web", MessageID: fmt.Sprintf("msg_%d", seq)}
}

// dec returns a decision row about profile pid made at seq.
func dec(pid, seq uint64, kind string) store.DecisionRow {
	return store.DecisionRow{ProfileID: pid, Seq: seq, Kind: kind, Data: fmt.Appendf(nil, `{"seq":%d}`, seq)}
}

// keptTimeline returns rows as the store gives them back.
func keptTimeline(rows ...store.TimelineRow) []store.TimelineRow {
	out := make([]store.TimelineRow, len(rows))
	for i, r := range rows {
		r.Time = kept(r.Time)
		r.Type, r.Name, r.SourceID = store.CleanText(r.Type), store.CleanText(r.Name), store.CleanText(r.SourceID)
		out[i] = r
	}
	return out
}

// keptTraits returns rows as the store gives them back.
func keptTraits(rows ...store.TraitRow) []store.TraitRow {
	out := make([]store.TraitRow, len(rows))
	for i, r := range rows {
		r.Time = kept(r.Time)
		r.GroupID, r.Name = store.CleanText(r.GroupID), store.CleanText(r.Name)
		r.SourceID, r.MessageID = store.CleanText(r.SourceID), store.CleanText(r.MessageID)
		out[i] = r
	}
	return out
}

// keptDecisions returns rows as the store gives them back.
func keptDecisions(rows ...store.DecisionRow) []store.DecisionRow {
	out := make([]store.DecisionRow, len(rows))
	for i, r := range rows {
		r.Kind = store.CleanText(r.Kind)
		out[i] = r
	}
	return out
}

// profileCheckpoint returns ProfileCheckpoint() or fails t.
func profileCheckpoint(t *testing.T, st store.ProfileStore) (seq uint64, graph []byte, graphSeq uint64) {
	t.Helper()
	seq, graph, graphSeq, err := st.ProfileCheckpoint(t.Context())
	if err != nil {
		t.Fatalf("ProfileCheckpoint() = %v, want nil", err)
	}
	return seq, graph, graphSeq
}

// loadProfiles returns every profile LoadProfiles gives, or fails t.
func loadProfiles(t *testing.T, st store.ProfileStore) []store.ProfileRow {
	t.Helper()
	var got []store.ProfileRow
	err := st.LoadProfiles(t.Context(), func(id uint64, data []byte) error {
		got = append(got, store.ProfileRow{ID: id, Data: slices.Clone(data)})
		return nil
	})
	if err != nil {
		t.Fatalf("LoadProfiles() = %v, want nil", err)
	}
	return got
}

// timelineOf returns Timeline(pid, before, beforeSeq, limit) or fails t.
func timelineOf(t *testing.T, st store.ProfileStore, pid uint64, before time.Time, beforeSeq uint64, limit int) []store.TimelineRow {
	t.Helper()
	got, err := st.Timeline(t.Context(), pid, before, beforeSeq, limit)
	if err != nil {
		t.Fatalf("Timeline(%d, %v, %d, %d) = %v, want nil", pid, before, beforeSeq, limit, err)
	}
	for i, r := range got {
		checkUTC(t, fmt.Sprintf("Timeline(%d)[%d].Time", pid, i), r.Time)
	}
	return got
}

// traitsOf returns TraitHistory(pid, group, name, limit) or fails t.
func traitsOf(t *testing.T, st store.ProfileStore, pid uint64, group, name string, limit int) []store.TraitRow {
	t.Helper()
	got, err := st.TraitHistory(t.Context(), pid, group, name, limit)
	if err != nil {
		t.Fatalf("TraitHistory(%d, %q, %q, %d) = %v, want nil", pid, group, name, limit, err)
	}
	for i, r := range got {
		checkUTC(t, fmt.Sprintf("TraitHistory(%d, %q, %q)[%d].Time", pid, group, name, i), r.Time)
	}
	return got
}

// decisionsOf returns Decisions(pid) or fails t.
func decisionsOf(t *testing.T, st store.ProfileStore, pid uint64) []store.DecisionRow {
	t.Helper()
	got, err := st.Decisions(t.Context(), pid)
	if err != nil {
		t.Fatalf("Decisions(%d) = %v, want nil", pid, err)
	}
	return got
}

// newestFirst orders rows of one profile's timeline or one trait's history
// as the store returns them: by (Time, Seq), newest first.
func newestFirst(at1 time.Time, seq1 uint64, at2 time.Time, seq2 uint64) int {
	if c := at2.Compare(at1); c != 0 {
		return c
	}
	return cmp.Compare(seq2, seq1)
}

func (s profileSuite) checkpoint(t *testing.T) {
	g1, g2 := []byte("graph\x00\xff one"), []byte("graph two")
	tests := []struct {
		name         string
		commits      []*store.ProfileCommit
		wantSeq      uint64
		wantGraph    []byte
		wantGraphSeq uint64
		wantProfiles []store.ProfileRow
	}{
		{name: "empty"},
		{name: "position without a graph", commits: []*store.ProfileCommit{pcommit(5)}, wantSeq: 5},
		{name: "graph at its position", commits: []*store.ProfileCommit{{Seq: 5, Graph: g1}},
			wantSeq: 5, wantGraph: g1, wantGraphSeq: 5},
		{name: "nil graph keeps the stored one", commits: []*store.ProfileCommit{{Seq: 5, Graph: g1}, pcommit(9)},
			wantSeq: 9, wantGraph: g1, wantGraphSeq: 5},
		{name: "newer graph replaces", commits: []*store.ProfileCommit{{Seq: 5, Graph: g1}, {Seq: 9, Graph: g2}},
			wantSeq: 9, wantGraph: g2, wantGraphSeq: 9},
		{name: "replay of the same position is a no-op", commits: []*store.ProfileCommit{
			{Seq: 5, Graph: g1, Batches: []store.ProfileBatch{{Profiles: []store.ProfileRow{prof(1, "first")}}}},
			{Seq: 5, Graph: g2, Batches: []store.ProfileBatch{{Deleted: []uint64{1}, Profiles: []store.ProfileRow{prof(2, "replay")}}}},
		}, wantSeq: 5, wantGraph: g1, wantGraphSeq: 5, wantProfiles: []store.ProfileRow{prof(1, "first")}},
		{name: "replay of an older position is a no-op", commits: []*store.ProfileCommit{
			{Seq: 9, Batches: []store.ProfileBatch{{Profiles: []store.ProfileRow{prof(1, "first")}}}},
			{Seq: 5, Graph: g2, Batches: []store.ProfileBatch{{Profiles: []store.ProfileRow{prof(1, "older")}}}},
		}, wantSeq: 9, wantProfiles: []store.ProfileRow{prof(1, "first")}},
		{name: "largest position", commits: []*store.ProfileCommit{{Seq: maxID, Graph: g1}},
			wantSeq: maxID, wantGraph: g1, wantGraphSeq: maxID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			saveProfiles(t, st, tt.commits...)
			seq, graph, graphSeq := profileCheckpoint(t, st)
			if seq != tt.wantSeq || graphSeq != tt.wantGraphSeq {
				t.Errorf("ProfileCheckpoint() = %d, _, %d; want %d, _, %d", seq, graphSeq, tt.wantSeq, tt.wantGraphSeq)
			}
			diff(t, "ProfileCheckpoint() graph", graph, tt.wantGraph)
			diff(t, "LoadProfiles()", loadProfiles(t, st), tt.wantProfiles)
		})
	}
}

// invalid tests that positions and IDs past 2^63-1 are refused with
// EINVALID and nothing saved.
func (s profileSuite) invalid(t *testing.T) {
	const tooBig = maxID + 1
	tests := []struct {
		name string
		c    *store.ProfileCommit
	}{
		{"position", pcommit(tooBig)},
		{"deleted", pcommit(2, store.ProfileBatch{Deleted: []uint64{tooBig}})},
		{"absorbed", pcommit(2, store.ProfileBatch{Merges: []store.ProfileMerge{{Absorbed: tooBig, Survivor: 1}}})},
		{"survivor", pcommit(2, store.ProfileBatch{Merges: []store.ProfileMerge{{Absorbed: 1, Survivor: tooBig}}})},
		{"timeline profile", pcommit(2, store.ProfileBatch{Timeline: []store.TimelineRow{tl(tooBig, 1, 0)}})},
		{"timeline seq", pcommit(2, store.ProfileBatch{Timeline: []store.TimelineRow{tl(1, tooBig, 0)}})},
		{"trait profile", pcommit(2, store.ProfileBatch{Traits: []store.TraitRow{tr(tooBig, "", "a", 1, 0, "1")}})},
		{"trait seq", pcommit(2, store.ProfileBatch{Traits: []store.TraitRow{tr(1, "", "a", tooBig, 0, "1")}})},
		{"profile", pcommit(2, store.ProfileBatch{Profiles: []store.ProfileRow{prof(tooBig, "x")}})},
		{"decision profile", withDecisions(pcommit(2), dec(tooBig, 1, "merge"))},
		{"decision seq", withDecisions(pcommit(2), dec(1, tooBig, "merge"))},
		{"in a later batch", pcommit(2, store.ProfileBatch{Profiles: []store.ProfileRow{prof(1, "new")}},
			store.ProfileBatch{Profiles: []store.ProfileRow{prof(tooBig, "x")}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			saveProfiles(t, st, pcommit(1, store.ProfileBatch{Profiles: []store.ProfileRow{prof(1, "old")}}))
			err := st.SaveProfiles(t.Context(), tt.c)
			checkCode(t, "SaveProfiles()", err, mosaic.EINVALID)
			if seq, _, _ := profileCheckpoint(t, st); seq != 1 {
				t.Errorf("ProfileCheckpoint() after a refused commit = %d, want 1", seq)
			}
			diff(t, "LoadProfiles() after a refused commit", loadProfiles(t, st), []store.ProfileRow{prof(1, "old")})
		})
	}
}

func (s profileSuite) load(t *testing.T) {
	t.Run("ID order", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		saveProfiles(t, st,
			pcommit(1, store.ProfileBatch{Profiles: []store.ProfileRow{prof(3, "three"), prof(maxID, "max"), prof(1, "one")}}),
			pcommit(2, store.ProfileBatch{Profiles: []store.ProfileRow{prof(2, "\x00\xff two"), prof(1, "one again"), prof(4, "")}}))
		want := []store.ProfileRow{prof(1, "one again"), prof(2, "\x00\xff two"), prof(3, "three"), prof(4, ""), prof(maxID, "max")}
		diff(t, "LoadProfiles()", loadProfiles(t, st), want)
	})
	t.Run("empty store", func(t *testing.T) {
		t.Parallel()
		diff(t, "LoadProfiles()", loadProfiles(t, s.newStore(t)), []store.ProfileRow{})
	})
	t.Run("stops at fn's error", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		saveProfiles(t, st, pcommit(1, store.ProfileBatch{Profiles: []store.ProfileRow{prof(1, "a"), prof(2, "b")}}))
		stop := errors.New("stop here")
		var calls []uint64
		err := st.LoadProfiles(t.Context(), func(id uint64, _ []byte) error {
			calls = append(calls, id)
			return stop
		})
		if !errors.Is(err, stop) {
			t.Errorf("LoadProfiles() = %v, want fn's error", err)
		}
		diff(t, "profiles LoadProfiles passed to fn", calls, []uint64{1})
	})
}

// sortedProfiles returns rows by ID.
func sortedProfiles(rows []store.ProfileRow) []store.ProfileRow {
	return slices.SortedStableFunc(slices.Values(rows), func(a, b store.ProfileRow) int { return cmp.Compare(a.ID, b.ID) })
}
