package api

import (
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/segment"
	"github.com/mosaic-cdp/mosaic/store"
)

// TestMergeTimeline: entries and exits merge with events newest first, an
// entry before the events of its moment, and the cursor after any page
// starts the next page exactly where it stopped.
func TestMergeTimeline(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }
	// All items, newest first: what pages must add up to.
	type item struct {
		change bool
		id     uint64
		at     time.Time
	}
	all := []item{{false, 9, at(5)}, {true, 3, at(4)}, {true, 2, at(4)}, {false, 8, at(4)}, {false, 7, at(4)}, {true, 1, at(2)}, {false, 6, at(1)}}
	// before returns what each source gives for a cursor, as the stores do.
	before := func(cur timelineCursor, limit int) ([]store.TimelineRow, []timelineEvent, []timelineEvent) {
		var rows []store.TimelineRow
		var shown, changes []timelineEvent
		for _, it := range all {
			if it.change {
				b, bid := cur.changesBefore()
				if (b.IsZero() || it.at.Before(b) || it.at.Equal(b) && int64(it.id) < bid) && len(changes) < limit {
					changes = append(changes, timelineEvent{Time: it.at, Audience: &segment.TimelineChange{ID: int64(it.id)}})
				}
				continue
			}
			b, bseq := cur.eventsBefore()
			if (b.IsZero() || it.at.Before(b) || it.at.Equal(b) && it.id < bseq) && len(rows) < limit {
				rows = append(rows, store.TimelineRow{Seq: it.id, Time: it.at})
				shown = append(shown, timelineEvent{Seq: it.id, Time: it.at})
			}
		}
		return rows, shown, changes
	}
	for limit := 1; limit <= len(all)+1; limit++ {
		var got []item
		next := ""
		for pages := 0; pages < 20; pages++ {
			cur, err := parseTimelineCursor(next)
			if err != nil {
				t.Fatalf("limit %d: parseTimelineCursor(%q) = %v", limit, next, err)
			}
			rows, shown, changes := before(cur, limit)
			page, n := mergeTimeline(rows, shown, changes, limit)
			if len(page) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page))
			}
			for _, e := range page {
				if e.Audience != nil {
					got = append(got, item{true, uint64(e.Audience.ID), e.Time})
				} else {
					got = append(got, item{false, e.Seq, e.Time})
				}
			}
			if next = n; next == "" {
				break
			}
		}
		if len(got) != len(all) {
			t.Fatalf("limit %d: got %v, want %v", limit, got, all)
		}
		for i := range all {
			if got[i].change != all[i].change || got[i].id != all[i].id {
				t.Errorf("limit %d: item %d = %v, want %v", limit, i, got[i], all[i])
			}
		}
	}
	if _, err := parseTimelineCursor("12-a"); err == nil {
		t.Error(`parseTimelineCursor("12-a") = nil error, want one`)
	}
}
