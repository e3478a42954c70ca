package sqlite

import (
	"context"
	"database/sql"

	"github.com/mosaic-cdp/mosaic/store"
)

// DeleteDecisions implements store.EraseStore: an erasure deletes the recorded
// identity decisions of the profiles it rebuilds, since they may name the
// erased person's identifiers; the rebuild records them again.
func (db *DB) DeleteDecisions(ctx context.Context, ids []uint64) error {
	if err := store.CheckEraseIDs(ids); err != nil {
		return err
	}
	return db.inTx(ctx, "delete identity decisions", func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM identity_decisions WHERE profile_id = ?`, int64(id)); err != nil {
				return err
			}
		}
		return nil
	})
}
