package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/mosaic-cdp/mosaic/store"
)

// DeleteDecisions implements store.EraseStore: an erasure deletes the recorded
// identity decisions of the profiles it rebuilds, since they may name the
// erased person's identifiers; the rebuild records them again. Like the
// profile stage's other writes, it checks the stage's lease.
func (db *DB) DeleteDecisions(ctx context.Context, ids []uint64) error {
	if err := store.CheckEraseIDs(ids); err != nil {
		return err
	}
	return db.inTx(ctx, "delete identity decisions", pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := db.checkFence(ctx, tx); err != nil {
			return err
		}
		pids := make([]int64, len(ids))
		for i, id := range ids {
			pids[i] = int64(id)
		}
		_, err := tx.Exec(ctx, `DELETE FROM identity_decisions WHERE profile_id = ANY($1)`, pids)
		return err
	})
}
