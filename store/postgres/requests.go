package postgres

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

const requestColumns = `id, type, identifier_type, identifier, identifier_hash, law, status, actor, received_at, due_at, started_at, completed_at, outcome, error`

// requestRead is what reads select: the columns and the extension.
const requestRead = requestColumns + `, extended_at, extension_reason`

// CreatePrivacyRequest implements store.PrivacyStore.
func (db *DB) CreatePrivacyRequest(ctx context.Context, r *store.PrivacyRequest) error {
	c := store.CleanText
	_, err := db.pool.Exec(ctx, `INSERT INTO privacy_requests (`+requestColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c(r.ID), c(r.Type), c(r.IdentifierType), c(r.Identifier), c(r.IdentifierHash), c(r.Law), c(r.Status), c(r.Actor),
		r.ReceivedAt, r.DueAt, r.StartedAt, r.CompletedAt, nonNil(r.Outcome), c(r.Error))
	if violatedUnique(err) != "" {
		return mosaic.Errorf(mosaic.ECONFLICT, "A privacy request %q exists already.", r.ID)
	}
	return wrap(ctx, "create privacy request "+r.ID, err)
}

func scanRequest(s pgx.Row) (*store.PrivacyRequest, error) {
	var r store.PrivacyRequest
	err := s.Scan(&r.ID, &r.Type, &r.IdentifierType, &r.Identifier, &r.IdentifierHash, &r.Law, &r.Status, &r.Actor,
		&r.ReceivedAt, &r.DueAt, &r.StartedAt, &r.CompletedAt, &r.Outcome, &r.Error, &r.ExtendedAt, &r.ExtensionReason)
	r.ReceivedAt, r.DueAt = utc(r.ReceivedAt), utc(r.DueAt)
	for _, t := range []**time.Time{&r.StartedAt, &r.CompletedAt, &r.ExtendedAt} {
		if *t != nil {
			u := utc(**t)
			*t = &u
		}
	}
	return &r, err
}

// PrivacyRequest implements store.PrivacyStore.
func (db *DB) PrivacyRequest(ctx context.Context, id string) (*store.PrivacyRequest, error) {
	id = store.CleanText(id)
	r, err := scanRequest(db.pool.QueryRow(ctx, `SELECT `+requestRead+` FROM privacy_requests WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No privacy request %q.", id)
	}
	return r, wrap(ctx, "read privacy request "+id, err)
}

// PrivacyRequests implements store.PrivacyStore.
func (db *DB) PrivacyRequests(ctx context.Context, open bool) ([]*store.PrivacyRequest, error) {
	q := `SELECT ` + requestRead + ` FROM privacy_requests`
	if open {
		q += ` WHERE status IN ('pending', 'running')`
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY received_at, id`)
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
	tag, err := db.pool.Exec(ctx, `UPDATE privacy_requests SET status = $1, identifier = $2, due_at = $3, started_at = $4, completed_at = $5, outcome = $6, error = $7 WHERE id = $8`,
		c(r.Status), c(r.Identifier), r.DueAt, r.StartedAt, r.CompletedAt, nonNil(r.Outcome), c(r.Error), c(r.ID))
	if err != nil {
		return wrap(ctx, "update privacy request "+r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No privacy request %q.", r.ID)
	}
	return nil
}

// Suppress implements store.PrivacyStore.
func (db *DB) Suppress(ctx context.Context, hashes []string, reason string, at time.Time) error {
	b := &pgx.Batch{}
	for _, h := range hashes {
		b.Queue(`INSERT INTO suppressions (hash, reason, at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING`, store.CleanText(h), store.CleanText(reason), at)
	}
	return wrap(ctx, "suppress identifiers", db.pool.SendBatch(ctx, b).Close())
}

// Unsuppress implements store.PrivacyStore.
func (db *DB) Unsuppress(ctx context.Context, hashes []string) (int, error) {
	clean := make([]string, len(hashes))
	for i, h := range hashes {
		clean[i] = store.CleanText(h)
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM suppressions WHERE hash = ANY($1)`, clean)
	return int(tag.RowsAffected()), wrap(ctx, "unsuppress identifiers", err)
}

// Suppressions implements store.PrivacyStore.
func (db *DB) Suppressions(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT hash FROM suppressions ORDER BY hash`)
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
	for _, needle := range needles {
		if len(needle) == 0 {
			continue
		}
		tag, err := db.pool.Exec(ctx, `DELETE FROM rejected WHERE position($1::bytea in raw) > 0`, needle)
		if err != nil {
			return n, wrap(ctx, "erase quarantined messages", err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}

// Compact implements store.PrivacyStore. VACUUM (not FULL, which locks
// the tables for long) marks the dead rows' space reusable; PostgreSQL
// overwrites it as tables grow. Its files are outside the data directory.
func (db *DB) Compact(ctx context.Context) error {
	for _, table := range []string{"rejected", "profiles", "profile_chunks", "profile_timeline", "trait_history", "identity_decisions", "consent_state", "consent_history", "privacy_requests", "outbox", "outbox_holds", "deletion_notices"} {
		if _, err := db.pool.Exec(ctx, `VACUUM `+table); err != nil {
			return wrap(ctx, "vacuum "+table, err)
		}
	}
	return nil
}

// SetRetention implements store.PrivacyStore.
func (db *DB) SetRetention(ctx context.Context, sourceID string, days int) error {
	var err error
	if days == 0 {
		_, err = db.pool.Exec(ctx, `DELETE FROM source_retention WHERE source_id = $1`, store.CleanText(sourceID))
	} else {
		_, err = db.pool.Exec(ctx, `INSERT INTO source_retention (source_id, days) VALUES ($1, $2)
			ON CONFLICT (source_id) DO UPDATE SET days = excluded.days`, store.CleanText(sourceID), days)
	}
	return wrap(ctx, "set retention of source "+sourceID, err)
}

// Retentions implements store.PrivacyStore.
func (db *DB) Retentions(ctx context.Context) (map[string]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT source_id, days FROM source_retention`)
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

// TraitNames implements store.PrivacyStore: every trait history, packed
// or in rows, read in one snapshot.
func (db *DB) TraitNames(ctx context.Context) ([]string, error) {
	names := map[string]bool{}
	const op = "list trait names"
	err := db.inTx(ctx, op, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT name FROM trait_history WHERE group_id = ''`)
		if err != nil {
			return err
		}
		var name string
		if _, err := pgx.ForEachRow(rows, []any{&name}, func() error { names[name] = true; return nil }); err != nil {
			return err
		}
		for _, q := range []string{`SELECT data FROM profile_chunks WHERE kind = 1`, `SELECT traits FROM profiles WHERE length(traits) > 0`} {
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return err
			}
			var b []byte
			if _, err := pgx.ForEachRow(rows, []any{&b}, func() error { return store.AddTraitNames(b, names) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(names)), nil
}
