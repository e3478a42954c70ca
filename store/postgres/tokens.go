package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

const tokenColumns = `id, name, role, pii, secret_hash, created_at, revoked_at`

// CreateToken implements store.TokenStore.
func (db *DB) CreateToken(ctx context.Context, t *store.APIToken) error {
	id, name := store.CleanText(t.ID), store.CleanText(t.Name)
	if id == "" || name == "" || len(t.SecretHash) == 0 {
		return mosaic.Errorf(mosaic.EINVALID, "A token needs an ID, a name and a secret hash.")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO api_tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, NULL)`,
		id, name, store.CleanText(t.Role), t.PII, t.SecretHash, t.CreatedAt)
	if violatedUnique(err) != "" {
		return mosaic.Errorf(mosaic.ECONFLICT, "An active token is named %q already: choose another name, or revoke that token first.", name)
	}
	t.ID, t.Name = id, name
	return wrap(ctx, "create token "+id, err)
}

func scanToken(r pgx.Row) (*store.APIToken, error) {
	var t store.APIToken
	if err := r.Scan(&t.ID, &t.Name, &t.Role, &t.PII, &t.SecretHash, &t.CreatedAt, &t.RevokedAt); err != nil {
		return nil, err
	}
	t.CreatedAt = utc(t.CreatedAt)
	if t.RevokedAt != nil {
		at := utc(*t.RevokedAt)
		t.RevokedAt = &at
	}
	return &t, nil
}

// Token implements store.TokenStore.
func (db *DB) Token(ctx context.Context, id string) (*store.APIToken, error) {
	id = store.CleanText(id)
	t, err := scanToken(db.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No token %q.", id)
	}
	return t, wrap(ctx, "read token "+id, err)
}

// Tokens implements store.TokenStore.
func (db *DB) Tokens(ctx context.Context) ([]*store.APIToken, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE revoked_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap(ctx, "list tokens", err)
	}
	defer rows.Close()
	out := []*store.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, wrap(ctx, "list tokens", err)
		}
		out = append(out, t)
	}
	return out, wrap(ctx, "list tokens", rows.Err())
}

// RevokeToken implements store.TokenStore.
func (db *DB) RevokeToken(ctx context.Context, id string, at time.Time) error {
	id = store.CleanText(id)
	tag, err := db.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, at, id)
	if err != nil {
		return wrap(ctx, "revoke token "+id, err)
	}
	if tag.RowsAffected() == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No active token %q.", id)
	}
	return nil
}
