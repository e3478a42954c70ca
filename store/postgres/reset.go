package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// ResetDerived implements store.Store, in one transaction. It locks the
// dedupe and profile state rows first, as SaveDedupe and SaveProfiles do,
// so a concurrent save either commits before the reset or waits for it and
// then finds position 0. No other transaction locks both rows, so taking
// them in this order cannot deadlock.
func (db *DB) ResetDerived(ctx context.Context) error {
	return db.inTx(ctx, "reset the state derived from the event log", pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := db.checkFence(ctx, tx); err != nil {
			return err
		}
		if _, err := dedupeSeq(ctx, tx, "FOR UPDATE"); err != nil {
			return err
		}
		var seq int64
		err := tx.QueryRow(ctx, `SELECT seq FROM profile_state WHERE id = 1 FOR UPDATE`).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return errors.New("the profile state row is missing: the schema is damaged; restore a backup")
		}
		if err != nil {
			return err
		}
		return sendBatch(ctx, tx, resetBatch())
	})
}

// resetBatch returns the writes of a reset. Counter rows stay, with their
// rejected counts: the quarantine is not in the log, so a replay cannot
// rebuild them. They are locked in source order, as AddRejected locks
// them, so the two never deadlock.
func resetBatch() *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue(`UPDATE dedupe_state SET seq = 0 WHERE id = 1`)
	b.Queue(`DELETE FROM dedupe_chunks`)
	b.Queue(`DELETE FROM duplicates`)
	b.Queue(`UPDATE source_counts SET stored = 0, duplicates = 0
		FROM (SELECT source_id FROM source_counts WHERE stored <> 0 OR duplicates <> 0
			ORDER BY source_id FOR UPDATE) AS locked
		WHERE source_counts.source_id = locked.source_id`)
	b.Queue(`UPDATE profile_state SET seq = 0, graph = NULL, graph_seq = 0 WHERE id = 1`)
	b.Queue(`DELETE FROM profiles`)
	b.Queue(`DELETE FROM profile_chunks`)
	b.Queue(`DELETE FROM profile_timeline`)
	b.Queue(`DELETE FROM trait_history`)
	b.Queue(`DELETE FROM identity_decisions`)
	b.Queue(`UPDATE segment_state SET version = 0, seq = 0, meta = NULL WHERE id = 1`)
	b.Queue(`DELETE FROM segment_profiles`)
	b.Queue(`DELETE FROM audience_changes`)
	b.Queue(`UPDATE schema_state SET seq = 0 WHERE id = 1`)
	b.Queue(`DELETE FROM schema_fields`)
	b.Queue(`UPDATE predict_state SET seq = 0 WHERE id = 1`)
	b.Queue(`DELETE FROM predict_activity`)
	b.Queue(`UPDATE consent_position SET seq = 0 WHERE id = 1`)
	b.Queue(`DELETE FROM consent_state`)
	b.Queue(`DELETE FROM consent_history`)
	b.Queue(`UPDATE audience_delivery_state SET change_id = 0 WHERE id = 1`) // the change IDs start again
	return b
}
