package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// traitKey names one trait of one profile.
type traitKey struct {
	ProfileID uint64
	GroupID   string
	Name      string
}

// profileState is everything a store holds for some profiles, as its read
// methods return it. Profiles and traits with no rows are left out.
type profileState struct {
	Profiles  []store.ProfileRow
	Timeline  map[uint64][]store.TimelineRow
	Traits    map[traitKey][]store.TraitRow
	Decisions map[uint64][]store.DecisionRow
}

// readState reads, through the read methods, the rows of every profile and
// trait the commits name, whichever profile they may have moved to.
func readState(t *testing.T, st store.ProfileStore, commits []*store.ProfileCommit) profileState {
	t.Helper()
	ids, names := namedIn(commits)
	got := profileState{Profiles: loadProfiles(t, st), Timeline: map[uint64][]store.TimelineRow{},
		Traits: map[traitKey][]store.TraitRow{}, Decisions: map[uint64][]store.DecisionRow{}}
	for _, id := range ids {
		if rows := timelineOf(t, st, id, zeroTime, 0, 1000); len(rows) > 0 {
			got.Timeline[id] = rows
		}
		if rows := decisionsOf(t, st, id); len(rows) > 0 {
			got.Decisions[id] = rows
		}
		for _, n := range names {
			if rows := traitsOf(t, st, id, n.GroupID, n.Name, 1000); len(rows) > 0 {
				got.Traits[traitKey{id, n.GroupID, n.Name}] = rows
			}
		}
	}
	return got
}

// namedIn returns the profile IDs and the (group, name) of traits that
// commits mention.
func namedIn(commits []*store.ProfileCommit) (ids []uint64, names []traitKey) {
	for _, c := range commits {
		for _, d := range c.Decisions {
			ids = append(ids, d.ProfileID)
		}
		for _, b := range c.Batches {
			ids = append(ids, b.Deleted...)
			for _, m := range b.Merges {
				ids = append(ids, m.Absorbed, m.Survivor)
			}
			for _, r := range b.Timeline {
				ids = append(ids, r.ProfileID)
			}
			for _, r := range b.Traits {
				ids = append(ids, r.ProfileID)
				names = append(names, traitKey{GroupID: r.GroupID, Name: r.Name})
			}
			for _, p := range b.Profiles {
				ids = append(ids, p.ID)
			}
		}
	}
	slices.Sort(ids)
	names = slices.Compact(slices.SortedFunc(slices.Values(names), func(a, b traitKey) int {
		return cmp.Or(cmp.Compare(a.GroupID, b.GroupID), cmp.Compare(a.Name, b.Name))
	}))
	return slices.Compact(ids), names
}

// rows lists what a store should hold, in any order.
type rows struct {
	profiles  []store.ProfileRow
	timeline  []store.TimelineRow
	traits    []store.TraitRow
	decisions []store.DecisionRow // in the order saved
}

// state returns r as the read methods should give it back: grouped by
// profile (and trait) and in their orders.
func (r rows) state() profileState {
	s := profileState{Profiles: sortedProfiles(r.profiles), Timeline: map[uint64][]store.TimelineRow{},
		Traits: map[traitKey][]store.TraitRow{}, Decisions: map[uint64][]store.DecisionRow{}}
	for _, row := range keptTimeline(r.timeline...) {
		s.Timeline[row.ProfileID] = append(s.Timeline[row.ProfileID], row)
	}
	for id, list := range s.Timeline {
		slices.SortFunc(list, func(a, b store.TimelineRow) int { return newestFirst(a.Time, a.Seq, b.Time, b.Seq) })
		s.Timeline[id] = list
	}
	for _, row := range keptTraits(r.traits...) {
		k := traitKey{row.ProfileID, row.GroupID, row.Name}
		s.Traits[k] = append(s.Traits[k], row)
	}
	for k, list := range s.Traits {
		slices.SortFunc(list, func(a, b store.TraitRow) int { return newestFirst(a.Time, a.Seq, b.Time, b.Seq) })
		s.Traits[k] = list
	}
	for _, row := range keptDecisions(r.decisions...) {
		s.Decisions[row.ProfileID] = append(s.Decisions[row.ProfileID], row)
	}
	for id, list := range s.Decisions {
		slices.SortStableFunc(list, func(a, b store.DecisionRow) int { return cmp.Compare(a.Seq, b.Seq) })
		s.Decisions[id] = list
	}
	return s
}

