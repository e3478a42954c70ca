package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic/store"
)

// Timeline implements store.ProfileStore. The row comparison (time, seq) <
// (before, beforeSeq) walks the profile_timeline_newest index backwards.
func (db *DB) Timeline(ctx context.Context, profileID uint64, before time.Time, beforeSeq uint64, limit int) ([]store.TimelineRow, error) {
	op := fmt.Sprintf("read timeline of profile %d", profileID)
	if limit <= 0 {
		return nil, wrap(ctx, op, ctx.Err())
	}
	query := `SELECT profile_id, seq, time, type, name, source_id FROM profile_timeline WHERE profile_id = $1`
	args := []any{seqArg(profileID), limit}
	if !before.IsZero() {
		query += ` AND (time, seq) < ($3, $4)`
		args = append(args, before, seqArg(beforeSeq))
	}
	rows, err := db.pool.Query(ctx, query+` ORDER BY time DESC, seq DESC LIMIT $2`, args...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.TimelineRow, error) {
		var r store.TimelineRow
		var pid, seq int64
		err := row.Scan(&pid, &seq, &r.Time, &r.Type, &r.Name, &r.SourceID)
		r.ProfileID, r.Seq, r.Time = uint64(pid), uint64(seq), utc(r.Time)
		return r, err
	})
	return list, wrap(ctx, op, err)
}

// TraitHistory implements store.ProfileStore.
func (db *DB) TraitHistory(ctx context.Context, profileID uint64, groupID, name string, limit int) ([]store.TraitRow, error) {
	groupID, name = store.CleanText(groupID), store.CleanText(name)
	op := fmt.Sprintf("read history of trait %q/%q of profile %d", groupID, name, profileID)
	if limit <= 0 {
		return nil, wrap(ctx, op, ctx.Err())
	}
	rows, err := db.pool.Query(ctx, `SELECT profile_id, group_id, name, value, time, seq, source_id, message_id
		FROM trait_history WHERE profile_id = $1 AND group_id = $2 AND name = $3
		ORDER BY time DESC, seq DESC LIMIT $4`, seqArg(profileID), groupID, name, limit)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.TraitRow, error) {
		var r store.TraitRow
		var pid, seq int64
		err := row.Scan(&pid, &r.GroupID, &r.Name, &r.Value, &r.Time, &seq, &r.SourceID, &r.MessageID)
		r.ProfileID, r.Seq, r.Time = uint64(pid), uint64(seq), utc(r.Time)
		return r, err
	})
	return list, wrap(ctx, op, err)
}

// Decisions implements store.ProfileStore.
func (db *DB) Decisions(ctx context.Context, profileID uint64) ([]store.DecisionRow, error) {
	op := fmt.Sprintf("read identity decisions of profile %d", profileID)
	rows, err := db.pool.Query(ctx, `SELECT profile_id, seq, kind, data FROM identity_decisions
		WHERE profile_id = $1 ORDER BY seq, id`, seqArg(profileID))
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.DecisionRow, error) {
		var r store.DecisionRow
		var pid, seq int64
		err := row.Scan(&pid, &seq, &r.Kind, &r.Data)
		r.ProfileID, r.Seq = uint64(pid), uint64(seq)
		return r, err
	})
	return list, wrap(ctx, op, err)
}
