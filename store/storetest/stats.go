package storetest

import (
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// action is one step of a scenario run against a store with sources "web"
// and "app" (IDs src_web and src_app).
type action func(t *testing.T, st store.Store)

// commit saves a dedupe commit at seq with counts.
func commit(seq uint64, counts map[string]store.Increment) action {
	return func(t *testing.T, st store.Store) {
		t.Helper()
		mustSave(t, st, &store.DedupeCommit{Seq: seq, Counts: counts})
	}
}

// rejects quarantines n events of a source.
func rejects(sourceID string, n int) action {
	return func(t *testing.T, st store.Store) {
		t.Helper()
		var rs []*mosaic.Rejected
		for i := range n {
			rs = append(rs, &mosaic.Rejected{SourceID: sourceID, ReceivedAt: base, Index: i, Code: mosaic.EINVALIDJSON, Reason: "r", Raw: []byte("{")})
		}
		mustReject(t, st, rs...)
	}
}

// deletes deletes a source.
func deletes(sourceID string) action {
	return func(t *testing.T, st store.Store) {
		t.Helper()
		if err := st.DeleteSource(t.Context(), sourceID); err != nil {
			t.Fatalf("DeleteSource(%q) = %v, want nil", sourceID, err)
		}
	}
}

// mustStats returns a source's counters or fails t.
func mustStats(t *testing.T, st store.Store, sourceID string) *mosaic.SourceStats {
	t.Helper()
	got, err := st.Stats(t.Context(), sourceID)
	if err != nil {
		t.Fatalf("Stats(%q) = %v, want nil", sourceID, err)
	}
	return got
}

// stats tests Stats: counters from dedupe commits and the quarantine, and
// Received as their sum.
func (s suite) stats(t *testing.T) {
	web, app := "src_web", "src_app"
	inc := func(stored, dups int64) store.Increment { return store.Increment{Stored: stored, Duplicates: dups} }
	tests := []struct {
		name    string
		actions []action
		want    []mosaic.SourceStats
	}{
		{"fresh source", nil, []mosaic.SourceStats{{SourceID: web}}},
		{"unknown source", nil, []mosaic.SourceStats{{SourceID: "nope"}}},
		{"rejected only", []action{rejects(web, 3)}, []mosaic.SourceStats{{SourceID: web, Received: 3, Rejected: 3}}},
		{"one commit", []action{commit(10, map[string]store.Increment{web: inc(10, 2), app: inc(1, 0)})}, []mosaic.SourceStats{
			{SourceID: web, Received: 12, Stored: 10, Duplicates: 2},
			{SourceID: app, Received: 1, Stored: 1},
		}},
		{"commits accumulate", []action{
			commit(10, map[string]store.Increment{web: inc(10, 2)}),
			commit(20, map[string]store.Increment{web: inc(5, 1), app: inc(4, 4)}),
		}, []mosaic.SourceStats{
			{SourceID: web, Received: 18, Stored: 15, Duplicates: 3},
			{SourceID: app, Received: 8, Stored: 4, Duplicates: 4},
		}},
		{"replayed commits are not counted", []action{
			commit(10, map[string]store.Increment{web: inc(10, 2)}),
			commit(20, map[string]store.Increment{web: inc(5, 1)}),
			commit(20, map[string]store.Increment{web: inc(5, 1)}),
			commit(15, map[string]store.Increment{web: inc(100, 100)}),
		}, []mosaic.SourceStats{{SourceID: web, Received: 18, Stored: 15, Duplicates: 3}}},
		{"all three kinds", []action{
			rejects(web, 2), commit(10, map[string]store.Increment{web: inc(7, 1)}), rejects(web, 1),
		}, []mosaic.SourceStats{{SourceID: web, Received: 11, Stored: 7, Duplicates: 1, Rejected: 3}}},
		{"counts for a source without quarantine", []action{rejects(web, 2), commit(1, map[string]store.Increment{"elsewhere": inc(3, 0)})},
			[]mosaic.SourceStats{{SourceID: "elsewhere", Received: 3, Stored: 3}, {SourceID: web, Received: 2, Rejected: 2}}},
		{"deleted source keeps its counters", []action{
			commit(10, map[string]store.Increment{web: inc(2, 1)}), rejects(web, 1), deletes(web),
		}, []mosaic.SourceStats{{SourceID: web, Received: 4, Stored: 2, Duplicates: 1, Rejected: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			mustCreate(t, st, source("web", base), source("app", base))
			for _, a := range tt.actions {
				a(t, st)
			}
			for _, want := range tt.want {
				diff(t, "Stats("+want.SourceID+")", mustStats(t, st, want.SourceID), &want)
			}
		})
	}
}
