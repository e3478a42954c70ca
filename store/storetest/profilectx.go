package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// canceled tests that every ProfileStore method gives up on a canceled
// context with an error that wraps context.Canceled, and that SaveProfiles
// then writes nothing. Each call gets n: 1 with a live context, 2 with a
// canceled one.
func (s profileSuite) canceled(t *testing.T) {
	tests := []struct {
		name string
		call func(ctx context.Context, st store.ProfileStore, n uint64) error
	}{
		{"ProfileCheckpoint", func(ctx context.Context, st store.ProfileStore, _ uint64) error {
			_, _, _, err := st.ProfileCheckpoint(ctx)
			return err
		}},
		{"LoadProfiles", func(ctx context.Context, st store.ProfileStore, _ uint64) error {
			return st.LoadProfiles(ctx, func(uint64, []byte) error { return nil })
		}},
		{"SaveProfiles", func(ctx context.Context, st store.ProfileStore, n uint64) error {
			return st.SaveProfiles(ctx, &store.ProfileCommit{Seq: 10 + n, Graph: []byte("graph"), Batches: []store.ProfileBatch{{
				Timeline: []store.TimelineRow{tl(1, 10+n, 0)}, Profiles: []store.ProfileRow{prof(100+n, "new")}}}})
		}},
		{"Timeline", func(ctx context.Context, st store.ProfileStore, _ uint64) error {
			_, err := st.Timeline(ctx, 1, zeroTime, 0, 10)
			return err
		}},
		{"TraitHistory", func(ctx context.Context, st store.ProfileStore, _ uint64) error {
			_, err := st.TraitHistory(ctx, 1, "", "email", 10)
			return err
		}},
		{"Decisions", func(ctx context.Context, st store.ProfileStore, _ uint64) error {
			_, err := st.Decisions(ctx, 1)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			saveProfiles(t, st, stored)
			if err := tt.call(t.Context(), st, 1); err != nil {
				t.Fatalf("%s with a live context = %v, want nil", tt.name, err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := tt.call(ctx, st, 2); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", tt.name, err)
			}
			if seq, _, _ := profileCheckpoint(t, st); seq > 11 {
				t.Errorf("ProfileCheckpoint() = %d, want at most 11: a canceled SaveProfiles wrote", seq)
			}
			if slices.ContainsFunc(loadProfiles(t, st), func(p store.ProfileRow) bool { return p.ID == 102 }) {
				t.Errorf("LoadProfiles() lists profile 102, want it absent: a canceled SaveProfiles wrote")
			}
		})
	}
}

// summary is a digest of a store's profile state, enough to tell a commit
// saved whole from one saved in part.
type summary struct {
	Seq, GraphSeq  uint64
	Graph          string
	Profiles       int
	Timeline1      int // rows of profile 1
	Timeline3      int // rows of profile 3
	Traits3        int // writes of profile 3's trait "n"
	FirstProfile   string
	LastProfile    string
	Profile2Exists bool
}

// summarize returns st's summary.
func summarize(t *testing.T, st store.ProfileStore) summary {
	t.Helper()
	seq, graph, graphSeq := profileCheckpoint(t, st)
	profiles := loadProfiles(t, st)
	sum := summary{Seq: seq, GraphSeq: graphSeq, Graph: string(graph), Profiles: len(profiles),
		Timeline1:      len(timelineOf(t, st, 1, zeroTime, 0, 10_000)),
		Timeline3:      len(timelineOf(t, st, 3, zeroTime, 0, 10_000)),
		Traits3:        len(traitsOf(t, st, 3, "", "n", 10_000)),
		Profile2Exists: slices.ContainsFunc(profiles, func(p store.ProfileRow) bool { return p.ID == 2 })}
	if len(profiles) > 0 {
		sum.FirstProfile, sum.LastProfile = string(profiles[0].Data), string(profiles[len(profiles)-1].Data)
	}
	return sum
}

// bigCommit returns a commit at position 2 whose batches write many rows,
// so that it takes a while: a deadline can end it at any point.
func bigCommit() *store.ProfileCommit {
	const rows, profiles = 2000, 500
	first := store.ProfileBatch{Profiles: []store.ProfileRow{prof(3, "new")}}
	for i := range uint64(rows) {
		first.Timeline = append(first.Timeline, tl(3, 10+i, time.Duration(i)*time.Millisecond))
		first.Traits = append(first.Traits, tr(3, "", "n", 10+i, time.Duration(i)*time.Millisecond, fmt.Sprint(i)))
	}
	second := store.ProfileBatch{Merges: []store.ProfileMerge{{Absorbed: 1, Survivor: 3}}}
	for i := range uint64(profiles) {
		second.Profiles = append(second.Profiles, prof(10+i, "new"))
	}
	third := store.ProfileBatch{Deleted: []uint64{2}}
	return &store.ProfileCommit{Seq: 2, Graph: []byte("new graph"), Batches: []store.ProfileBatch{first, second, third}}
}

// atomic tests that a commit ended by its context at any point saves all
// or nothing: it is tried with deadlines doubling from a microsecond until
// one is long enough.
func (s profileSuite) atomic(t *testing.T) {
	st := s.newStore(t)
	saveProfiles(t, st, &store.ProfileCommit{Seq: 1, Graph: []byte("old graph"), Batches: []store.ProfileBatch{{
		Timeline: []store.TimelineRow{tl(1, 1, 0)}, Profiles: []store.ProfileRow{prof(1, "old"), prof(2, "old")}}}})
	before := summarize(t, st)
	after := summary{Seq: 2, GraphSeq: 2, Graph: "new graph", Profiles: 501, Timeline3: 2001, Traits3: 2000,
		FirstProfile: "new", LastProfile: "new"}
	c := bigCommit()
	for d, tries := time.Microsecond, 0; ; d, tries = d*2, tries+1 {
		if d > time.Minute {
			t.Fatal("SaveProfiles() failed with deadlines up to a minute, want it to succeed")
		}
		ctx, cancel := context.WithTimeout(t.Context(), d)
		err := st.SaveProfiles(ctx, c)
		cancel()
		got := summarize(t, st)
		if err == nil || got == after {
			// Saved; the deadline may have come as the commit returned.
			diff(t, fmt.Sprintf("state after SaveProfiles() with a %v deadline = %v", d, err), got, after)
			t.Logf("SaveProfiles() saved with a %v deadline, after %d tries that failed", d, tries)
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("SaveProfiles() with a %v deadline = %v, want an error wrapping context.DeadlineExceeded", d, err)
		}
		diff(t, fmt.Sprintf("state after SaveProfiles() failed with a %v deadline", d), got, before)
	}
}
