package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// AudienceCursor implements store.Store.
func (db *DB) AudienceCursor(ctx context.Context) (int64, error) {
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT change_id FROM audience_delivery_state WHERE id = 1`).Scan(&id)
	return id, wrap(ctx, "get audience delivery cursor", err)
}

// SaveAudienceDelivery implements store.Store.
func (db *DB) SaveAudienceDelivery(ctx context.Context, cursor int64, msgs []store.OutboxMessage) error {
	return db.inTx(ctx, "save audience delivery", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE audience_delivery_state SET change_id = ? WHERE id = 1 AND change_id < ?`, cursor, cursor)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // saved before
		}
		return enqueueTx(ctx, tx, msgs)
	})
}

// AudienceChangesEnd implements store.Store.
func (db *DB) AudienceChangesEnd(ctx context.Context) (int64, error) {
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM audience_changes`).Scan(&id)
	return id, wrap(ctx, "get the last audience change", err)
}

// PurgeDeliveries implements store.Store. It walks the status index in seq
// order, which is close to finishing order, so a purge of old rows stops
// after the first limit matches instead of scanning the table.
func (db *DB) PurgeDeliveries(ctx context.Context, destID string, before time.Time, limit int) (int64, error) {
	var n int64
	err := db.inTx(ctx, "purge deliveries", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE seq IN (
			SELECT seq FROM outbox WHERE destination_id = ?1 AND status = 'delivered' AND done_at < ?2
			UNION ALL
			SELECT seq FROM outbox WHERE destination_id = ?1 AND status = 'blocked' AND done_at < ?2
			LIMIT ?3)`, store.CleanText(destID), micros(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
