package postgres

import (
	"context"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// NextHold implements store.Store.
func (db *DB) NextHold(ctx context.Context, destID string) (time.Time, error) {
	var until *time.Time
	err := db.pool.QueryRow(ctx, `SELECT min(until) FROM outbox_holds WHERE destination_id = $1`, store.CleanText(destID)).Scan(&until)
	if err != nil || until == nil {
		return time.Time{}, wrap(ctx, "next hold of "+destID, err)
	}
	return until.UTC(), nil
}

// ReleaseHolds implements store.Store.
func (db *DB) ReleaseHolds(ctx context.Context, destID string) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM outbox_holds WHERE destination_id = $1`, store.CleanText(destID))
	if err != nil {
		return 0, wrap(ctx, "release holds of "+destID, err)
	}
	return tag.RowsAffected(), nil
}
