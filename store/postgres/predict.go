package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// LoadPredictActivity implements store.PredictStore, in one snapshot.
func (db *DB) LoadPredictActivity(ctx context.Context, fn func(id uint64, data []byte) error) (uint64, error) {
	var seq int64
	var fnErr error
	err := db.inTx(ctx, "load prediction activity", readSnapshot, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT seq FROM predict_state WHERE id = 1`).Scan(&seq); err != nil {
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
func eachRow(ctx context.Context, tx pgx.Tx, query string, fn func(id uint64, data []byte) error, fnErr *error) error {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return err
	}
	var id int64
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		*fnErr = fn(uint64(id), data)
		return *fnErr
	})
	if *fnErr != nil {
		return nil
	}
	return err
}

// SavePredictActivity implements store.PredictStore. The state row, locked
// first, makes concurrent saves run one after the other.
func (db *DB) SavePredictActivity(ctx context.Context, c *store.PredictActivityCommit) error {
	if err := store.CheckPredictActivity(c); err != nil {
		return err
	}
	return db.inTx(ctx, fmt.Sprintf("save prediction activity at %d", c.Seq), pgx.TxOptions{}, func(tx pgx.Tx) error {
		var stored int64
		err := tx.QueryRow(ctx, `SELECT seq FROM predict_state WHERE id = 1 FOR UPDATE`).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return errors.New("the prediction state row is missing: the schema is damaged; restore a backup")
		}
		if err != nil {
			return err
		}
		if c.Seq < uint64(stored) {
			return nil // an older checkpoint: newer progress is saved already
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE predict_state SET seq = $1 WHERE id = 1`, int64(c.Seq))
		if len(c.Deleted) > 0 {
			b.Queue(`DELETE FROM predict_activity WHERE profile_id = ANY($1)`, int64s(c.Deleted))
		}
		if len(c.Rows) > 0 {
			ids, data := make([]int64, len(c.Rows)), make([][]byte, len(c.Rows))
			for i, r := range c.Rows {
				ids[i], data[i] = int64(r.ID), nonNil(r.Data)
			}
			b.Queue(`INSERT INTO predict_activity (profile_id, data)
				SELECT * FROM unnest($1::bigint[], $2::bytea[])
				ON CONFLICT (profile_id) DO UPDATE SET data = excluded.data`, ids, data)
		}
		return sendBatch(ctx, tx, b)
	})
}

// SavePredictions implements store.PredictStore. The traits are written
// with COPY: a fit replaces every profile's at once.
func (db *DB) SavePredictions(ctx context.Context, f *store.PredictionFit) error {
	if err := store.CheckPredictionFit(f); err != nil {
		return err
	}
	return db.inTx(ctx, "save predictions", pgx.TxOptions{}, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`LOCK TABLE prediction_models IN EXCLUSIVE MODE`)
		b.Queue(`DELETE FROM prediction_models`)
		b.Queue(`DELETE FROM predicted_traits`)
		for _, m := range f.Models {
			b.Queue(`INSERT INTO prediction_models (name, fit_at, report) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO UPDATE SET fit_at = excluded.fit_at, report = excluded.report`,
				store.CleanText(m.Name), m.FitAt, json.RawMessage(store.CleanText(string(m.Report))))
		}
		if err := sendBatch(ctx, tx, b); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"predicted_traits"}, []string{"profile_id", "data"},
			pgx.CopyFromSlice(len(f.Profiles), func(i int) ([]any, error) {
				r := f.Profiles[i]
				return []any{int64(r.ID), json.RawMessage(store.CleanText(string(r.Data)))}, nil
			}))
		return err
	})
}

// PredictionModels implements store.PredictStore.
func (db *DB) PredictionModels(ctx context.Context) ([]store.PredictionModelRow, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, fit_at, report FROM prediction_models ORDER BY name`)
	if err != nil {
		return nil, wrap(ctx, "list prediction models", err)
	}
	out := []store.PredictionModelRow{}
	var m store.PredictionModelRow
	_, err = pgx.ForEachRow(rows, []any{&m.Name, &m.FitAt, &m.Report}, func() error {
		c := m
		c.FitAt, c.Report = utc(m.FitAt), append([]byte(nil), m.Report...)
		out = append(out, c)
		return nil
	})
	return out, wrap(ctx, "list prediction models", err)
}

// Predictions implements store.PredictStore.
func (db *DB) Predictions(ctx context.Context, profileID uint64) ([]byte, error) {
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT data FROM predicted_traits WHERE profile_id = $1`, seqArg(profileID)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "The latest fit made no predictions for this profile.")
	}
	if err != nil {
		return nil, wrap(ctx, "read predictions", err)
	}
	return data, nil
}

// LoadPredictions implements store.PredictStore, in one snapshot.
func (db *DB) LoadPredictions(ctx context.Context, fn func(id uint64, data []byte) error) error {
	var fnErr error
	err := db.inTx(ctx, "load predictions", readSnapshot, func(tx pgx.Tx) error {
		return eachRow(ctx, tx, `SELECT profile_id, data FROM predicted_traits ORDER BY profile_id`, fn, &fnErr)
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}
