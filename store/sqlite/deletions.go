package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// PersonOutbox implements store.DeletionStore with one scan of the outbox:
// the payload search cannot use an index, and erasures are rare.
func (db *DB) PersonOutbox(ctx context.Context, keys []string, needles [][]byte) ([]store.Delivery, error) {
	var conds []string
	var args []any
	for _, k := range keys {
		conds = append(conds, `profile_key = ?`)
		args = append(args, store.CleanText(k))
	}
	for _, n := range needles {
		if len(n) > 0 {
			conds = append(conds, `instr(payload, ?) > 0`)
			args = append(args, n)
		}
	}
	if len(conds) == 0 {
		return []store.Delivery{}, nil
	}
	out, err := db.queryDeliveries(ctx, "find a person's outbox messages", `SELECT `+deliveryColumns+` FROM outbox WHERE `+
		strings.Join(conds, " OR ")+` ORDER BY seq`, args...)
	if out == nil {
		out = []store.Delivery{}
	}
	return out, err
}

// RemoveOutbox implements store.DeletionStore.
func (db *DB) RemoveOutbox(ctx context.Context, msgs []store.Delivery) (int64, error) {
	var n int64
	err := db.inTx(ctx, "remove outbox messages", func(tx *sql.Tx) error {
		for _, m := range msgs {
			res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE seq = ?`, m.Seq)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
			if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_holds WHERE destination_id = ? AND profile_key = ?`,
				m.DestinationID, m.ProfileKey); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

const noticeColumns = `id, request_id, destination_id, destination_name, status, identifier_hashes, payload, attempts, next_at,
	last_error, last_code, created_at, done_at`

// AddDeletionNotices implements store.DeletionStore.
func (db *DB) AddDeletionNotices(ctx context.Context, ns []store.DeletionNotice) error {
	c := store.CleanText
	return db.inTx(ctx, "add deletion notices", func(tx *sql.Tx) error {
		for _, n := range ns {
			_, err := tx.ExecContext(ctx, `INSERT INTO deletion_notices (`+noticeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				c(n.ID), c(n.RequestID), c(n.DestinationID), c(n.DestinationName), c(n.Status), strings.Join(n.IdentifierHashes, ","),
				n.Payload, n.Attempts, micros(n.NextAt), c(n.LastError), n.LastCode, micros(n.CreatedAt), optDone(n.DoneAt))
			if isUnique(err) {
				return mosaic.Errorf(mosaic.ECONFLICT, "A deletion notice %q exists already.", n.ID)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func optDone(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func scanNotice(s rowScanner) (store.DeletionNotice, error) {
	var n store.DeletionNotice
	var hashes string
	var next, created, done int64
	err := s.Scan(&n.ID, &n.RequestID, &n.DestinationID, &n.DestinationName, &n.Status, &hashes, &n.Payload, &n.Attempts, &next,
		&n.LastError, &n.LastCode, &created, &done)
	n.NextAt, n.CreatedAt = fromMicros(next), fromMicros(created)
	if done != 0 {
		n.DoneAt = fromMicros(done)
	}
	n.IdentifierHashes = []string{}
	if hashes != "" {
		n.IdentifierHashes = strings.Split(hashes, ",")
	}
	return n, err
}

func (db *DB) queryNotices(ctx context.Context, op, q string, args ...any) ([]store.DeletionNotice, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	out := []store.DeletionNotice{}
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, wrap(ctx, op, err)
		}
		out = append(out, n)
	}
	return out, wrap(ctx, op, rows.Err())
}

// DueDeletionNotices implements store.DeletionStore.
func (db *DB) DueDeletionNotices(ctx context.Context, now time.Time, limit int) ([]store.DeletionNotice, error) {
	return db.queryNotices(ctx, "list due deletion notices", `SELECT `+noticeColumns+` FROM deletion_notices
		WHERE status = 'queued' AND next_at <= ? ORDER BY next_at, id LIMIT ?`, micros(now), limit)
}

// DeletionNotices implements store.DeletionStore.
func (db *DB) DeletionNotices(ctx context.Context, requestID string) ([]store.DeletionNotice, error) {
	return db.queryNotices(ctx, "list deletion notices", `SELECT `+noticeColumns+` FROM deletion_notices
		WHERE request_id = ? ORDER BY destination_name, id`, store.CleanText(requestID))
}

// UpdateDeletionNotice implements store.DeletionStore.
func (db *DB) UpdateDeletionNotice(ctx context.Context, n *store.DeletionNotice) error {
	res, err := db.write.ExecContext(ctx, `UPDATE deletion_notices SET status = ?, payload = ?, attempts = ?, next_at = ?,
		last_error = ?, last_code = ?, done_at = ? WHERE id = ?`, store.CleanText(n.Status), n.Payload, n.Attempts, micros(n.NextAt),
		store.CleanText(n.LastError), n.LastCode, optDone(n.DoneAt), store.CleanText(n.ID))
	if err != nil {
		return wrap(ctx, "update deletion notice "+n.ID, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No deletion notice %q.", n.ID)
	}
	return nil
}

// ExtendPrivacyRequest implements store.PrivacyStore; the WHERE clause
// makes "only once" hold under concurrent calls.
func (db *DB) ExtendPrivacyRequest(ctx context.Context, id string, due time.Time, reason string, at time.Time) error {
	id = store.CleanText(id)
	res, err := db.write.ExecContext(ctx, `UPDATE privacy_requests SET due_at = ?, extended_at = ?, extension_reason = ?
		WHERE id = ? AND extended_at IS NULL`, micros(due), micros(at), store.CleanText(reason), id)
	if err != nil {
		return wrap(ctx, "extend privacy request "+id, err)
	}
	if k, _ := res.RowsAffected(); k == 1 {
		return nil
	}
	if _, err := db.PrivacyRequest(ctx, id); err != nil {
		return err
	}
	return mosaic.Errorf(mosaic.ECONFLICT, "Privacy request %s was extended already: the law allows one extension.", id)
}
