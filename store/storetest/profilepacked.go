package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// packed tests long histories: more entries than a store keeps beside a
// profile's state (store.PackedLimit), saved over many commits, then
// merged into another profile, deleted in part and erased. Every entry
// must read back once, in order, whichever way the store packs them.
func (s profileSuite) packed(t *testing.T) {
	st := s.newStore(t)
	var tl1, tl2 []store.TimelineRow
	var tr1 []store.TraitRow
	seq := uint64(0)
	var commits []*store.ProfileCommit
	for c := range 20 {
		var b store.ProfileBatch
		for range 10 {
			seq++
			pid := uint64(1 + seq%2)
			row := tl(pid, seq, time.Duration(seq%37)*sec)
			row.Name = fmt.Sprintf("Event %d with a name long enough to fill a kilobyte soon", seq)
			b.Timeline = append(b.Timeline, row)
			if pid == 1 {
				tl1 = append(tl1, row)
				w := tr(1, "", "email", seq, time.Duration(seq)*sec, fmt.Sprintf(`"person%d@example.com"`, seq))
				b.Traits = append(b.Traits, w)
				tr1 = append(tr1, w)
			} else {
				tl2 = append(tl2, row)
			}
		}
		b.Profiles = []store.ProfileRow{prof(1, fmt.Sprint("one ", c)), prof(2, fmt.Sprint("two ", c))}
		commits = append(commits, pcommit(uint64(c+1), b))
	}
	saveProfiles(t, st, commits...)
	newest := func(rows []store.TimelineRow) []store.TimelineRow {
		out := keptTimeline(rows...)
		slices.SortFunc(out, func(a, b store.TimelineRow) int {
			if c := b.Time.Compare(a.Time); c != 0 {
				return c
			}
			return int(b.Seq) - int(a.Seq)
		})
		return out
	}
	diff(t, "Timeline(1)", timelineOf(t, st, 1, zeroTime, 0, 1000), newest(tl1))
	diff(t, "Timeline(2)", timelineOf(t, st, 2, zeroTime, 0, 1000), newest(tl2))
	wantTraits := keptTraits(tr1...)
	slices.Reverse(wantTraits)
	diff(t, "TraitHistory(1, email)", traitsOf(t, st, 1, "", "email", 1000), wantTraits)

	// Profile 1 merges into a new profile 3, which saves more rows.
	seq++
	row := tl(3, seq, 40*sec)
	saveProfiles(t, st, pcommit(21, store.ProfileBatch{Merges: []store.ProfileMerge{{Absorbed: 1, Survivor: 3}},
		Timeline: []store.TimelineRow{row}, Profiles: []store.ProfileRow{prof(3, "three")}}))
	moved := []store.TimelineRow{row}
	for _, r := range tl1 {
		r.ProfileID = 3
		moved = append(moved, r)
	}
	diff(t, "Timeline(3) after the merge", timelineOf(t, st, 3, zeroTime, 0, 1000), newest(moved))
	diff(t, "Timeline(1) after the merge", timelineOf(t, st, 1, zeroTime, 0, 1000), []store.TimelineRow(nil))
	for i := range wantTraits {
		wantTraits[i].ProfileID = 3
	}
	diff(t, "TraitHistory(3, email)", traitsOf(t, st, 3, "", "email", 1000), wantTraits)
	if got := loadProfiles(t, st); len(got) != 2 || got[0].ID != 2 || got[1].ID != 3 {
		t.Errorf("LoadProfiles() = %v, want profiles 2 and 3", got)
	}

	var seqs []uint64
	if seg, ok := st.(store.SegmentStore); ok {
		err := seg.TimelineSeqs(t.Context(), nil, seq, func(pid, seq uint64) error {
			seqs = append(seqs, seq)
			return nil
		})
		if err != nil || len(seqs) != int(seq) || !slices.IsSorted(seqs) {
			t.Errorf("TimelineSeqs(nil) = %d positions (sorted %v), %v; want %d in order", len(seqs), slices.IsSorted(seqs), err, seq)
		}
	}

	// Deleting profile 2 leaves 3 as it was.
	saveProfiles(t, st, pcommit(22, store.ProfileBatch{Deleted: []uint64{2}}))
	diff(t, "Timeline(2) after its deletion", timelineOf(t, st, 2, zeroTime, 0, 1000), []store.TimelineRow(nil))
	diff(t, "Timeline(3) after 2's deletion", timelineOf(t, st, 3, zeroTime, 0, 1000), newest(moved))
	if er, ok := st.(store.EraseStore); ok {
		n, err := er.EraseProfiles(t.Context(), []uint64{3})
		if want := int64(1 + len(moved) + len(wantTraits)); err != nil || n != want {
			t.Errorf("EraseProfiles([3]) = %d, %v; want %d, nil", n, err, want)
		}
		diff(t, "Timeline(3) after its erasure", timelineOf(t, st, 3, zeroTime, 0, 1000), []store.TimelineRow(nil))
	}
}
