package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic/store"
)

// timelineSeqs checks the timeline positions backfills read: track events
// by name, or every entry with names nil, up to a position, in order.
func (s suite) timelineSeqs(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	identify := tl(2, 2, 0)
	identify.Type, identify.Name = "identify", ""
	rows := []store.TimelineRow{tl(1, 1, 0), identify, tl(1, 3, 0), tl(2, 4, 0), tl(1, 5, 0)}
	if err := st.SaveProfiles(ctx, &store.ProfileCommit{Seq: 5, Batches: []store.ProfileBatch{{Timeline: rows}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		names []string
		upto  uint64
		want  [][2]uint64
	}{
		{"by name", []string{"Event 3", "Event 4", "Event 5"}, 4, [][2]uint64{{1, 3}, {2, 4}}},
		{"all", nil, 4, [][2]uint64{{1, 1}, {2, 2}, {1, 3}, {2, 4}}},
		{"none", []string{}, 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][2]uint64
			err := st.TimelineSeqs(ctx, tt.names, tt.upto, func(pid, seq uint64) error {
				got = append(got, [2]uint64{pid, seq})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("TimelineSeqs(%q, %d) (-want +got):\n%s", tt.names, tt.upto, diff)
			}
		})
	}
}
