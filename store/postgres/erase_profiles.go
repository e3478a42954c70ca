package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mosaic-cdp/mosaic/store"
)

// eraseStatements delete the rows of the profiles $1 (a bigint[]) from
// every table derived from the log about them. Each is a lookup by the
// primary key or by an index that starts with the profile ID. The segment
// state keeps its row with its version, as a deletion by SaveSegments
// does, so that an older save retried later cannot bring it back.
var eraseStatements = []string{
	`DELETE FROM profiles WHERE id = ANY($1) AND has_data`,
	`DELETE FROM profile_timeline WHERE profile_id = ANY($1)`,
	`DELETE FROM trait_history WHERE profile_id = ANY($1)`,
	`DELETE FROM identity_decisions WHERE profile_id = ANY($1)`,
	`UPDATE segment_profiles SET data = NULL WHERE id = ANY($1) AND data IS NOT NULL`,
	`DELETE FROM audience_changes WHERE profile_id = ANY($1)`,
	`DELETE FROM consent_state WHERE profile_id = ANY($1)`,
	`DELETE FROM consent_history WHERE profile_id = ANY($1)`,
	`DELETE FROM predict_activity WHERE profile_id = ANY($1)`,
	`DELETE FROM predicted_traits WHERE profile_id = ANY($1)`,
}

// eraseLocks are the state rows the stages' saves lock first, in the order
// ResetDerived takes them. Holding them makes a concurrent save of the
// profiles, segments, predictions or consent run wholly before or after
// the erasure, so no two transactions lock the same profile rows in
// different orders.
var eraseLocks = []string{
	`SELECT 1 FROM profile_state WHERE id = 1 FOR UPDATE`,
	`SELECT 1 FROM segment_state WHERE id = 1 FOR UPDATE`,
	`SELECT 1 FROM predict_state WHERE id = 1 FOR UPDATE`,
	`SELECT 1 FROM consent_position WHERE id = 1 FOR UPDATE`,
}

// EraseProfiles implements store.Store, in one transaction that checks
// the stage's lease first, as every checkpoint write does.
func (db *DB) EraseProfiles(ctx context.Context, ids []uint64) (int64, error) {
	if err := store.CheckEraseIDs(ids); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := db.inTx(ctx, fmt.Sprintf("erase %d profiles", len(ids)), pgx.TxOptions{}, func(tx pgx.Tx) error {
		n = 0
		if err := db.checkFence(ctx, tx); err != nil {
			return err
		}
		if err := lockStateRows(ctx, tx); err != nil {
			return err
		}
		// The packed history counts by its entries, as the readers show it.
		for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
			for kind := range 2 {
				err := packedOf(ctx, tx, id, kind, func(b []byte) error {
					entries, err := store.CountPacked(b, kind)
					n += entries
					return err
				})
				if err != nil {
					return err
				}
			}
		}
		b := &pgx.Batch{}
		arg := int64s(ids)
		for _, q := range eraseStatements {
			b.Queue(q, arg).Exec(func(tag pgconn.CommandTag) error {
				n += tag.RowsAffected()
				return nil
			})
		}
		b.Queue(`DELETE FROM profiles WHERE id = ANY($1)`, arg)
		b.Queue(`DELETE FROM profile_chunks WHERE profile_id = ANY($1)`, arg)
		return sendBatch(ctx, tx, b)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// lockStateRows takes eraseLocks in one round trip.
func lockStateRows(ctx context.Context, tx pgx.Tx) error {
	b := &pgx.Batch{}
	for _, q := range eraseLocks {
		b.Queue(q).Exec(func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != 1 {
				return errors.New("a stage's state row is missing: the schema is damaged; restore a backup")
			}
			return nil
		})
	}
	return sendBatch(ctx, tx, b)
}
