package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// Purposes implements store.PurposeStore.
func (db *DB) Purposes(ctx context.Context) ([]*store.Purpose, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, description, granted, created_at FROM purposes ORDER BY position`)
	if err != nil {
		return nil, wrap(ctx, "list purposes", err)
	}
	defer rows.Close()
	out := []*store.Purpose{}
	for rows.Next() {
		var p store.Purpose
		if err := rows.Scan(&p.Name, &p.Description, &p.Granted, &p.CreatedAt); err != nil {
			return nil, wrap(ctx, "list purposes", err)
		}
		p.CreatedAt = utc(p.CreatedAt)
		out = append(out, &p)
	}
	return out, wrap(ctx, "list purposes", rows.Err())
}

// AddPurpose implements store.PurposeStore.
func (db *DB) AddPurpose(ctx context.Context, p *store.Purpose) error {
	p.Name, p.Description = store.CleanText(p.Name), store.CleanText(p.Description)
	if p.Name == "" {
		return mosaic.Errorf(mosaic.EINVALID, "A purpose needs a name.")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO purposes (name, description, granted, position, created_at)
		VALUES ($1, $2, $3, (SELECT coalesce(max(position), 0) + 1 FROM purposes), $4)`, p.Name, p.Description, p.Granted, p.CreatedAt)
	if violatedUnique(err) != "" {
		return mosaic.Errorf(mosaic.ECONFLICT, "Purpose %q exists already.", p.Name)
	}
	return wrap(ctx, "add purpose "+p.Name, err)
}

// DeletePurpose implements store.PurposeStore.
func (db *DB) DeletePurpose(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM purposes WHERE name = $1`, store.CleanText(name))
	if err != nil {
		return wrap(ctx, "delete purpose "+name, err)
	}
	if tag.RowsAffected() == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No purpose %q.", name)
	}
	return nil
}

// ReplacePurposes implements store.PurposeStore.
func (db *DB) ReplacePurposes(ctx context.Context, list []*store.Purpose) error {
	if err := store.CheckPurposeList(list); err != nil {
		return err
	}
	return db.inTx(ctx, "replace purposes", pgx.TxOptions{}, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM purposes`)
		for i, p := range list {
			b.Queue(`INSERT INTO purposes (name, description, granted, position, created_at) VALUES ($1, $2, $3, $4, $5)`,
				store.CleanText(p.Name), store.CleanText(p.Description), p.Granted, i+1, p.CreatedAt)
		}
		return sendBatch(ctx, tx, b)
	})
}

// BeginLogin implements store.LoginStore. Attempts under one key take
// turns under a transaction-scoped advisory lock on the key, so two
// nodes checking the same name at once each count the other's attempt.
func (db *DB) BeginLogin(ctx context.Context, key string, at, since time.Time) (int64, int, error) {
	key = store.CleanText(key)
	var id int64
	var n int
	err := db.inTx(ctx, "begin login", pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('mosaic login ' || current_schema() || ' ' || $1, 0))`, key); err != nil {
			return err
		}
		// SKIP LOCKED: sweeps of other keys running at once never wait
		// for each other, and cannot deadlock.
		if _, err := tx.Exec(ctx, `DELETE FROM login_attempts WHERE id IN
			(SELECT id FROM login_attempts WHERE at < $1 ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED)`, since); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO login_attempts (key, at) VALUES ($1, $2) RETURNING id`, key, at).Scan(&id); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM login_attempts WHERE key = $1 AND at >= $2`, key, since).Scan(&n)
	})
	return id, n, err
}

// ForgetLogin implements store.LoginStore.
func (db *DB) ForgetLogin(ctx context.Context, id int64) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM login_attempts WHERE id = $1`, id)
	return wrap(ctx, "forget login", err)
}
