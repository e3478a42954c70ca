package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic/store"
)

// audienceTimeline checks a profile's entries and exits as its timeline
// reads them: only that profile's, newest first by (At, ID) even when IDs
// are not in time order (a timer's change is recorded at its own, earlier
// moment), and paged by a (time, ID) cursor.
func (s suite) audienceTimeline(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	ch := func(id int64, pid uint64, entered bool, d time.Duration) store.AudienceChange {
		return store.AudienceChange{ID: id, AudienceID: "aud", ProfileID: pid, Entered: entered, At: kept(at(d)), Seq: uint64(id), Cause: `{"kind":"event"}`}
	}
	changes := []store.AudienceChange{
		ch(1, 7, true, 0), ch(2, 8, true, time.Second), ch(3, 7, false, 2*time.Second),
		ch(4, 7, true, time.Second), // recorded after 3, at an earlier moment
		ch(5, 7, true, 2*time.Second),
	}
	if err := st.SaveSegments(ctx, &store.SegmentCommit{Version: 1, Changes: changes}); err != nil {
		t.Fatal(err)
	}
	ids := func(list []store.AudienceChange) []int64 {
		out := []int64{}
		for _, c := range list {
			out = append(out, c.ID)
		}
		return out
	}
	tests := []struct {
		name     string
		pid      uint64
		before   time.Time
		beforeID int64
		limit    int
		want     []int64
	}{
		{"all, newest first", 7, time.Time{}, 0, 10, []int64{5, 3, 4, 1}},
		{"first page", 7, time.Time{}, 0, 2, []int64{5, 3}},
		{"next page", 7, kept(at(2 * time.Second)), 3, 2, []int64{4, 1}},
		{"same moment, lower ID", 7, kept(at(2 * time.Second)), 5, 10, []int64{3, 4, 1}},
		{"other profile", 8, time.Time{}, 0, 10, []int64{2}},
		{"none", 9, time.Time{}, 0, 10, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.ProfileAudienceChanges(ctx, tt.pid, tt.before, tt.beforeID, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Error("ProfileAudienceChanges = nil, want an empty slice")
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("ProfileAudienceChanges(%d, %v, %d) IDs (-want +got):\n%s", tt.pid, tt.before, tt.beforeID, diff)
			}
		})
	}
	got, err := st.ProfileAudienceChanges(ctx, 8, time.Time{}, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.AudienceChange{changes[1]}, got); diff != "" {
		t.Errorf("ProfileAudienceChanges(8) (-want +got):\n%s", diff)
	}
}
