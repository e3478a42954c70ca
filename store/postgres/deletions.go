package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// PersonOutbox implements store.DeletionStore with one scan of the outbox:
// the payload search cannot use an index, and erasures are rare.
func (db *DB) PersonOutbox(ctx context.Context, keys []string, needles [][]byte) ([]store.Delivery, error) {
	clean := make([]string, len(keys))
	for i, k := range keys {
		clean[i] = store.CleanText(k)
	}
	conds := []string{`profile_key = ANY($1)`}
	args := []any{clean}
	for _, n := range needles {
		if len(n) > 0 {
			args = append(args, n)
			conds = append(conds, `position($`+strconv.Itoa(len(args))+`::bytea in payload) > 0`)
		}
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
	err := db.inTx(ctx, "remove outbox messages", pgx.TxOptions{}, func(tx pgx.Tx) error {
		for _, m := range msgs {
			tag, err := tx.Exec(ctx, `DELETE FROM outbox WHERE destination_id = $1 AND seq = $2`, m.DestinationID, m.Seq)
			if err != nil {
				return err
			}
			n += tag.RowsAffected()
			if _, err := tx.Exec(ctx, `DELETE FROM outbox_holds WHERE destination_id = $1 AND profile_key = $2`,
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

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// AddDeletionNotices implements store.DeletionStore.
func (db *DB) AddDeletionNotices(ctx context.Context, ns []store.DeletionNotice) error {
	c := store.CleanText
	return db.inTx(ctx, "add deletion notices", pgx.TxOptions{}, func(tx pgx.Tx) error {
		for _, n := range ns {
			_, err := tx.Exec(ctx, `INSERT INTO deletion_notices (`+noticeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
				c(n.ID), c(n.RequestID), c(n.DestinationID), c(n.DestinationName), c(n.Status), strings.Join(n.IdentifierHashes, ","),
				n.Payload, n.Attempts, n.NextAt, c(n.LastError), n.LastCode, n.CreatedAt, optTime(n.DoneAt))
			if violatedUnique(err) != "" {
				return mosaic.Errorf(mosaic.ECONFLICT, "A deletion notice %q exists already.", n.ID)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func scanNotice(s pgx.Row) (store.DeletionNotice, error) {
	var n store.DeletionNotice
	var hashes string
	var done *time.Time
	err := s.Scan(&n.ID, &n.RequestID, &n.DestinationID, &n.DestinationName, &n.Status, &hashes, &n.Payload, &n.Attempts, &n.NextAt,
		&n.LastError, &n.LastCode, &n.CreatedAt, &done)
	n.NextAt, n.CreatedAt = utc(n.NextAt), utc(n.CreatedAt)
	if done != nil {
		n.DoneAt = utc(*done)
	}
	n.IdentifierHashes = []string{}
	if hashes != "" {
		n.IdentifierHashes = strings.Split(hashes, ",")
	}
	return n, err
}

func (db *DB) queryNotices(ctx context.Context, op, q string, args ...any) ([]store.DeletionNotice, error) {
	rows, err := db.pool.Query(ctx, q, args...)
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
		WHERE status = 'queued' AND next_at <= $1 ORDER BY next_at, id LIMIT $2`, now, limit)
}

// DeletionNotices implements store.DeletionStore.
func (db *DB) DeletionNotices(ctx context.Context, requestID string) ([]store.DeletionNotice, error) {
	return db.queryNotices(ctx, "list deletion notices", `SELECT `+noticeColumns+` FROM deletion_notices
		WHERE request_id = $1 ORDER BY destination_name, id`, store.CleanText(requestID))
}

// UpdateDeletionNotice implements store.DeletionStore.
func (db *DB) UpdateDeletionNotice(ctx context.Context, n *store.DeletionNotice) error {
	tag, err := db.pool.Exec(ctx, `UPDATE deletion_notices SET status = $1, payload = $2, attempts = $3, next_at = $4,
		last_error = $5, last_code = $6, done_at = $7 WHERE id = $8`, store.CleanText(n.Status), n.Payload, n.Attempts, n.NextAt,
		store.CleanText(n.LastError), n.LastCode, optTime(n.DoneAt), store.CleanText(n.ID))
	if err != nil {
		return wrap(ctx, "update deletion notice "+n.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No deletion notice %q.", n.ID)
	}
	return nil
}

// ExtendPrivacyRequest implements store.PrivacyStore; the WHERE clause
// makes "only once" hold under concurrent calls.
func (db *DB) ExtendPrivacyRequest(ctx context.Context, id string, due time.Time, reason string, at time.Time) error {
	id = store.CleanText(id)
	tag, err := db.pool.Exec(ctx, `UPDATE privacy_requests SET due_at = $1, extended_at = $2, extension_reason = $3
		WHERE id = $4 AND extended_at IS NULL`, due, at, store.CleanText(reason), id)
	if err != nil {
		return wrap(ctx, "extend privacy request "+id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := db.PrivacyRequest(ctx, id); err != nil {
		return err
	}
	return mosaic.Errorf(mosaic.ECONFLICT, "Privacy request %s was extended already: the law allows one extension.", id)
}
