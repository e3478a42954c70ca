package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

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
	_, err := db.write.ExecContext(ctx, `INSERT INTO destinations (`+destinationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		store.CleanText(d.ID), store.CleanText(d.Name), store.CleanText(d.Type), d.Status, store.CleanText(d.StatusReason),
		d.Config, micros(d.CreatedAt), micros(d.CreatedAt))
	if isUnique(err) {
		return mosaic.Errorf(mosaic.ECONFLICT, "A destination named %q exists already: choose another name.", d.Name)
	}
	return wrap(ctx, "create destination "+d.ID, err)
}

// Destination implements store.Store.
func (db *DB) Destination(ctx context.Context, id string) (*store.Destination, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+destinationColumns+` FROM destinations WHERE id = ?`, store.CleanText(id))
	d, err := scanDestination(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No destination %q.", id)
	}
	return d, wrap(ctx, "get destination "+id, err)
}

// Destinations implements store.Store.
func (db *DB) Destinations(ctx context.Context) ([]*store.Destination, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+destinationColumns+` FROM destinations ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap(ctx, "list destinations", err)
	}
	defer rows.Close()
	out := []*store.Destination{}
	for rows.Next() {
		d, err := scanDestination(rows)
		if err != nil {
			return nil, wrap(ctx, "list destinations", err)
		}
		out = append(out, d)
	}
	return out, wrap(ctx, "list destinations", rows.Err())
}

func scanDestination(row interface{ Scan(...any) error }) (*store.Destination, error) {
	var d store.Destination
	var created, updated int64
	if err := row.Scan(&d.ID, &d.Name, &d.Type, &d.Status, &d.StatusReason, &d.Config, &created, &updated); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

// UpdateDestination implements store.Store.
func (db *DB) UpdateDestination(ctx context.Context, d *store.Destination) error {
	res, err := db.write.ExecContext(ctx, `UPDATE destinations SET name = ?, status = ?, status_reason = ?, config = ?, updated_at = ? WHERE id = ?`,
		store.CleanText(d.Name), d.Status, store.CleanText(d.StatusReason), d.Config, micros(d.UpdatedAt), store.CleanText(d.ID))
	if isUnique(err) {
		return mosaic.Errorf(mosaic.ECONFLICT, "A destination named %q exists already: choose another name.", d.Name)
	}
	if err != nil {
		return wrap(ctx, "update destination "+d.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No destination %q.", d.ID)
	}
	return nil
}

// DeleteDestination implements store.Store.
func (db *DB) DeleteDestination(ctx context.Context, id string) error {
	id = store.CleanText(id)
	return db.inTx(ctx, "delete destination "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM destinations WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mosaic.Errorf(mosaic.ENOTFOUND, "No destination %q.", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE destination_id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM outbox_holds WHERE destination_id = ?`, id)
		return err
	})
}

// Enqueue implements store.Store.
func (db *DB) Enqueue(ctx context.Context, msgs []store.OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	return db.inTx(ctx, "enqueue", func(tx *sql.Tx) error { return enqueueTx(ctx, tx, msgs) })
}

