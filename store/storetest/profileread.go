package storetest

import (
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// bySeq returns the rows with the given seqs, in that order.
func bySeq[R any](rows []R, seqOf func(R) uint64, seqs ...uint64) []R {
	out := []R{}
	for _, seq := range seqs {
		for _, r := range rows {
			if seqOf(r) == seq {
				out = append(out, r)
			}
		}
	}
	return out
}

func (s profileSuite) timeline(t *testing.T) {
	// Seqs do not follow times, several rows share a time (row 4 only to
	// the microsecond), and profile 2's row is newer than all of 1's.
	rows := []store.TimelineRow{tl(1, 1, 3*sec), tl(1, 2, sec), tl(1, 3, 2*sec), tl(1, 4, 2*sec-700*time.Nanosecond),
		tl(1, 5, 2*sec), tl(1, 6, 0), tl(2, 7, 5*sec)}
	want := func(seqs ...uint64) []store.TimelineRow {
		return bySeq(keptTimeline(rows...), func(r store.TimelineRow) uint64 { return r.Seq }, seqs...)
	}
	tests := []struct {
		name      string
		pid       uint64
		before    time.Time
		beforeSeq uint64
		limit     int
		want      []store.TimelineRow
	}{
		{name: "newest first", pid: 1, limit: 100, want: want(1, 5, 4, 3, 2, 6)},
		{name: "limit", pid: 1, limit: 2, want: want(1, 5)},
		{name: "limit 0", pid: 1, limit: 0, want: want()},
		{name: "before a row sharing its time", pid: 1, before: at(2 * sec), beforeSeq: 4, limit: 100, want: want(3, 2, 6)},
		{name: "before a time at seq 0", pid: 1, before: at(2 * sec), beforeSeq: 0, limit: 100, want: want(2, 6)},
		{name: "before a time at the largest seq", pid: 1, before: at(2 * sec), beforeSeq: maxID, limit: 100, want: want(5, 4, 3, 2, 6)},
		{name: "before the oldest", pid: 1, before: at(0), beforeSeq: 6, limit: 100, want: want()},
		{name: "before everything", pid: 1, before: at(time.Hour), limit: 100, want: want(1, 5, 4, 3, 2, 6)},
		{name: "cursor and limit", pid: 1, before: at(3 * sec), beforeSeq: 1, limit: 2, want: want(5, 4)},
		{name: "other profile", pid: 2, limit: 100, want: want(7)},
		{name: "unknown profile", pid: 3, limit: 100, want: want()},
	}
	st := s.newStore(t)
	saveProfiles(t, st, pcommit(1, store.ProfileBatch{Timeline: rows[:3]}), pcommit(2, store.ProfileBatch{Timeline: rows[3:]}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := timelineOf(t, st, tt.pid, tt.before, tt.beforeSeq, tt.limit)
			diff(t, "Timeline()", got, tt.want)
		})
	}
	t.Run("paging", func(t *testing.T) {
		var all []store.TimelineRow
		page := timelineOf(t, st, 1, zeroTime, 0, 2)
		for len(page) > 0 && len(all) < 100 {
			all = append(all, page...)
			last := page[len(page)-1]
			page = timelineOf(t, st, 1, last.Time, last.Seq, 2)
		}
		diff(t, "Timeline() paged by 2", all, want(1, 5, 4, 3, 2, 6))
	})
}

