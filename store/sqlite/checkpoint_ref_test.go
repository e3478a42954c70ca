package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// refSaveProfiles is SaveProfiles as it was before sealing moved between
// the upserts (refRows), without graph snapshots: the reference the
// differential test holds the store to.
func (db *DB) refSaveProfiles(ctx context.Context, c *store.ProfileCommit) error {
	return db.inTx(ctx, "reference save", func(tx *sql.Tx) error {
		w := &profileWriter{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
		defer w.close()
		if err := w.state(c); err != nil {
			return err
		}
		for i := range c.Batches {
			b := &c.Batches[i]
			if err := w.batch(&store.ProfileBatch{Deleted: b.Deleted, Merges: b.Merges}); err != nil {
				return err
			}
			if err := w.refRows(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// refRows is the old rows: every profile upserted, then the full ones
// sealed.
func (w *profileWriter) refRows(b *store.ProfileBatch) error {
	ups := store.PackBatch(b)
	slices.SortFunc(ups, func(a, b store.PackedProfile) int { return cmp.Compare(a.ID, b.ID) })
	var full []int64
	err := w.chunked(upsertProfile, upsertProfiles, len(ups), func(args []any, i int) []any {
		u := &ups[i]
		return append(args, int64(u.ID), nonNil(u.Data), nonNil(u.Timeline), nonNil(u.Traits), u.Data != nil)
	}, func(rows *sql.Rows) error {
		var id int64
		var over bool
		if err := rows.Scan(&id, &over); err != nil {
			return err
		}
		if over {
			full = append(full, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return w.seal(full)
}

// refSavePredictActivity is SavePredictActivity as it was: one statement
// a row.
func (db *DB) refSavePredictActivity(ctx context.Context, c *store.PredictActivityCommit) error {
	return db.inTx(ctx, "reference save", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE predict_state SET seq = ? WHERE id = 1`, int64(c.Seq)); err != nil {
			return err
		}
		for _, id := range c.Deleted {
			if _, err := tx.ExecContext(ctx, `DELETE FROM predict_activity WHERE profile_id = ?`, int64(id)); err != nil {
				return err
			}
		}
		for _, r := range c.Rows {
			_, err := tx.ExecContext(ctx, `INSERT INTO predict_activity (profile_id, data) VALUES (?, ?)
				ON CONFLICT (profile_id) DO UPDATE SET data = excluded.data`, int64(r.ID), nonNil(r.Data))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// dumpState returns the profile and prediction tables of db as text, each
// profile's chunks in their order; which profile's chunk got the lower ID
// is left out, since no read depends on it.
func dumpState(t *testing.T, db *DB) string {
	t.Helper()
	var out bytes.Buffer
	queries := []string{
		`SELECT id, hex(data), hex(timeline), hex(traits), has_data FROM profiles ORDER BY id`,
		`SELECT profile_id, kind, hex(data) FROM profile_chunks ORDER BY profile_id, kind, id`,
		`SELECT profile_id, hex(data) FROM predict_activity ORDER BY profile_id`,
		`SELECT seq FROM predict_state`,
	}
	for _, q := range queries {
		rows, err := db.read.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			fmt.Fprintln(&out, vals...)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows.Close()
	}
	return out.String()
}

// checkpointCommits returns commits shaped like a replay's: profiles new
// and old, with histories that pass store.PackedLimit at different
// checkpoints, two partitions' batches, merges and deletions.
func checkpointCommits(n, people int) []*store.ProfileCommit {
	rng := uint64(7)
	next := func(m int) int {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return int(rng % uint64(m))
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []*store.ProfileCommit
	seq := uint64(0)
	for range n {
		c := &store.ProfileCommit{Batches: make([]store.ProfileBatch, 2)}
		for range 2000 {
			seq++
			id := uint64(next(people) + 1)
			b := &c.Batches[id%2]
			at := start.Add(time.Duration(seq) * time.Second)
			b.Timeline = append(b.Timeline, store.TimelineRow{ProfileID: id, Seq: seq, Time: at,
				Type: "track", Name: fmt.Sprintf("event %d", next(50)), SourceID: "web"})
			if next(3) > 0 {
				b.Traits = append(b.Traits, store.TraitRow{ProfileID: id, Name: fmt.Sprintf("t%d", next(5)),
					Value: bytes.Repeat([]byte("v"), next(200)), Time: at, Seq: seq, SourceID: "web", MessageID: fmt.Sprint(seq)})
			}
			if next(10) > 0 { // the rest: history without a new state
				b.Profiles = append(b.Profiles, store.ProfileRow{ID: id, Data: []byte(fmt.Sprintf("state %d of %d", seq, id))})
			}
		}
		for range 5 {
			a, s := uint64(next(people)+1), uint64(next(people)+1)
			c.Batches[s%2].Merges = append(c.Batches[s%2].Merges, store.ProfileMerge{Absorbed: a, Survivor: s})
		}
		c.Batches[0].Deleted = append(c.Batches[0].Deleted, uint64(next(people)+1))
		c.Seq = seq
		out = append(out, c)
	}
	return out
}

// TestSaveProfilesMatchesReference saves the same commits with SaveProfiles
// and with the reference and compares the tables.
func TestSaveProfilesMatchesReference(t *testing.T) {
	tests := []struct {
		name            string
		commits, people int
	}{
		{name: "few profiles, long histories", commits: 12, people: 300},
		{name: "many profiles a batch", commits: 15, people: 1500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := openTemp(t)
			defer got.Close()
			want, _ := openTemp(t)
			defer want.Close()
			for _, c := range checkpointCommits(tt.commits, tt.people) {
				if err := got.SaveProfiles(t.Context(), c); err != nil {
					t.Fatalf("SaveProfiles(%d) = %v", c.Seq, err)
				}
				if err := want.refSaveProfiles(t.Context(), c); err != nil {
					t.Fatalf("refSaveProfiles(%d) = %v", c.Seq, err)
				}
			}
			g, w := dumpState(t, got), dumpState(t, want)
			if g != w {
				t.Errorf("SaveProfiles left tables\n%.2000s\nwant (the reference)\n%.2000s", g, w)
			}
			var chunks int
			got.read.QueryRow(`SELECT count(*) FROM profile_chunks`).Scan(&chunks)
			if chunks < 100 {
				t.Errorf("the commits sealed %d chunks, want at least 100: the test no longer covers sealing", chunks)
			}
		})
	}
}

// TestSavePredictActivityMatchesReference saves the same activity commits,
// longer and shorter than a statement's rows and with a profile twice, both
// ways and compares the tables.
func TestSavePredictActivityMatchesReference(t *testing.T) {
	row := func(id, v int) store.ProfileRow {
		return store.ProfileRow{ID: uint64(id), Data: []byte(fmt.Sprintf("activity %d of %d", v, id))}
	}
	var big []store.ProfileRow
	for i := range 3*rowChunk + 5 {
		big = append(big, row(i*7%150, i))
	}
	tests := []struct {
		name    string
		commits []*store.PredictActivityCommit
	}{
		{name: "fewer rows than a statement", commits: []*store.PredictActivityCommit{
			{Seq: 1, Rows: []store.ProfileRow{row(1, 1), row(2, 1), row(1, 2)}}}},
		{name: "several statements, repeated profiles", commits: []*store.PredictActivityCommit{
			{Seq: 1, Rows: big},
			{Seq: 2, Deleted: []uint64{7, 14, 3}, Rows: append([]store.ProfileRow{row(14, 99), row(500, 1)}, big[:rowChunk+1]...)}}},
		{name: "an empty data", commits: []*store.PredictActivityCommit{
			{Seq: 1, Rows: []store.ProfileRow{{ID: 4}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := openTemp(t)
			defer got.Close()
			want, _ := openTemp(t)
			defer want.Close()
			for _, c := range tt.commits {
				if err := got.SavePredictActivity(t.Context(), c); err != nil {
					t.Fatalf("SavePredictActivity(%d) = %v", c.Seq, err)
				}
				if err := want.refSavePredictActivity(t.Context(), c); err != nil {
					t.Fatalf("refSavePredictActivity(%d) = %v", c.Seq, err)
				}
			}
			if g, w := dumpState(t, got), dumpState(t, want); g != w {
				t.Errorf("SavePredictActivity left tables\n%s\nwant (the reference)\n%s", g, w)
			}
		})
	}
}
