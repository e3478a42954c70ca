package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// canceled tests that every method gives up on a canceled context with an
// error that wraps context.Canceled, and that nothing is written then.
func (s suite) canceled(t *testing.T) {
	tests := []struct {
		name string
		call func(ctx context.Context, st store.Store) error
	}{
		{"CreateSource", func(ctx context.Context, st store.Store) error {
			return st.CreateSource(ctx, source("new", base))
		}},
		{"Source", func(ctx context.Context, st store.Store) error { _, err := st.Source(ctx, "src_web"); return err }},
		{"SourceByWriteKey", func(ctx context.Context, st store.Store) error {
			_, err := st.SourceByWriteKey(ctx, "wk_web")
			return err
		}},
		{"Sources", func(ctx context.Context, st store.Store) error { _, err := st.Sources(ctx); return err }},
		{"DeleteSource", func(ctx context.Context, st store.Store) error { return st.DeleteSource(ctx, "src_web") }},
		{"Setting", func(ctx context.Context, st store.Store) error { _, err := st.Setting(ctx, "k"); return err }},
		{"PutSetting", func(ctx context.Context, st store.Store) error { return st.PutSetting(ctx, "k", "new") }},
		{"AddRejected", func(ctx context.Context, st store.Store) error {
			return st.AddRejected(ctx, []*mosaic.Rejected{reject(&mosaic.Source{ID: "src_web"}, 0, "x")})
		}},
		{"Rejected", func(ctx context.Context, st store.Store) error {
			_, err := st.Rejected(ctx, "src_web", 0, 10)
			return err
		}},
		{"Stats", func(ctx context.Context, st store.Store) error { _, err := st.Stats(ctx, "src_web"); return err }},
		{"DedupeCheckpoint", func(ctx context.Context, st store.Store) error {
			_, _, err := st.DedupeCheckpoint(ctx, time.Time{})
			return err
		}},
		{"SaveDedupe", func(ctx context.Context, st store.Store) error {
			return st.SaveDedupe(ctx, &store.DedupeCommit{Seq: 9, Counts: map[string]store.Increment{"src_web": {Stored: 1}}})
		}},
		{"Duplicates", func(ctx context.Context, st store.Store) error { _, err := st.Duplicates(ctx, 0, 10); return err }},
		{"SchemaPosition", func(ctx context.Context, st store.Store) error { _, err := st.SchemaPosition(ctx); return err }},
		{"SaveSchema", func(ctx context.Context, st store.Store) error {
			return st.SaveSchema(ctx, &store.SchemaCommit{Seq: 9, Fields: []store.SchemaField{{SourceID: "src_web", Kind: store.SchemaEvent, Event: "x", Count: 1}}})
		}},
		{"SchemaFields", func(ctx context.Context, st store.Store) error {
			_, err := st.SchemaFields(ctx, store.SchemaQuery{Limit: 10})
			return err
		}},
		{"AddViolations", func(ctx context.Context, st store.Store) error {
			return st.AddViolations(ctx, []store.ViolationCount{{SourceID: "src_web", Event: "x", Keyword: "unplanned", Count: 1}})
		}},
		{"Violations", func(ctx context.Context, st store.Store) error { _, err := st.Violations(ctx, "src_web"); return err }},
		{"ResetDerived", func(ctx context.Context, st store.Store) error { return st.ResetDerived(ctx) }},
		{"Ping", func(ctx context.Context, st store.Store) error { return st.Ping(ctx) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			mustCreate(t, st, source("web", base))
			if err := st.PutSetting(t.Context(), "k", "old"); err != nil {
				t.Fatalf("PutSetting = %v, want nil", err)
			}
			if err := tt.call(t.Context(), st); err != nil {
				t.Fatalf("%s with a live context = %v, want nil", tt.name, err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := tt.call(ctx, st); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", tt.name, err)
			}
			checkUnwritten(t, st)
		})
	}
}

// checkUnwritten fails t unless st holds what context set up, plus what one
// call of each method with a live context may have written, and nothing a
// canceled call would have.
func checkUnwritten(t *testing.T, st store.Store) {
	t.Helper()
	if n := len(listRejected(t, st, "src_web")); n > 1 {
		t.Errorf("len(Rejected(src_web)) = %d, want at most 1: a canceled AddRejected wrote", n)
	}
	if got := mustStats(t, st, "src_web"); got.Stored > 1 {
		t.Errorf("Stats(src_web).Stored = %d, want at most 1: a canceled SaveDedupe wrote", got.Stored)
	}
}
