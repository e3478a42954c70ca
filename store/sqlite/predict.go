package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// LoadPredictActivity implements store.PredictStore, in one snapshot.
func (db *DB) LoadPredictActivity(ctx context.Context, fn func(id uint64, data []byte) error) (uint64, error) {
	var seq int64
	var fnErr error
	err := db.inReadTx(ctx, "load prediction activity", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM predict_state WHERE id = 1`).Scan(&seq); err != nil {
			return err
		}
		return eachRow(ctx, tx, `SELECT profile_id, data FROM predict_activity ORDER BY profile_id`, fn, &fnErr)
	})
	if fnErr != nil {
		return 0, fnErr // fn's own, unwrapped
	}
	if err != nil {
		return 0, err
	}
	return uint64(seq), nil
}

// eachRow calls fn for each (id, data) row of query until fn fails; fn's
// error goes to fnErr, so that the caller returns it unwrapped.
func eachRow(ctx context.Context, tx *sql.Tx, query string, fn func(id uint64, data []byte) error, fnErr *error) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return err
		}
		if *fnErr = fn(uint64(id), data); *fnErr != nil {
			return nil
		}
	}
	return rows.Err()
}

// SavePredictActivity implements store.PredictStore.
func (db *DB) SavePredictActivity(ctx context.Context, c *store.PredictActivityCommit) error {
	if err := store.CheckPredictActivity(c); err != nil {
		return err
	}
	return db.inTx(ctx, fmt.Sprintf("save prediction activity at %d", c.Seq), func(tx *sql.Tx) error {
		var stored int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM predict_state WHERE id = 1`).Scan(&stored); err != nil {
			return err
		}
		if c.Seq < uint64(stored) {
			return nil // an older checkpoint: newer progress is saved already
		}
		w := &profileWriter{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
		defer w.close()
		if err := w.exec(`UPDATE predict_state SET seq = ? WHERE id = 1`, int64(c.Seq)); err != nil {
			return err
		}
		for _, id := range c.Deleted {
			if err := w.exec(`DELETE FROM predict_activity WHERE profile_id = ?`, int64(id)); err != nil {
				return err
			}
		}
		// rowChunk rows a statement; of two rows of one profile the later
		// wins, as SQLite upserts a statement's rows in order.
		return w.chunked(upsertActivity, upsertActivities, len(c.Rows), func(args []any, i int) []any {
			return append(args, int64(c.Rows[i].ID), nonNil(c.Rows[i].Data))
		}, func(*sql.Rows) error { return nil })
	})
}

var (
	upsertActivity = `INSERT INTO predict_activity (profile_id, data) VALUES (?, ?)
		ON CONFLICT (profile_id) DO UPDATE SET data = excluded.data`
	upsertActivities = multiRow(upsertActivity, 2)
)

// SavePredictions implements store.PredictStore.
func (db *DB) SavePredictions(ctx context.Context, f *store.PredictionFit) error {
	if err := store.CheckPredictionFit(f); err != nil {
		return err
	}
	return db.inTx(ctx, "save predictions", func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM prediction_models`, `DELETE FROM predicted_traits`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		w := &profileWriter{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
		defer w.close()
		for _, m := range f.Models {
			err := w.exec(`INSERT INTO prediction_models (name, fit_at, report) VALUES (?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET fit_at = excluded.fit_at, report = excluded.report`,
				store.CleanText(m.Name), micros(m.FitAt), store.CleanText(string(m.Report)))
			if err != nil {
				return err
			}
		}
		for _, r := range f.Profiles {
			err := w.exec(`INSERT INTO predicted_traits (profile_id, data) VALUES (?, ?)
				ON CONFLICT (profile_id) DO UPDATE SET data = excluded.data`, int64(r.ID), store.CleanText(string(r.Data)))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// PredictionModels implements store.PredictStore.
func (db *DB) PredictionModels(ctx context.Context) ([]store.PredictionModelRow, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, fit_at, report FROM prediction_models ORDER BY name`)
	if err != nil {
		return nil, wrap(ctx, "list prediction models", err)
	}
	defer rows.Close()
	out := []store.PredictionModelRow{}
	for rows.Next() {
		var m store.PredictionModelRow
		var fitAt int64
		var report string
		if err := rows.Scan(&m.Name, &fitAt, &report); err != nil {
			return nil, wrap(ctx, "list prediction models", err)
		}
		m.FitAt, m.Report = fromMicros(fitAt), []byte(report)
		out = append(out, m)
	}
	return out, wrap(ctx, "list prediction models", rows.Err())
}

// Predictions implements store.PredictStore.
func (db *DB) Predictions(ctx context.Context, profileID uint64) ([]byte, error) {
	var data string
	err := db.read.QueryRowContext(ctx, `SELECT data FROM predicted_traits WHERE profile_id = ?`, seqArg(profileID)).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "The latest fit made no predictions for this profile.")
	}
	if err != nil {
		return nil, wrap(ctx, "read predictions", err)
	}
	return []byte(data), nil
}

// LoadPredictions implements store.PredictStore, in one snapshot.
func (db *DB) LoadPredictions(ctx context.Context, fn func(id uint64, data []byte) error) error {
	var fnErr error
	err := db.inReadTx(ctx, "load predictions", func(tx *sql.Tx) error {
		return eachRow(ctx, tx, `SELECT profile_id, data FROM predicted_traits ORDER BY profile_id`, fn, &fnErr)
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}