func (s profileSuite) traitHistory(t *testing.T) {
	rows := []store.TraitRow{tr(1, "", "email", 1, 0, `"a"`), tr(1, "", "email", 2, 2*sec, `"b"`),
		tr(1, "", "email", 3, sec, `"c"`), tr(1, "", "email", 4, 2*sec, `"d"`), tr(1, "acc", "email", 5, 3*sec, `"acc"`),
		tr(1, "", "plan", 6, 3*sec, `"pro"`), tr(2, "", "email", 7, 4*sec, `"two"`)}
	want := func(seqs ...uint64) []store.TraitRow {
		return bySeq(keptTraits(rows...), func(r store.TraitRow) uint64 { return r.Seq }, seqs...)
	}
	tests := []struct {
		name         string
		pid          uint64
		group, trait string
		limit        int
		want         []store.TraitRow
	}{
		{name: "newest first", pid: 1, trait: "email", limit: 10, want: want(4, 2, 3, 1)},
		{name: "limit", pid: 1, trait: "email", limit: 2, want: want(4, 2)},
		{name: "limit 0", pid: 1, trait: "email", limit: 0, want: want()},
		{name: "group trait", pid: 1, group: "acc", trait: "email", limit: 10, want: want(5)},
		{name: "other trait", pid: 1, trait: "plan", limit: 10, want: want(6)},
		{name: "other profile", pid: 2, trait: "email", limit: 10, want: want(7)},
		{name: "names are exact", pid: 1, trait: "Email", limit: 10, want: want()},
		{name: "unknown group", pid: 1, group: "other", trait: "email", limit: 10, want: want()},
	}
	st := s.newStore(t)
	saveProfiles(t, st, pcommit(1, store.ProfileBatch{Traits: rows[:3]}), pcommit(2, store.ProfileBatch{Traits: rows[3:]}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff(t, "TraitHistory()", traitsOf(t, st, tt.pid, tt.group, tt.trait, tt.limit), tt.want)
		})
	}
}

func (s profileSuite) decisions(t *testing.T) {
	st := s.newStore(t)
	saveProfiles(t, st,
		withDecisions(pcommit(1), dec(1, 7, "merge"), dec(1, 3, "refusal"), dec(2, 5, "merge")),
		withDecisions(pcommit(2), dec(1, 5, "merge")))
	tests := []struct {
		pid  uint64
		want []store.DecisionRow
	}{
		{1, []store.DecisionRow{dec(1, 3, "refusal"), dec(1, 5, "merge"), dec(1, 7, "merge")}},
		{2, []store.DecisionRow{dec(2, 5, "merge")}},
		{3, nil},
	}
	for _, tt := range tests {
		diff(t, "Decisions()", decisionsOf(t, st, tt.pid), tt.want)
	}
}

// clean tests that text is stored as store.CleanText makes it, lookups
// clean their arguments alike, and bytes are kept byte for byte.
func (s profileSuite) clean(t *testing.T) {
	st := s.newStore(t)
	row := store.TimelineRow{ProfileID: 1, Seq: 1, Time: at(0), Type: "tr\x00ack", Name: "Ev\xffent \x00", SourceID: "src\x00web"}
	trait := store.TraitRow{ProfileID: 1, GroupID: "acc\x00", Name: "na\xffme", Value: []byte("\"\x00\xff\""), Time: at(0), Seq: 1,
		SourceID: "s\xff", MessageID: "m\x00"}
	decision := store.DecisionRow{ProfileID: 1, Seq: 1, Kind: "mer\x00ge\xff", Data: []byte("\x00\xff\xfe")}
	profile := prof(1, "\x00\xff\x00")
	saveProfiles(t, st, withDecisions(pcommit(1, store.ProfileBatch{Timeline: []store.TimelineRow{row},
		Traits: []store.TraitRow{trait}, Profiles: []store.ProfileRow{profile}}), decision))

	diff(t, "Timeline()", timelineOf(t, st, 1, zeroTime, 0, 10), keptTimeline(row))
	diff(t, "TraitHistory(uncleaned group and name)", traitsOf(t, st, 1, trait.GroupID, trait.Name, 10), keptTraits(trait))
	diff(t, "TraitHistory(cleaned group and name)", traitsOf(t, st, 1, "acc", "na\uFFFDme", 10), keptTraits(trait))
	diff(t, "Decisions()", decisionsOf(t, st, 1), keptDecisions(decision))
	diff(t, "LoadProfiles()", loadProfiles(t, st), []store.ProfileRow{profile})
}
