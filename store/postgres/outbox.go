package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

const destinationColumns = `id, name, type, status, status_reason, config, created_at, updated_at`

// CreateDestination implements store.Store.
func (db *DB) CreateDestination(ctx context.Context, d *store.Destination) error {
	if d.ID == "" || d.Type == "" {
		return mosaic.Errorf(mosaic.EINVALID, "A destination needs an ID and a type.")
	}
	if d.Config == nil {
		d.Config = []byte("{}")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO destinations (`+destinationColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
		store.CleanText(d.ID), store.CleanText(d.Name), store.CleanText(d.Type), d.Status, store.CleanText(d.StatusReason),
		d.Config, d.CreatedAt)
	if violatedUnique(err) != "" {
		return mosaic.Errorf(mosaic.ECONFLICT, "A destination named %q exists already: choose another name.", d.Name)
	}
	return wrap(ctx, "create destination "+d.ID, err)
}

// Destination implements store.Store.
func (db *DB) Destination(ctx context.Context, id string) (*store.Destination, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+destinationColumns+` FROM destinations WHERE id = $1`, store.CleanText(id))
	d, err := scanDestination(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No destination %q.", id)
	}
	return d, wrap(ctx, "get destination "+id, err)
}

// Destinations implements store.Store.
func (db *DB) Destinations(ctx context.Context) ([]*store.Destination, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+destinationColumns+` FROM destinations ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap(ctx, "list destinations", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Destination, error) { return scanDestination(r) })
	if out == nil {
		out = []*store.Destination{}
	}
	return out, wrap(ctx, "list destinations", err)
}

func scanDestination(row pgx.Row) (*store.Destination, error) {
	var d store.Destination
	if err := row.Scan(&d.ID, &d.Name, &d.Type, &d.Status, &d.StatusReason, &d.Config, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = utc(d.CreatedAt), utc(d.UpdatedAt)
	return &d, nil
}

// UpdateDestination implements store.Store.
func (db *DB) UpdateDestination(ctx context.Context, d *store.Destination) error {
	tag, err := db.pool.Exec(ctx, `UPDATE destinations SET name = $1, status = $2, status_reason = $3, config = $4, updated_at = $5 WHERE id = $6`,
		store.CleanText(d.Name), d.Status, store.CleanText(d.StatusReason), d.Config, d.UpdatedAt, store.CleanText(d.ID))
	if violatedUnique(err) != "" {
		return mosaic.Errorf(mosaic.ECONFLICT, "A destination named %q exists already: choose another name.", d.Name)
	}
	if err != nil {
		return wrap(ctx, "update destination "+d.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No destination %q.", d.ID)
	}
	return nil
}

// DeleteDestination implements store.Store.
func (db *DB) DeleteDestination(ctx context.Context, id string) error {
	id = store.CleanText(id)
	return db.inTx(ctx, "delete destination "+id, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM destinations WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return mosaic.Errorf(mosaic.ENOTFOUND, "No destination %q.", id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE destination_id = $1`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM outbox_holds WHERE destination_id = $1`, id)
		return err
	})
}

// Enqueue implements store.Store.
func (db *DB) Enqueue(ctx context.Context, msgs []store.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	return db.inTx(ctx, "enqueue", pgx.TxOptions{}, func(tx pgx.Tx) error { return enqueueTx(ctx, tx, msgs) })
}

// enqueueTx adds msgs to the outbox inside tx, in slice order. Other
// stages' Save methods call it to write outbox messages with the state
// change that caused them (see store.OutboxStore).
func enqueueTx(ctx context.Context, tx pgx.Tx, msgs []store.OutboxMessage) error {
	b := &pgx.Batch{}
	for _, m := range msgs {
		b.Queue(`INSERT INTO outbox (destination_id, id, profile_key, type, payload, status, since, next_at, created_at)
			VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6, $6) ON CONFLICT (destination_id, id) DO NOTHING`,
			store.CleanText(m.DestinationID), store.CleanText(m.ID), store.CleanText(m.ProfileKey), store.CleanText(m.Type),
			m.Payload, m.CreatedAt)
	}
	return sendBatch(ctx, tx, b)
}

// ForwardCursor implements store.Store.
func (db *DB) ForwardCursor(ctx context.Context) (uint64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT seq FROM forward_state WHERE id = 1`).Scan(&seq)
	return uint64(seq), wrap(ctx, "get forward cursor", err)
}

// SaveForward implements store.Store.
func (db *DB) SaveForward(ctx context.Context, c *store.ForwardCommit) error {
	return db.inTx(ctx, "save forward", pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE forward_state SET seq = $1 WHERE id = 1 AND seq < $1`, seqArg(c.Seq))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil // saved before
		}
		if err := enqueueTx(ctx, tx, c.Outbox); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, r := range c.Consent {
			b.Queue(`INSERT INTO consent_signals (profile_key, categories, time, seq) VALUES ($1, $2, $3, $4)
				ON CONFLICT (profile_key) DO UPDATE SET categories = excluded.categories, time = excluded.time, seq = excluded.seq
				WHERE excluded.time >= consent_signals.time`,
				store.CleanText(r.ProfileKey), r.Categories, r.Time, seqArg(r.Seq))
		}
		return sendBatch(ctx, tx, b)
	})
}

