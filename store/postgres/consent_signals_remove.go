package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/mosaic-cdp/mosaic/store"
)

// RemoveConsentSignals implements store.DeletionStore.
func (db *DB) RemoveConsentSignals(ctx context.Context, keys []string) (int64, error) {
	clean := make([]string, len(keys))
	for i, k := range keys {
		clean[i] = store.CleanText(k)
	}
	var n int64
	err := db.inTx(ctx, "remove consent signals", pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM consent_signals WHERE profile_key = ANY($1)`, clean)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}