// stored is what the batch tests start from: two profiles, 1 and 2, each
// with timeline rows, trait writes and decisions, saved at position 1.
var stored = withDecisions(pcommit(1, store.ProfileBatch{
	Timeline: []store.TimelineRow{tl(1, 1, 0), tl(2, 2, 2*sec), tl(1, 3, 3*sec)},
	Traits: []store.TraitRow{tr(1, "", "email", 1, 0, `"a@one"`), tr(1, "", "email", 3, 3*sec, `"b@one"`),
		tr(1, "acc", "plan", 3, 3*sec, `"pro"`), tr(2, "", "email", 2, 2*sec, `"a@two"`)},
	Profiles: []store.ProfileRow{prof(1, "one"), prof(2, "two")},
}), dec(1, 1, "merge"), dec(2, 2, "refusal"))

// storedRows is stored's content.
var storedRows = rows{
	profiles:  stored.Batches[0].Profiles,
	timeline:  stored.Batches[0].Timeline,
	traits:    stored.Batches[0].Traits,
	decisions: stored.Decisions,
}

// ofProfile returns r's timeline, trait and decision rows of profile from,
// given to profile to, as a merge leaves them.
func (r rows) ofProfile(from, to uint64) rows {
	var out rows
	for _, row := range r.timeline {
		if row.ProfileID == from {
			row.ProfileID = to
			out.timeline = append(out.timeline, row)
		}
	}
	for _, row := range r.traits {
		if row.ProfileID == from {
			row.ProfileID = to
			out.traits = append(out.traits, row)
		}
	}
	for _, row := range r.decisions {
		if row.ProfileID == from {
			row.ProfileID = to
			out.decisions = append(out.decisions, row)
		}
	}
	return out
}

// plus returns r with more rows.
func (r rows) plus(more ...rows) rows {
	out := r
	for _, m := range more {
		out.profiles = append(slices.Clip(out.profiles), m.profiles...)
		out.timeline = append(slices.Clip(out.timeline), m.timeline...)
		out.traits = append(slices.Clip(out.traits), m.traits...)
		out.decisions = append(slices.Clip(out.decisions), m.decisions...)
	}
	return out
}

// batches tests the order in which SaveProfiles applies a commit: deletes,
// then merges, then inserts, then upserts, batch after batch.
func (s profileSuite) batches(t *testing.T) {
	for _, tt := range batchTests() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			saveProfiles(t, st, tt.commits...)
			diff(t, "stored state", readState(t, st, tt.commits), tt.want.state())
		})
	}
}

// batchTest is a case of the batches test.
type batchTest struct {
	name    string
	commits []*store.ProfileCommit
	want    rows
}

