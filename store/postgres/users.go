package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

const userColumns = `id, name, role, pii, password_hash, created_at, updated_at`

// CreateUser implements store.UserStore.
func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	c := store.CleanText
	_, err := db.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		c(u.ID), c(u.Name), c(u.Role), u.PII, u.PasswordHash, u.CreatedAt)
	if violatedUnique(err) != "" {
		return mosaic.Errorf(mosaic.ECONFLICT, "A user named %q exists already.", u.Name)
	}
	return wrap(ctx, "create user "+u.Name, err)
}

func scanUser(s pgx.Row) (*store.User, error) {
	var u store.User
	err := s.Scan(&u.ID, &u.Name, &u.Role, &u.PII, &u.PasswordHash, &u.CreatedAt, &u.UpdatedAt)
	u.CreatedAt, u.UpdatedAt = utc(u.CreatedAt), utc(u.UpdatedAt)
	return &u, err
}

func (db *DB) userWhere(ctx context.Context, col, v string) (*store.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+col+` = $1`, store.CleanText(v)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No user %q.", v)
	}
	return u, wrap(ctx, "read user "+v, err)
}

// UserByName implements store.UserStore.
func (db *DB) UserByName(ctx context.Context, name string) (*store.User, error) {
	return db.userWhere(ctx, "name", name)
}

// UserByID implements store.UserStore.
func (db *DB) UserByID(ctx context.Context, id string) (*store.User, error) {
	return db.userWhere(ctx, "id", id)
}

// Users implements store.UserStore.
func (db *DB) Users(ctx context.Context) ([]*store.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, wrap(ctx, "list users", err)
	}
	defer rows.Close()
	out := []*store.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(ctx, "list users", err)
		}
		out = append(out, u)
	}
	return out, wrap(ctx, "list users", rows.Err())
}

// UpdateUser implements store.UserStore.
func (db *DB) UpdateUser(ctx context.Context, u *store.User) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET role = $1, pii = $2, password_hash = $3, updated_at = $4 WHERE id = $5`,
		store.CleanText(u.Role), u.PII, u.PasswordHash, u.UpdatedAt, store.CleanText(u.ID))
	if err != nil {
		return wrap(ctx, "update user "+u.Name, err)
	}
	if tag.RowsAffected() == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No user %q.", u.Name)
	}
	return nil
}

// DeleteUser implements store.UserStore; sessions go by the foreign key.
func (db *DB) DeleteUser(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM users WHERE name = $1`, store.CleanText(name))
	if err != nil {
		return wrap(ctx, "delete user "+name, err)
	}
	if tag.RowsAffected() == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No user %q.", name)
	}
	return nil
}

// CreateSession implements store.UserStore.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (id, user_id, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		s.ID, s.UserID, s.SecretHash, s.CreatedAt, s.ExpiresAt)
	return wrap(ctx, "create session", err)
}

// Session implements store.UserStore.
func (db *DB) Session(ctx context.Context, id string) (*store.Session, error) {
	var s store.Session
	err := db.pool.QueryRow(ctx, `SELECT id, user_id, secret_hash, created_at, expires_at FROM sessions WHERE id = $1`, store.CleanText(id)).
		Scan(&s.ID, &s.UserID, &s.SecretHash, &s.CreatedAt, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No session %q.", id)
	}
	s.CreatedAt, s.ExpiresAt = utc(s.CreatedAt), utc(s.ExpiresAt)
	return &s, wrap(ctx, "read session", err)
}

// DeleteSessions implements store.UserStore.
func (db *DB) DeleteSessions(ctx context.Context, userID, sessionID string, now time.Time) (int, error) {
	var n int64
	err := db.inTx(ctx, "delete sessions", pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND ($2 = '' OR id = $2)`, userID, sessionID)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, now)
		return err
	})
	return int(n), err
}
