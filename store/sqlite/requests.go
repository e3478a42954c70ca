package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

const requestColumns = `id, type, identifier_type, identifier, identifier_hash, law, status, actor, received_at, due_at, started_at, completed_at, outcome, error`

func optMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

func fromOptMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// CreatePrivacyRequest implements store.PrivacyStore.
func (db *DB) CreatePrivacyRequest(ctx context.Context, r *store.PrivacyRequest) error {
	c := store.CleanText
	_, err := db.write.ExecContext(ctx, `INSERT INTO privacy_requests (`+requestColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c(r.ID), c(r.Type), c(r.IdentifierType), c(r.Identifier), c(r.IdentifierHash), c(r.Law), c(r.Status), c(r.Actor),
		micros(r.ReceivedAt), micros(r.DueAt), optMicros(r.StartedAt), optMicros(r.CompletedAt), nonNil(r.Outcome), c(r.Error))
	if isUnique(err) {
		return mosaic.Errorf(mosaic.ECONFLICT, "A privacy request %q exists already.", r.ID)
	}
	return wrap(ctx, "create privacy request "+r.ID, err)
}

func scanRequest(s rowScanner) (*store.PrivacyRequest, error) {
	var r store.PrivacyRequest
	var received, due int64
	var started, completed sql.NullInt64
	err := s.Scan(&r.ID, &r.Type, &r.IdentifierType, &r.Identifier, &r.IdentifierHash, &r.Law, &r.Status, &r.Actor,
		&received, &due, &started, &completed, &r.Outcome, &r.Error)
	r.ReceivedAt, r.DueAt, r.StartedAt, r.CompletedAt = fromMicros(received), fromMicros(due), fromOptMicros(started), fromOptMicros(completed)
	return &r, err
}

// PrivacyRequest implements store.PrivacyStore.
func (db *DB) PrivacyRequest(ctx context.Context, id string) (*store.PrivacyRequest, error) {
	id = store.CleanText(id)
	r, err := scanRequest(db.read.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM privacy_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No privacy request %q.", id)
	}
	return r, wrap(ctx, "read privacy request "+id, err)
}

// PrivacyRequests implements store.PrivacyStore.
func (db *DB) PrivacyRequests(ctx context.Context, open bool) ([]*store.PrivacyRequest, error) {
	q := `SELECT ` + requestColumns + ` FROM privacy_requests`
	if open {
		q += ` WHERE status IN ('pending', 'running')`
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY received_at, id`)
	if err != nil {
		return nil, wrap(ctx, "list privacy requests", err)
	}
	defer rows.Close()
	out := []*store.PrivacyRequest{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, wrap(ctx, "list privacy requests", err)
		}
		out = append(out, r)
	}
	return out, wrap(ctx, "list privacy requests", rows.Err())
}

// UpdatePrivacyRequest implements store.PrivacyStore.
func (db *DB) UpdatePrivacyRequest(ctx context.Context, r *store.PrivacyRequest) error {
	c := store.CleanText
	res, err := db.write.ExecContext(ctx, `UPDATE privacy_requests SET status = ?, identifier = ?, due_at = ?, started_at = ?, completed_at = ?, outcome = ?, error = ? WHERE id = ?`,
		c(r.Status), c(r.Identifier), micros(r.DueAt), optMicros(r.StartedAt), optMicros(r.CompletedAt), nonNil(r.Outcome), c(r.Error), c(r.ID))
	if err != nil {
		return wrap(ctx, "update privacy request "+r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No privacy request %q.", r.ID)
	}
	return nil
}

// Suppress implements store.PrivacyStore.
func (db *DB) Suppress(ctx context.Context, hashes []string, reason string, at time.Time) error {
	return db.inTx(ctx, "suppress identifiers", func(tx *sql.Tx) error {
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO suppressions (hash, reason, at) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING`,
				store.CleanText(h), store.CleanText(reason), micros(at)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Unsuppress implements store.PrivacyStore.
func (db *DB) Unsuppress(ctx context.Context, hashes []string) (int, error) {
	n := 0
	err := db.inTx(ctx, "unsuppress identifiers", func(tx *sql.Tx) error {
		for _, h := range hashes {
			res, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE hash = ?`, store.CleanText(h))
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}

// Suppressions implements store.PrivacyStore.
func (db *DB) Suppressions(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT hash FROM suppressions ORDER BY hash`)
	if err != nil {
		return nil, wrap(ctx, "list suppressions", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, wrap(ctx, "list suppressions", err)
		}
		out = append(out, h)
	}
	return out, wrap(ctx, "list suppressions", rows.Err())
}

// EraseRejected implements store.PrivacyStore.
func (db *DB) EraseRejected(ctx context.Context, needles [][]byte) (int, error) {
	n := 0
	err := db.inTx(ctx, "erase quarantined messages", func(tx *sql.Tx) error {
		for _, needle := range needles {
			if len(needle) == 0 {
				continue
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM rejected WHERE instr(raw, ?) > 0`, needle)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, err
}

// Compact implements store.PrivacyStore: VACUUM rewrites the database
// without free pages (which still hold deleted rows), and the checkpoint
// truncates the WAL, whose frames hold old page images.
func (db *DB) Compact(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `VACUUM`); err != nil {
		return wrap(ctx, "vacuum", err)
	}
	_, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return wrap(ctx, "truncate the WAL", err)
}

// SetRetention implements store.PrivacyStore.
func (db *DB) SetRetention(ctx context.Context, sourceID string, days int) error {
	var err error
	if days == 0 {
		_, err = db.write.ExecContext(ctx, `DELETE FROM source_retention WHERE source_id = ?`, store.CleanText(sourceID))
	} else {
		_, err = db.write.ExecContext(ctx, `INSERT INTO source_retention (source_id, days) VALUES (?, ?)
			ON CONFLICT (source_id) DO UPDATE SET days = excluded.days`, store.CleanText(sourceID), days)
	}
	return wrap(ctx, "set retention of source "+sourceID, err)
}

// Retentions implements store.PrivacyStore.
func (db *DB) Retentions(ctx context.Context) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT source_id, days FROM source_retention`)
	if err != nil {
		return nil, wrap(ctx, "read retention", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var days int
		if err := rows.Scan(&id, &days); err != nil {
			return nil, wrap(ctx, "read retention", err)
		}
		out[id] = days
	}
	return out, wrap(ctx, "read retention", rows.Err())
}

// TraitNames implements store.PrivacyStore.
func (db *DB) TraitNames(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT name FROM trait_history WHERE group_id = '' ORDER BY name`)
	if err != nil {
		return nil, wrap(ctx, "list trait names", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, wrap(ctx, "list trait names", err)
		}
		out = append(out, n)
	}
	return out, wrap(ctx, "list trait names", rows.Err())
}