// ConsentSignal implements store.Store.
func (db *DB) ConsentSignal(ctx context.Context, key string) (*store.ConsentSignal, error) {
	r := store.ConsentSignal{ProfileKey: store.CleanText(key)}
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT categories, time, seq FROM consent_signals WHERE profile_key = $1`, r.ProfileKey).
		Scan(&r.Categories, &r.Time, &seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No consent signal for %q.", key)
	}
	r.Time, r.Seq = utc(r.Time), uint64(seq)
	return &r, wrap(ctx, "get consent signal", err)
}

const deliveryColumns = `seq, destination_id, id, profile_key, type, payload, status, attempts, since, next_at,
	last_error, last_code, latency_us, done_at, blocked, created_at`

func scanDelivery(row pgx.Row) (store.Delivery, error) {
	var d store.Delivery
	var lat int64
	var done *time.Time
	var blocked string
	err := row.Scan(&d.Seq, &d.DestinationID, &d.ID, &d.ProfileKey, &d.Type, &d.Payload, &d.Status, &d.Attempts,
		&d.Since, &d.NextAt, &d.LastError, &d.LastCode, &lat, &done, &blocked, &d.CreatedAt)
	d.Since, d.NextAt, d.CreatedAt = utc(d.Since), utc(d.NextAt), utc(d.CreatedAt)
	d.Latency = time.Duration(lat) * time.Microsecond
	if done != nil {
		d.DoneAt = utc(*done)
	}
	if blocked != "" {
		d.Blocked = strings.Split(blocked, ",")
	}
	return d, err
}

func (db *DB) queryDeliveries(ctx context.Context, op, q string, args ...any) ([]store.Delivery, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Delivery, error) { return scanDelivery(r) })
	if out == nil {
		out = []store.Delivery{}
	}
	return out, wrap(ctx, op, err)
}

// ClaimDue implements store.Store.
func (db *DB) ClaimDue(ctx context.Context, destID string, now time.Time, limit int) ([]store.Delivery, error) {
	return db.queryDeliveries(ctx, "claim deliveries", `SELECT `+deliveryColumns+` FROM outbox
		WHERE destination_id = $1 AND status = 'pending' AND profile_key NOT IN
			(SELECT profile_key FROM outbox_holds WHERE destination_id = $1 AND until > $2)
		ORDER BY seq LIMIT $3`, store.CleanText(destID), now, limit)
}

// FinishDeliveries implements store.Store.
func (db *DB) FinishDeliveries(ctx context.Context, updates []store.DeliveryUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	return db.inTx(ctx, "finish deliveries", pgx.TxOptions{}, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, u := range updates {
			var done *time.Time
			if !u.DoneAt.IsZero() {
				done = &u.DoneAt
			}
			b.Queue(`UPDATE outbox SET status = $1, attempts = $2, next_at = $3, last_error = $4, last_code = $5,
				latency_us = $6, done_at = $7, blocked = $8 WHERE destination_id = $9 AND seq = $10`,
				u.Status, u.Attempts, u.NextAt, store.CleanText(u.LastError), u.LastCode, u.Latency.Microseconds(),
				done, strings.Join(u.Blocked, ","), u.DestinationID, u.Seq)
			if u.Status == store.DeliveryPending {
				b.Queue(`INSERT INTO outbox_holds (destination_id, profile_key, until) VALUES ($1, $2, $3)
					ON CONFLICT (destination_id, profile_key) DO UPDATE SET until = excluded.until`,
					u.DestinationID, u.ProfileKey, u.NextAt)
			} else {
				b.Queue(`DELETE FROM outbox_holds WHERE destination_id = $1 AND profile_key = $2`, u.DestinationID, u.ProfileKey)
			}
		}
		return sendBatch(ctx, tx, b)
	})
}

// Deliveries implements store.Store.
func (db *DB) Deliveries(ctx context.Context, destID, status string, before int64, limit int) ([]store.Delivery, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return db.queryDeliveries(ctx, "list deliveries", `SELECT `+deliveryColumns+` FROM outbox
		WHERE destination_id = $1 AND ($2 = '' OR status = $2) AND seq < $3 ORDER BY seq DESC LIMIT $4`,
		store.CleanText(destID), status, before, limit)
}

// Requeue implements store.Store.
func (db *DB) Requeue(ctx context.Context, destID, status string, now time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET status = 'pending', attempts = 0, since = $1, next_at = $1,
		done_at = NULL, blocked = '' WHERE destination_id = $2 AND status = $3`, now, store.CleanText(destID), status)
	if err != nil {
		return 0, wrap(ctx, "requeue", err)
	}
	return tag.RowsAffected(), nil
}

