package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic/store"
)

// AudienceCursor implements store.Store.
func (db *DB) AudienceCursor(ctx context.Context) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `SELECT change_id FROM audience_delivery_state WHERE id = 1`).Scan(&id)
	return id, wrap(ctx, "get audience delivery cursor", err)
}

// SaveAudienceDelivery implements store.Store.
func (db *DB) SaveAudienceDelivery(ctx context.Context, cursor int64, msgs []store.OutboxMessage) error {
	return db.inTx(ctx, "save audience delivery", pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE audience_delivery_state SET change_id = $1 WHERE id = 1 AND change_id < $1`, cursor)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil // saved before
		}
		return enqueueTx(ctx, tx, msgs)
	})
}

// AudienceChangesEnd implements store.Store.
func (db *DB) AudienceChangesEnd(ctx context.Context) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM audience_changes`).Scan(&id)
	return id, wrap(ctx, "get the last audience change", err)
}

// PurgeDeliveries implements store.Store.
func (db *DB) PurgeDeliveries(ctx context.Context, destID string, before time.Time, limit int) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM outbox WHERE destination_id = $1 AND seq IN (
		SELECT seq FROM outbox WHERE destination_id = $1 AND status IN ('delivered', 'blocked') AND done_at < $2
		ORDER BY seq LIMIT $3)`, store.CleanText(destID), before, limit)
	if err != nil {
		return 0, wrap(ctx, "purge deliveries", err)
	}
	return tag.RowsAffected(), nil
}
