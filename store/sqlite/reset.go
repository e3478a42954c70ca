package sqlite

import (
	"context"
	"database/sql"
)

// resetStatements delete what ResetDerived resets, leaving the one-row
// state tables at their first values. Counter rows stay, with their
// rejected counts: the quarantine is not in the log, so a replay cannot
// rebuild them.
var resetStatements = []string{
	`UPDATE dedupe_state SET seq = 0 WHERE id = 1`,
	`DELETE FROM dedupe_chunks`,
	`DELETE FROM duplicates`,
	`UPDATE source_counts SET stored = 0, duplicates = 0 WHERE stored <> 0 OR duplicates <> 0`,
	`UPDATE profile_state SET seq = 0, graph = NULL, graph_seq = 0 WHERE id = 1`,
	`DELETE FROM profiles`,
	`DELETE FROM profile_chunks`,
	`DELETE FROM profile_timeline`,
	`DELETE FROM trait_history`,
	`DELETE FROM identity_decisions`,
	`UPDATE segment_state SET version = 0, seq = 0, meta = NULL WHERE id = 1`,
	`DELETE FROM segment_profiles`,
	`DELETE FROM audience_changes`,
	`UPDATE schema_state SET seq = 0 WHERE id = 1`,
	`DELETE FROM schema_fields`,
	`UPDATE predict_state SET seq = 0 WHERE id = 1`, `DELETE FROM predict_activity`,
	`UPDATE consent_position SET seq = 0 WHERE id = 1`, `DELETE FROM consent_state`, `DELETE FROM consent_history`,
	`UPDATE audience_delivery_state SET change_id = 0 WHERE id = 1`, // the change IDs start again
}

// ResetDerived implements store.Store, in one transaction: the write lock,
// taken at its start, keeps any save from interleaving.
func (db *DB) ResetDerived(ctx context.Context) error {
	err := db.inTx(ctx, "reset the state derived from the event log", func(tx *sql.Tx) error {
		for _, q := range resetStatements {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return db.removeGraphs(ctx)
}