// batchTests returns the cases of the batches test.
func batchTests() []batchTest {
	b := func(pb store.ProfileBatch) *store.ProfileCommit { return pcommit(2, pb) }
	merge := func(ms ...store.ProfileMerge) store.ProfileBatch { return store.ProfileBatch{Merges: ms} }
	return []batchTest{
		{name: "insert", commits: []*store.ProfileCommit{stored}, want: storedRows},
		{name: "upsert replaces", commits: []*store.ProfileCommit{stored,
			b(store.ProfileBatch{Profiles: []store.ProfileRow{prof(2, "two again"), prof(3, "three")}})},
			want: rows{profiles: []store.ProfileRow{prof(1, "one"), prof(2, "two again"), prof(3, "three")}}.
				plus(storedRows.ofProfile(1, 1), storedRows.ofProfile(2, 2))},
		{name: "upserts of one profile in one batch keep the last", commits: []*store.ProfileCommit{
			b(store.ProfileBatch{Profiles: []store.ProfileRow{prof(1, "a"), prof(1, "b")}})},
			want: rows{profiles: []store.ProfileRow{prof(1, "b")}}},
		manyRows(),
		{name: "delete drops the profile's timeline and traits, not its decisions", commits: []*store.ProfileCommit{stored,
			b(store.ProfileBatch{Deleted: []uint64{1}})},
			want: rows{profiles: []store.ProfileRow{prof(2, "two")}, decisions: []store.DecisionRow{dec(1, 1, "merge")}}.
				plus(storedRows.ofProfile(2, 2))},
		{name: "delete then insert in one batch", commits: []*store.ProfileCommit{stored,
			b(store.ProfileBatch{Deleted: []uint64{1}, Timeline: []store.TimelineRow{tl(1, 9, sec)},
				Traits: []store.TraitRow{tr(1, "", "email", 9, sec, `"new"`)}, Profiles: []store.ProfileRow{prof(1, "rebuilt")}})},
			want: rows{profiles: []store.ProfileRow{prof(1, "rebuilt"), prof(2, "two")}, timeline: []store.TimelineRow{tl(1, 9, sec)},
				traits: []store.TraitRow{tr(1, "", "email", 9, sec, `"new"`)}, decisions: []store.DecisionRow{dec(1, 1, "merge")}}.
				plus(storedRows.ofProfile(2, 2))},
		{name: "merge moves timeline, traits and decisions", commits: []*store.ProfileCommit{stored,
			b(store.ProfileBatch{Merges: []store.ProfileMerge{{Absorbed: 1, Survivor: 2}}, Profiles: []store.ProfileRow{prof(2, "merged")}})},
			want: rows{profiles: []store.ProfileRow{prof(2, "merged")}}.plus(storedRows.ofProfile(1, 2), storedRows.ofProfile(2, 2))},
		{name: "merge into a profile with no rows", commits: []*store.ProfileCommit{stored, b(merge(store.ProfileMerge{Absorbed: 2, Survivor: 7}))},
			want: rows{profiles: []store.ProfileRow{prof(1, "one")}}.plus(storedRows.ofProfile(1, 1), storedRows.ofProfile(2, 7))},
		{name: "rows inserted after a merge stay with their profile", commits: []*store.ProfileCommit{stored,
			b(store.ProfileBatch{Merges: []store.ProfileMerge{{Absorbed: 1, Survivor: 2}},
				Timeline: []store.TimelineRow{tl(1, 9, sec), tl(2, 10, sec)}, Traits: []store.TraitRow{tr(1, "", "email", 9, sec, `"again"`)},
				Profiles: []store.ProfileRow{prof(1, "again"), prof(2, "merged")}})},
			want: rows{profiles: []store.ProfileRow{prof(1, "again"), prof(2, "merged")},
				timeline: []store.TimelineRow{tl(1, 9, sec), tl(2, 10, sec)}, traits: []store.TraitRow{tr(1, "", "email", 9, sec, `"again"`)}}.
				plus(storedRows.ofProfile(1, 2), storedRows.ofProfile(2, 2))},
		{name: "merges apply in order", commits: []*store.ProfileCommit{stored, b(merge(
			store.ProfileMerge{Absorbed: 1, Survivor: 2}, store.ProfileMerge{Absorbed: 2, Survivor: 3}))},
			want: storedRows.ofProfile(1, 3).plus(storedRows.ofProfile(2, 3))},
		{name: "merges in the other order", commits: []*store.ProfileCommit{stored, b(merge(
			store.ProfileMerge{Absorbed: 2, Survivor: 3}, store.ProfileMerge{Absorbed: 1, Survivor: 2}))},
			want: storedRows.ofProfile(1, 2).plus(storedRows.ofProfile(2, 3))},
		{name: "merge into itself changes nothing", commits: []*store.ProfileCommit{stored, b(merge(store.ProfileMerge{Absorbed: 1, Survivor: 1}))},
			want: storedRows},
		{name: "deletes come before merges", commits: []*store.ProfileCommit{stored,
			b(store.ProfileBatch{Deleted: []uint64{2}, Merges: []store.ProfileMerge{{Absorbed: 1, Survivor: 2}}})},
			want: storedRows.ofProfile(1, 2).plus(rows{decisions: []store.DecisionRow{dec(2, 2, "refusal")}})},
		{name: "a later batch merges rows an earlier batch inserted", commits: []*store.ProfileCommit{pcommit(1,
			store.ProfileBatch{Timeline: []store.TimelineRow{tl(1, 1, 0)}, Traits: []store.TraitRow{tr(1, "", "a", 1, 0, "1")},
				Profiles: []store.ProfileRow{prof(1, "one")}},
			store.ProfileBatch{Merges: []store.ProfileMerge{{Absorbed: 1, Survivor: 2}}, Profiles: []store.ProfileRow{prof(2, "two")}})},
			want: rows{profiles: []store.ProfileRow{prof(2, "two")}, timeline: []store.TimelineRow{tl(2, 1, 0)},
				traits: []store.TraitRow{tr(2, "", "a", 1, 0, "1")}}},
		{name: "an earlier batch's merge leaves a later batch's rows", commits: []*store.ProfileCommit{pcommit(1,
			merge(store.ProfileMerge{Absorbed: 1, Survivor: 2}),
			store.ProfileBatch{Timeline: []store.TimelineRow{tl(1, 1, 0)}, Profiles: []store.ProfileRow{prof(1, "one")}})},
			want: rows{profiles: []store.ProfileRow{prof(1, "one")}, timeline: []store.TimelineRow{tl(1, 1, 0)}}},
		{name: "a later batch deletes rows an earlier batch inserted", commits: []*store.ProfileCommit{pcommit(1,
			store.ProfileBatch{Timeline: []store.TimelineRow{tl(1, 1, 0)}, Traits: []store.TraitRow{tr(1, "", "a", 1, 0, "1")},
				Profiles: []store.ProfileRow{prof(1, "one")}},
			store.ProfileBatch{Deleted: []uint64{1}})}},
		{name: "decisions are saved after the batches", commits: []*store.ProfileCommit{
			withDecisions(pcommit(1, merge(store.ProfileMerge{Absorbed: 1, Survivor: 2})), dec(1, 1, "merge"))},
			want: rows{decisions: []store.DecisionRow{dec(1, 1, "merge")}}},
		{name: "largest IDs", commits: []*store.ProfileCommit{
			withDecisions(pcommit(1, store.ProfileBatch{Timeline: []store.TimelineRow{tl(maxID-1, maxID, 0)},
				Traits: []store.TraitRow{tr(maxID-1, "", "a", maxID, 0, "1")}, Profiles: []store.ProfileRow{prof(maxID-1, "x")}}),
				dec(maxID-1, maxID, "merge")),
			pcommit(2, merge(store.ProfileMerge{Absorbed: maxID - 1, Survivor: maxID}))},
			want: rows{timeline: []store.TimelineRow{tl(maxID, maxID, 0)}, traits: []store.TraitRow{tr(maxID, "", "a", maxID, 0, "1")},
				decisions: []store.DecisionRow{dec(maxID, maxID, "merge")}}},
	}
}

