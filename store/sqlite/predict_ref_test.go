package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/mosaic-cdp/mosaic/store"
)

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

// dumpState returns the prediction activity tables of db as text.
func dumpState(t *testing.T, db *DB) string {
	t.Helper()
	var out bytes.Buffer
	queries := []string{
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