// DeliveryStats implements store.Store.
func (db *DB) DeliveryStats(ctx context.Context, destID string) (*store.DeliveryStats, error) {
	st := &store.DeliveryStats{Counts: map[string]int64{}, Blocked: map[string]int64{}}
	destID = store.CleanText(destID)
	err := db.inTx(ctx, "delivery stats", readSnapshot, func(tx pgx.Tx) error {
		if err := countRows(ctx, tx, `SELECT status, count(*) FROM outbox WHERE destination_id = $1 GROUP BY status`, destID, st.Counts, false); err != nil {
			return err
		}
		if err := countRows(ctx, tx, `SELECT blocked, count(*) FROM outbox WHERE destination_id = $1 AND status = 'blocked' GROUP BY blocked`, destID, st.Blocked, true); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE destination_id = $1 AND status = 'pending' AND attempts > 0`, destID).Scan(&st.Retrying); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT latency_us FROM outbox WHERE destination_id = $1 AND status = 'delivered' ORDER BY seq DESC LIMIT 1000`, destID)
		if err != nil {
			return err
		}
		lats, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		for _, us := range lats {
			st.Latencies = append(st.Latencies, time.Duration(us)*time.Microsecond)
		}
		return err
	})
	return st, err
}

// countRows adds (key, count) rows to m; with split, a key is a
// comma-separated list and counts for each of its items.
func countRows(ctx context.Context, tx pgx.Tx, q, destID string, m map[string]int64, split bool) error {
	rows, err := tx.Query(ctx, q, destID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		if !split {
			m[k] += n
			continue
		}
		for _, p := range strings.Split(k, ",") {
			m[p] += n
		}
	}
	return rows.Err()
}
