package sqlite

import (
	"context"
	"database/sql"

	"github.com/mosaic-cdp/mosaic/store"
)

// RemoveConsentSignals implements store.DeletionStore.
func (db *DB) RemoveConsentSignals(ctx context.Context, keys []string) (int64, error) {
	var n int64
	err := db.inTx(ctx, "remove consent signals", func(tx *sql.Tx) error {
		for _, k := range keys {
			res, err := tx.ExecContext(ctx, `DELETE FROM consent_signals WHERE profile_key = ?`, store.CleanText(k))
			if err != nil {
				return err
			}
			d, _ := res.RowsAffected()
			n += d
		}
		return nil
	})
	return n, err
}
