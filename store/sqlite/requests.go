package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

const requestColumns = `id, type, identifier_type, identifier, identifier_hash, law, status, actor, received_at, due_at, started_at, completed_at, outcome, error`

// requestRead is what reads select: the columns and the extension.
const requestRead = requestColumns + `, extended_at, extension_reason`

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
	var started, completed, extended sql.NullInt64
	err := s.Scan(&r.ID, &r.Type, &r.IdentifierType, &r.Identifier, &r.IdentifierHash, &r.Law, &r.Status, &r.Actor,
		&received, &due, &started, &completed, &r.Outcome, &r.Error, &extended, &r.ExtensionReason)
	r.ReceivedAt, r.DueAt, r.StartedAt, r.CompletedAt = fromMicros(received), fromMicros(due), fromOptMicros(started), fromOptMicros(completed)
	r.ExtendedAt = fromOptMicros(extended)
	return &r, err
}

// PrivacyRequest implements store.PrivacyStore.
func (db *DB) PrivacyRequest(ctx context.Context, id string) (*store.PrivacyRequest, error) {
	id = store.CleanText(id)
	r, err := scanRequest(db.read.QueryRowContext(ctx, `SELECT `+requestRead+` FROM privacy_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
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

// secureDeleteKey is the setting that marks a database written with
// secure_delete from its first page (or VACUUMed once by Compact since),
// so no page in use holds the remnants of deleted rows.
const secureDeleteKey = "sqlite.secure_delete_since"

// Compact implements store.PrivacyStore. The writer runs with
// secure_delete=fast: a deleted row is overwritten with zeros where its
// page is written anyway, but a page that becomes free keeps its old
// content (zeroing it at once would write every page twice; the graph
// snapshots, replaced whole every few seconds, made that a fifth of the
// server's CPU). So Compact wipes the free pages: a blob of zeros as large
// as the free list takes every free page and gives it back. The checkpoint
// then truncates the WAL, whose frames hold old page images. A database
// from before secure_delete is VACUUMed once instead, since its pages in
// use may hold remnants too; on a database of gigabytes that takes
// minutes and holds the writer all along.
func (db *DB) Compact(ctx context.Context) error {
	done, err := db.Setting(ctx, secureDeleteKey)
	if err != nil && mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		return err
	}
	if done == "" {
		if _, err := db.write.ExecContext(ctx, `VACUUM`); err != nil {
			return wrap(ctx, "vacuum", err)
		}
		if err := db.PutSetting(ctx, secureDeleteKey, db.now().UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	} else if err := db.wipeFreePages(ctx); err != nil {
		return err
	}
	_, err = db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return wrap(ctx, "truncate the WAL", err)
}

// wipeChunk bounds one blob of zeros, below SQLite's largest blob.
const wipeChunk = 256 << 20

// wipeFreePages overwrites every free page of the database with zeros.
func (db *DB) wipeFreePages(ctx context.Context) error {
	return db.inTx(ctx, "wipe the free pages", func(tx *sql.Tx) error {
		var free, size int64
		if err := tx.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
			return err
		}
		if free == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS free_page_wipe (b BLOB)`); err != nil {
			return err
		}
		for left := free * size; left > 0; left -= wipeChunk {
			if _, err := tx.ExecContext(ctx, `INSERT INTO free_page_wipe (b) VALUES (zeroblob(?))`, min(left, wipeChunk)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM free_page_wipe`)
		return err
	})
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

// TraitNames implements store.PrivacyStore: every trait history, packed
// or in rows, read in one snapshot.
func (db *DB) TraitNames(ctx context.Context) ([]string, error) {
	names := map[string]bool{}
	err := db.inReadTx(ctx, "list trait names", func(tx *sql.Tx) error {
		for _, q := range []string{
			`SELECT DISTINCT name FROM trait_history WHERE group_id = ''`,
			`SELECT data FROM profile_chunks WHERE kind = 1`,
			`SELECT traits FROM profiles WHERE length(traits) > 0`,
		} {
			rows, err := tx.QueryContext(ctx, q)
			if err != nil {
				return err
			}
			for rows.Next() {
				var b []byte
				if err := rows.Scan(&b); err != nil {
					rows.Close()
					return err
				}
				if strings.HasPrefix(q, "SELECT DISTINCT") {
					names[string(b)] = true
				} else if err := store.AddTraitNames(b, names); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
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
