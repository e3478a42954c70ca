package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// Setting implements store.Store.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	key = store.CleanText(key)
	var value string
	err := db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", mosaic.Errorf(mosaic.ENOTFOUND, "Setting %q is not set.", key)
	}
	return value, wrap(ctx, "get setting "+key, err)
}

// PutSetting implements store.Store.
func (db *DB) PutSetting(ctx context.Context, key, value string) error {
	key = store.CleanText(key)
	_, err := db.pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, store.CleanText(value))
	return wrap(ctx, "put setting "+key, err)
}
