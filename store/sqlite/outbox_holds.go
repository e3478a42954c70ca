package sqlite

import (
	"context"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// NextHold implements store.Store.
func (db *DB) NextHold(ctx context.Context, destID string) (time.Time, error) {
	var until *int64
	err := db.read.QueryRowContext(ctx, `SELECT min(until) FROM outbox_holds WHERE destination_id = ?`, store.CleanText(destID)).Scan(&until)
	if err != nil || until == nil {
		return time.Time{}, wrap(ctx, "next hold of "+destID, err)
	}
	return fromMicros(*until), nil
}

// ReleaseHolds implements store.Store.
func (db *DB) ReleaseHolds(ctx context.Context, destID string) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM outbox_holds WHERE destination_id = ?`, store.CleanText(destID))
	if err != nil {
		return 0, wrap(ctx, "release holds of "+destID, err)
	}
	n, err := res.RowsAffected()
	return n, wrap(ctx, "release holds of "+destID, err)
}