// enqueueTx adds msgs to the outbox inside tx. Other stages' Save methods
// call it to write outbox messages with the state change that caused them
// (see store.OutboxStore).
func enqueueTx(ctx context.Context, tx *sql.Tx, msgs []store.OutboxMessage) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO outbox
		(destination_id, id, profile_key, type, payload, status, since, next_at, created_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (destination_id, id) DO NOTHING`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, m := range msgs {
		t := micros(m.CreatedAt)
		if _, err := stmt.ExecContext(ctx, store.CleanText(m.DestinationID), store.CleanText(m.ID),
			store.CleanText(m.ProfileKey), store.CleanText(m.Type), m.Payload, t, t, t); err != nil {
			return err
		}
	}
	return nil
}

// ForwardCursor implements store.Store.
func (db *DB) ForwardCursor(ctx context.Context) (uint64, error) {
	var seq int64
	err := db.read.QueryRowContext(ctx, `SELECT seq FROM forward_state WHERE id = 1`).Scan(&seq)
	return uint64(seq), wrap(ctx, "get forward cursor", err)
}

// SaveForward implements store.Store.
func (db *DB) SaveForward(ctx context.Context, c *store.ForwardCommit) error {
	return db.inTx(ctx, "save forward", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE forward_state SET seq = ? WHERE id = 1 AND seq < ?`, seqArg(c.Seq), seqArg(c.Seq))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // saved before
		}
		if err := enqueueTx(ctx, tx, c.Outbox); err != nil {
			return err
		}
		for _, r := range c.Consent {
			if _, err := tx.ExecContext(ctx, `INSERT INTO consent_signals (profile_key, categories, time, seq) VALUES (?, ?, ?, ?)
				ON CONFLICT (profile_key) DO UPDATE SET categories = excluded.categories, time = excluded.time, seq = excluded.seq
				WHERE excluded.time >= consent_signals.time`,
				store.CleanText(r.ProfileKey), r.Categories, micros(r.Time), seqArg(r.Seq)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ConsentSignal implements store.Store.
func (db *DB) ConsentSignal(ctx context.Context, key string) (*store.ConsentSignal, error) {
	r := store.ConsentSignal{ProfileKey: store.CleanText(key)}
	var t, seq int64
	err := db.read.QueryRowContext(ctx, `SELECT categories, time, seq FROM consent_signals WHERE profile_key = ?`, r.ProfileKey).
		Scan(&r.Categories, &t, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No consent signal for %q.", key)
	}
	r.Time, r.Seq = fromMicros(t), uint64(seq)
	return &r, wrap(ctx, "get consent signal", err)
}

const deliveryColumns = `seq, destination_id, id, profile_key, type, payload, status, attempts, since, next_at,
	last_error, last_code, latency_us, done_at, blocked, created_at`

func scanDelivery(row interface{ Scan(...any) error }) (store.Delivery, error) {
	var d store.Delivery
	var since, next, lat, done, created int64
	var blocked string
	err := row.Scan(&d.Seq, &d.DestinationID, &d.ID, &d.ProfileKey, &d.Type, &d.Payload, &d.Status, &d.Attempts,
		&since, &next, &d.LastError, &d.LastCode, &lat, &done, &blocked, &created)
	d.Since, d.NextAt, d.CreatedAt = fromMicros(since), fromMicros(next), fromMicros(created)
	d.Latency = time.Duration(lat) * time.Microsecond
	if done != 0 {
		d.DoneAt = fromMicros(done)
	}
	if blocked != "" {
		d.Blocked = strings.Split(blocked, ",")
	}
	return d, err
}

func (db *DB) queryDeliveries(ctx context.Context, op, q string, args ...any) ([]store.Delivery, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	out := []store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, wrap(ctx, op, err)
		}
		out = append(out, d)
	}
	return out, wrap(ctx, op, rows.Err())
}

// ClaimDue implements store.Store.
func (db *DB) ClaimDue(ctx context.Context, destID string, now time.Time, limit int) ([]store.Delivery, error) {
	return db.queryDeliveries(ctx, "claim deliveries", `SELECT `+deliveryColumns+` FROM outbox
		WHERE destination_id = ?1 AND status = 'pending' AND profile_key NOT IN
			(SELECT profile_key FROM outbox_holds WHERE destination_id = ?1 AND until > ?2)
		ORDER BY seq LIMIT ?3`, store.CleanText(destID), micros(now), limit)
}

