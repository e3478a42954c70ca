package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/mosaic-cdp/mosaic/store"
)

// eraseStatements delete one profile's rows (its ID is the one argument)
// from every table derived from the log about it. Each is a lookup by the
// primary key or by an index that starts with the profile ID. The segment
// state keeps its row with its version, as a deletion by SaveSegments
// does, so that an older save retried later cannot bring it back.
var eraseStatements = []string{
	`DELETE FROM profiles WHERE id = ? AND has_data`,
	`DELETE FROM profile_timeline WHERE profile_id = ?`,
	`DELETE FROM trait_history WHERE profile_id = ?`,
	`DELETE FROM identity_decisions WHERE profile_id = ?`,
	`UPDATE segment_profiles SET data = NULL WHERE id = ? AND data IS NOT NULL`,
	`DELETE FROM audience_changes WHERE profile_id = ?`,
	`DELETE FROM consent_state WHERE profile_id = ?`,
	`DELETE FROM consent_history WHERE profile_id = ?`,
	`DELETE FROM predict_activity WHERE profile_id = ?`,
	`DELETE FROM predicted_traits WHERE profile_id = ?`,
}

// erasePacked delete the packed history, whose entries EraseProfiles
// counts before (a profile row without state holds only history).
var erasePacked = []string{
	`DELETE FROM profiles WHERE id = ?`,
	`DELETE FROM profile_chunks WHERE profile_id = ?`,
}

// EraseProfiles implements store.Store, in one transaction: the write
// lock, taken at its start, keeps any save from interleaving.
func (db *DB) EraseProfiles(ctx context.Context, ids []uint64) (int64, error) {
	if err := store.CheckEraseIDs(ids); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := db.inTx(ctx, fmt.Sprintf("erase %d profiles", len(ids)), func(tx *sql.Tx) error {
		n = 0 // counts of a transaction that failed are not kept
		for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
			entries, err := countPacked(ctx, tx, id)
			if err != nil {
				return err
			}
			n += entries
		}
		for _, q := range eraseStatements {
			deleted, err := execEach(ctx, tx, q, ids)
			if err != nil {
				return err
			}
			n += deleted
		}
		for _, q := range erasePacked {
			if _, err := execEach(ctx, tx, q, ids); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// execEach runs q once per ID and returns how many rows it changed in all.
func execEach(ctx context.Context, tx *sql.Tx, q string, ids []uint64) (int64, error) {
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	var n int64
	for _, id := range ids {
		res, err := stmt.ExecContext(ctx, int64(id))
		if err != nil {
			return 0, err
		}
		changed, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += changed
	}
	return n, nil
}

// countPacked returns how many timeline and trait entries a profile's
// packed history holds: what EraseProfiles counts as rows.
func countPacked(ctx context.Context, tx *sql.Tx, id uint64) (int64, error) {
	var n int64
	for kind := range 2 {
		err := packedOf(ctx, tx, id, kind, func(b []byte) error {
			entries, err := store.CountPacked(b, kind)
			n += entries
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}