// manyRows is a batch with more rows of each kind than a store may put in
// one statement, repeats included: an event's timeline row and a trait
// write given twice are kept once, and of two upserts of a profile the
// later wins.
func manyRows() batchTest {
	var in, want rows
	for i := range uint64(150) {
		r := tl(1+i%3, 10+i, sec*time.Duration(i))
		in.timeline, want.timeline = append(in.timeline, r), append(want.timeline, r)
		w := tr(1+i%2, "", "score", 10+i, sec*time.Duration(i), fmt.Sprint(i))
		in.traits, want.traits = append(in.traits, w), append(want.traits, w)
	}
	in.timeline = append(in.timeline, in.timeline[70], in.timeline[3])
	in.traits = append(in.traits, in.traits[100])
	for i := range uint64(130) {
		in.profiles = append(in.profiles, prof(i+1, fmt.Sprint("first ", i)))
	}
	in.profiles = append(in.profiles, prof(1, "last"))
	want.profiles = append([]store.ProfileRow{prof(1, "last")}, in.profiles[1:130]...)
	return batchTest{name: "many rows, repeats included",
		commits: []*store.ProfileCommit{pcommit(1, store.ProfileBatch{Timeline: in.timeline, Traits: in.traits, Profiles: in.profiles})},
		want:    want}
}