// FinishDeliveries implements store.Store. It prepares its statements once
// per call and touches the holds only where there are some: in the common
// case, nothing failed and no profile is held, so each message costs one
// UPDATE.
func (db *DB) FinishDeliveries(ctx context.Context, updates []store.DeliveryUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	return db.inTx(ctx, "finish deliveries", func(tx *sql.Tx) error {
		upd, err := tx.PrepareContext(ctx, `UPDATE outbox SET status = ?, attempts = ?, next_at = ?, last_error = ?,
			last_code = ?, latency_us = ?, done_at = ?, blocked = ? WHERE destination_id = ? AND seq = ?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		held, err := heldDestinations(ctx, tx, updates)
		if err != nil {
			return err
		}
		for _, u := range updates {
			done := int64(0)
			if !u.DoneAt.IsZero() {
				done = micros(u.DoneAt)
			}
			if _, err := upd.ExecContext(ctx, u.Status, u.Attempts, micros(u.NextAt), store.CleanText(u.LastError), u.LastCode,
				u.Latency.Microseconds(), done, strings.Join(u.Blocked, ","), u.DestinationID, u.Seq); err != nil {
				return err
			}
			if u.Status != store.DeliveryPending && !held[u.DestinationID] {
				continue // no hold to release
			}
			if u.Status == store.DeliveryPending {
				held[u.DestinationID] = true
			}
			if err := holdTx(ctx, tx, u); err != nil {
				return err
			}
		}
		return nil
	})
}

// heldDestinations returns which of the updates' destinations have a
// profile held back.
func heldDestinations(ctx context.Context, tx *sql.Tx, updates []store.DeliveryUpdate) (map[string]bool, error) {
	held := map[string]bool{}
	for _, u := range updates {
		if _, seen := held[u.DestinationID]; seen {
			continue
		}
		var any bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM outbox_holds WHERE destination_id = ?)`, u.DestinationID).Scan(&any)
		if err != nil {
			return nil, err
		}
		held[u.DestinationID] = any
	}
	return held, nil
}

// holdTx holds back or releases u's profile key.
func holdTx(ctx context.Context, tx *sql.Tx, u store.DeliveryUpdate) error {
	if u.Status == store.DeliveryPending {
		_, err := tx.ExecContext(ctx, `INSERT INTO outbox_holds (destination_id, profile_key, until) VALUES (?, ?, ?)
			ON CONFLICT (destination_id, profile_key) DO UPDATE SET until = excluded.until`,
			u.DestinationID, u.ProfileKey, micros(u.NextAt))
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM outbox_holds WHERE destination_id = ? AND profile_key = ?`, u.DestinationID, u.ProfileKey)
	return err
}

// Deliveries implements store.Store.
func (db *DB) Deliveries(ctx context.Context, destID, status string, before int64, limit int) ([]store.Delivery, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return db.queryDeliveries(ctx, "list deliveries", `SELECT `+deliveryColumns+` FROM outbox
		WHERE destination_id = ?1 AND (?2 = '' OR status = ?2) AND seq < ?3 ORDER BY seq DESC LIMIT ?4`,
		store.CleanText(destID), status, before, limit)
}

// Requeue implements store.Store.
func (db *DB) Requeue(ctx context.Context, destID, status string, now time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, "requeue", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'pending', attempts = 0, since = ?, next_at = ?,
			done_at = 0, blocked = '' WHERE destination_id = ? AND status = ?`, micros(now), micros(now), store.CleanText(destID), status)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// DeliveryStats implements store.Store.
func (db *DB) DeliveryStats(ctx context.Context, destID string) (*store.DeliveryStats, error) {
	st := &store.DeliveryStats{Counts: map[string]int64{}, Blocked: map[string]int64{}}
	destID = store.CleanText(destID)
	err := db.inReadTx(ctx, "delivery stats", func(tx *sql.Tx) error {
		if err := countRows(ctx, tx, `SELECT status, count(*) FROM outbox WHERE destination_id = ? GROUP BY status`, destID, st.Counts, false); err != nil {
			return err
		}
		if err := countRows(ctx, tx, `SELECT blocked, count(*) FROM outbox WHERE destination_id = ? AND status = 'blocked' GROUP BY blocked`, destID, st.Blocked, true); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE destination_id = ? AND status = 'pending' AND attempts > 0`, destID).Scan(&st.Retrying); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT latency_us FROM outbox WHERE destination_id = ? AND status = 'delivered' ORDER BY seq DESC LIMIT 1000`, destID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var us int64
			if err := rows.Scan(&us); err != nil {
				return err
			}
			st.Latencies = append(st.Latencies, time.Duration(us)*time.Microsecond)
		}
		return rows.Err()
	})
	return st, err
}

// countRows adds (key, count) rows to m; with split, a key is a
// comma-separated list and counts for each of its items.
func countRows(ctx context.Context, tx *sql.Tx, q, destID string, m map[string]int64, split bool) error {
	rows, err := tx.QueryContext(ctx, q, destID)
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
