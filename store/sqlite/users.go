package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

const userColumns = `id, name, role, pii, password_hash, created_at, updated_at`

// CreateUser implements store.UserStore.
func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	c := store.CleanText
	_, err := db.write.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c(u.ID), c(u.Name), c(u.Role), u.PII, u.PasswordHash, micros(u.CreatedAt), micros(u.CreatedAt))
	if isUnique(err) {
		return mosaic.Errorf(mosaic.ECONFLICT, "A user named %q exists already.", u.Name)
	}
	return wrap(ctx, "create user "+u.Name, err)
}

func scanUser(s rowScanner) (*store.User, error) {
	var u store.User
	var created, updated int64
	err := s.Scan(&u.ID, &u.Name, &u.Role, &u.PII, &u.PasswordHash, &created, &updated)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, err
}

func (db *DB) userWhere(ctx context.Context, col, v string) (*store.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+col+` = ?`, store.CleanText(v)))
	if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := db.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
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
	res, err := db.write.ExecContext(ctx, `UPDATE users SET role = ?, pii = ?, password_hash = ?, updated_at = ? WHERE id = ?`,
		store.CleanText(u.Role), u.PII, u.PasswordHash, micros(u.UpdatedAt), store.CleanText(u.ID))
	if err != nil {
		return wrap(ctx, "update user "+u.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No user %q.", u.Name)
	}
	return nil
}

// DeleteUser implements store.UserStore; sessions go by the foreign key.
func (db *DB) DeleteUser(ctx context.Context, name string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, store.CleanText(name))
	if err != nil {
		return wrap(ctx, "delete user "+name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No user %q.", name)
	}
	return nil
}

// CreateSession implements store.UserStore.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO sessions (id, user_id, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.SecretHash, micros(s.CreatedAt), micros(s.ExpiresAt))
	return wrap(ctx, "create session", err)
}

// Session implements store.UserStore.
func (db *DB) Session(ctx context.Context, id string) (*store.Session, error) {
	var s store.Session
	var created, expires int64
	err := db.read.QueryRowContext(ctx, `SELECT id, user_id, secret_hash, created_at, expires_at FROM sessions WHERE id = ?`, store.CleanText(id)).
		Scan(&s.ID, &s.UserID, &s.SecretHash, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No session %q.", id)
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &s, wrap(ctx, "read session", err)
}

// DeleteSessions implements store.UserStore.
func (db *DB) DeleteSessions(ctx context.Context, userID, sessionID string, now time.Time) (int, error) {
	var n int64
	err := db.inTx(ctx, "delete sessions", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND (? = '' OR id = ?)`, userID, sessionID, sessionID)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, micros(now))
		return err
	})
	return int(n), err
}
