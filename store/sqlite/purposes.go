package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// Purposes implements store.PurposeStore.
func (db *DB) Purposes(ctx context.Context) ([]*store.Purpose, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, description, granted, created_at FROM purposes ORDER BY position`)
	if err != nil {
		return nil, wrap(ctx, "list purposes", err)
	}
	defer rows.Close()
	out := []*store.Purpose{}
	for rows.Next() {
		var p store.Purpose
		var created int64
		if err := rows.Scan(&p.Name, &p.Description, &p.Granted, &created); err != nil {
			return nil, wrap(ctx, "list purposes", err)
		}
		p.CreatedAt = fromMicros(created)
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
	_, err := db.write.ExecContext(ctx, `INSERT INTO purposes (name, description, granted, position, created_at)
		VALUES (?, ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM purposes), ?)`, p.Name, p.Description, p.Granted, micros(p.CreatedAt))
	if isUnique(err) {
		return mosaic.Errorf(mosaic.ECONFLICT, "Purpose %q exists already.", p.Name)
	}
	return wrap(ctx, "add purpose "+p.Name, err)
}

// DeletePurpose implements store.PurposeStore.
func (db *DB) DeletePurpose(ctx context.Context, name string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM purposes WHERE name = ?`, store.CleanText(name))
	if err != nil {
		return wrap(ctx, "delete purpose "+name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No purpose %q.", name)
	}
	return nil
}

// ReplacePurposes implements store.PurposeStore.
func (db *DB) ReplacePurposes(ctx context.Context, list []*store.Purpose) error {
	if err := store.CheckPurposeList(list); err != nil {
		return err
	}
	return db.inTx(ctx, "replace purposes", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM purposes`); err != nil {
			return err
		}
		for i, p := range list {
			if _, err := tx.ExecContext(ctx, `INSERT INTO purposes (name, description, granted, position, created_at) VALUES (?, ?, ?, ?, ?)`,
				store.CleanText(p.Name), store.CleanText(p.Description), p.Granted, i+1, micros(p.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// BeginLogin implements store.LoginStore. SQLite has one writer, so the
// transaction alone makes attempts take turns.
func (db *DB) BeginLogin(ctx context.Context, key string, at, since time.Time) (int64, int, error) {
	var id int64
	var n int
	err := db.inTx(ctx, "begin login", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE at < ?`, micros(since)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO login_attempts (key, at) VALUES (?, ?)`, store.CleanText(key), micros(at))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM login_attempts WHERE key = ? AND at >= ?`, store.CleanText(key), micros(since)).Scan(&n)
	})
	return id, n, err
}

// ForgetLogin implements store.LoginStore.
func (db *DB) ForgetLogin(ctx context.Context, id int64) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM login_attempts WHERE id = ?`, id)
	return wrap(ctx, "forget login", err)
}
