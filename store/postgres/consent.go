package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mosaic-cdp/mosaic/store"
)

// ConsentCheckpoint implements store.ConsentStore.
func (db *DB) ConsentCheckpoint(ctx context.Context) (uint64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT seq FROM consent_position WHERE id = 1`).Scan(&seq)
	return uint64(seq), wrap(ctx, "read consent position", err)
}

// LoadConsent implements store.ConsentStore.
func (db *DB) LoadConsent(ctx context.Context, fn func(uint64, []byte) error) error {
	rows, err := db.pool.Query(ctx, `SELECT profile_id, data FROM consent_state ORDER BY profile_id`)
	if err != nil {
		return wrap(ctx, "load consent", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return wrap(ctx, "load consent", err)
		}
		if err := fn(uint64(id), data); err != nil {
			return err
		}
	}
	return wrap(ctx, "load consent", rows.Err())
}

// SaveConsent implements store.ConsentStore. It locks the position row, so
// saves run one at a time.
func (db *DB) SaveConsent(ctx context.Context, c *store.ConsentCommit) error {
	if err := checkConsentCommit(c); err != nil {
		return err
	}
	return db.inTx(ctx, fmt.Sprintf("save consent at %d", c.Seq), pgx.TxOptions{}, func(tx pgx.Tx) error {
		var stored int64
		err := tx.QueryRow(ctx, `SELECT seq FROM consent_position WHERE id = 1 FOR UPDATE`).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return errors.New("the consent position row is missing: the schema is damaged; restore a backup")
		}
		if err != nil {
			return err
		}
		if c.Seq <= uint64(stored) {
			return nil // a retried save: this progress is saved already
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE consent_position SET seq = $1 WHERE id = 1`, int64(c.Seq))
		for _, m := range c.Merges {
			b.Queue(moveProfileRows("consent_history", "id, purpose, time, seq, data"), int64(m.Survivor), int64(m.Absorbed))
			b.Queue(`DELETE FROM consent_state WHERE profile_id = $1`, int64(m.Absorbed))
		}
		for _, r := range c.Records {
			b.Queue(`INSERT INTO consent_history (profile_id, purpose, time, seq, data) VALUES ($1, $2, $3, $4, $5)`,
				int64(r.ProfileID), store.CleanText(r.Purpose), r.Time, int64(r.Seq), nonNil(r.Data))
		}
		for _, s := range c.States {
			b.Queue(`INSERT INTO consent_state (profile_id, data) VALUES ($1, $2)
				ON CONFLICT (profile_id) DO UPDATE SET data = excluded.data`, int64(s.ID), nonNil(s.Data))
		}
		return sendBatch(ctx, tx, b)
	})
}

func checkConsentCommit(c *store.ConsentCommit) error {
	k := idCheck{seq: c.Seq}
	k.fits("consent position", c.Seq)
	for _, m := range c.Merges {
		k.fits("absorbed profile", m.Absorbed)
		k.fits("surviving profile", m.Survivor)
	}
	for _, r := range c.Records {
		k.fits("consent profile", r.ProfileID)
		k.fits("consent record position", r.Seq)
	}
	for _, s := range c.States {
		k.fits("consent profile", s.ID)
	}
	return k.err
}

// ConsentHistory implements store.ConsentStore.
func (db *DB) ConsentHistory(ctx context.Context, profileID uint64) ([]store.ConsentRow, error) {
	op := fmt.Sprintf("read consent history of profile %d", profileID)
	rows, err := db.pool.Query(ctx, `SELECT purpose, time, seq, data FROM consent_history
		WHERE profile_id = $1 ORDER BY time, seq, id`, seqArg(profileID))
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	out := []store.ConsentRow{}
	for rows.Next() {
		r := store.ConsentRow{ProfileID: profileID}
		var seq int64
		if err := rows.Scan(&r.Purpose, &r.Time, &seq, &r.Data); err != nil {
			return nil, wrap(ctx, op, err)
		}
		r.Time, r.Seq = utc(r.Time), uint64(seq)
		out = append(out, r)
	}
	return out, wrap(ctx, op, rows.Err())
}
