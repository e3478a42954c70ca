package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// segments checks the segment engine's storage: definitions with unique
// keys, versioned checkpoints that an older retried save cannot undo,
// changes appended once in order, and history buckets.
func (s suite) segments(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	d := &store.Definition{Kind: "audience", ID: "a1", Key: "vip", Data: []byte(`{"x":1}`), CreatedAt: at(0), UpdatedAt: at(0)}
	if err := st.PutDefinition(ctx, d); err != nil {
		t.Fatal(err)
	}
	clash := &store.Definition{Kind: "audience", ID: "a2", Key: "vip", Data: []byte(`{}`), CreatedAt: at(1), UpdatedAt: at(1)}
	if err := st.PutDefinition(ctx, clash); mosaic.ErrorCode(err) != mosaic.ECONFLICT {
		t.Errorf("PutDefinition(same key) = %v, want ECONFLICT", err)
	}
	clash.Kind = "computed_trait"
	if err := st.PutDefinition(ctx, clash); err != nil {
		t.Errorf("PutDefinition(same key, other kind) = %v, want nil", err)
	}
	d.Data, d.UpdatedAt = []byte(`{"x":2}`), at(time.Hour)
	if err := st.PutDefinition(ctx, d); err != nil {
		t.Fatal(err)
	}
	defs, err := st.Definitions(ctx, "audience")
	if err != nil || len(defs) != 1 || string(defs[0].Data) != `{"x":2}` || !defs[0].UpdatedAt.Equal(kept(at(time.Hour))) {
		t.Errorf("Definitions = %+v, %v; want the updated one", defs, err)
	}
	if err := st.DeleteDefinition(ctx, "audience", "nope"); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		t.Errorf("DeleteDefinition(unknown) = %v, want ENOTFOUND", err)
	}

	newer := &store.SegmentCommit{Version: 2, Seq: 20, Meta: []byte("m2"),
		Profiles: []store.SegmentProfileRow{{ID: 1, Version: 2, Data: []byte("p1v2")}, {ID: 2, Version: 2, Data: nil}},
		Changes:  []store.AudienceChange{{ID: 2, AudienceID: "a1", ProfileID: 1, Entered: false, At: at(2 * time.Hour), Cause: `{"kind":"time"}`}}}
	older := &store.SegmentCommit{Version: 1, Seq: 10, Meta: []byte("m1"),
		Profiles: []store.SegmentProfileRow{{ID: 1, Version: 1, Data: []byte("p1v1")}, {ID: 2, Version: 1, Data: []byte("p2v1")}, {ID: 3, Version: 1, Data: []byte("p3v1")}},
		Changes:  []store.AudienceChange{{ID: 1, AudienceID: "a1", ProfileID: 1, Entered: true, At: at(time.Hour), Seq: 7, Cause: `{"kind":"event"}`}}}
	for _, c := range []*store.SegmentCommit{newer, older, older} {
		if err := st.SaveSegments(ctx, c); err != nil {
			t.Fatalf("SaveSegments(version %d) = %v", c.Version, err)
		}
	}
	version, seq, meta, err := st.SegmentCheckpoint(ctx)
	if err != nil || version != 2 || seq != 20 || string(meta) != "m2" {
		t.Errorf("SegmentCheckpoint = %d, %d, %q, %v; want 2, 20, m2", version, seq, meta, err)
	}
	got := map[uint64]string{}
	if err := st.LoadSegmentProfiles(ctx, func(id uint64, data []byte) error { got[id] = string(data); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[uint64]string{1: "p1v2", 3: "p3v1"}, got); diff != "" {
		t.Errorf("profiles after an older save retried (-want +got):\n%s", diff)
	}
	changes, err := st.AudienceChanges(ctx, "a1", 0, 10)
	if err != nil || len(changes) != 2 || !changes[0].Entered || changes[0].Seq != 7 || changes[1].Entered || !changes[1].At.Equal(kept(at(2*time.Hour))) {
		t.Errorf("AudienceChanges = %+v, %v; want the entry then the exit, once each", changes, err)
	}
	if rest, _ := st.AudienceChanges(ctx, "", 1, 10); len(rest) != 1 || rest[0].ID != 2 {
		t.Errorf("AudienceChanges(after 1) = %+v, want change 2", rest)
	}
	hist, err := st.AudienceHistory(ctx, "a1", 24*time.Hour, at(-48*time.Hour))
	if err != nil || len(hist) != 1 || hist[0].Entered != 1 || hist[0].Exited != 1 || hist[0].Start.Hour() != 0 {
		t.Errorf("AudienceHistory = %+v, %v; want one day with 1 entry and 1 exit", hist, err)
	}
	if err := st.SaveSegments(ctx, &store.SegmentCommit{Version: 3, Changes: []store.AudienceChange{{ID: 3}}}); mosaic.ErrorCode(err) != mosaic.EINVALID {
		t.Errorf("SaveSegments(change without audience) = %v, want EINVALID", err)
	}
	if err := st.DeleteAudienceChanges(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if left, _ := st.AudienceChanges(ctx, "", 0, 10); len(left) != 0 {
		t.Errorf("changes after delete = %+v, want none", left)
	}
}

// segmentsMany saves checkpoints of hundreds of states and changes, as a
// checkpoint under load holds (more than a store writing them a chunk of
// rows a statement would put in one), and checks that every row arrives once, the newest state of each profile wins over
// an older checkpoint retried, and a deleted state stays deleted.
func (s suite) segmentsMany(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	const n = 301 // several chunks and a remainder, whatever the chunk size
	commit := func(version uint64, firstChange int64) *store.SegmentCommit {
		c := &store.SegmentCommit{Version: version, Seq: version * 100, Meta: []byte("m")}
		for i := range n {
			data := []byte(fmt.Sprintf("p%d v%d", i, version))
			if i%10 == 0 && version == 2 {
				data = nil // deleted at version 2
			}
			c.Profiles = append(c.Profiles, store.SegmentProfileRow{ID: uint64(i + 1), Version: version, Data: data})
			c.Changes = append(c.Changes, store.AudienceChange{ID: firstChange + int64(i), AudienceID: fmt.Sprintf("a%d", i%3),
				ProfileID: uint64(i + 1), Entered: i%2 == 0, At: at(time.Duration(i) * time.Minute), Seq: uint64(i), Cause: `{"kind":"event"}`})
		}
		return c
	}
	for _, c := range []*store.SegmentCommit{commit(1, 1), commit(2, 1001), commit(1, 1)} { // the first retried last
		if err := st.SaveSegments(ctx, c); err != nil {
			t.Fatalf("SaveSegments(version %d) = %v", c.Version, err)
		}
	}
	got := map[uint64]string{}
	if err := st.LoadSegmentProfiles(ctx, func(id uint64, data []byte) error { got[id] = string(data); return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[uint64]string{}
	for i := range n {
		if i%10 != 0 {
			want[uint64(i+1)] = fmt.Sprintf("p%d v2", i)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("states after %d rows a checkpoint (-want +got):\n%s", n, diff)
	}
	changes, err := st.AudienceChanges(ctx, "", 0, 10*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2*n {
		t.Fatalf("%d changes stored, want %d (each once)", len(changes), 2*n)
	}
	for i, ch := range changes[:n] {
		if ch.ID != int64(i+1) || ch.ProfileID != uint64(i+1) || ch.AudienceID != fmt.Sprintf("a%d", i%3) || ch.Entered != (i%2 == 0) ||
			!ch.At.Equal(kept(at(time.Duration(i)*time.Minute))) || ch.Seq != uint64(i) {
			t.Fatalf("change %d = %+v, want the one saved for profile %d", i, ch, i+1)
		}
	}
}
