package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic/store"
)

// Timeline implements store.ProfileStore: the profile's packed timeline
// and the rows of the table kept before, in one snapshot.
func (db *DB) Timeline(ctx context.Context, profileID uint64, before time.Time, beforeSeq uint64, limit int) ([]store.TimelineRow, error) {
	op := fmt.Sprintf("read timeline of profile %d", profileID)
	if limit <= 0 {
		return nil, wrap(ctx, op, ctx.Err())
	}
	var h store.History
	err := db.inTx(ctx, op, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT seq, time, type, name, source_id FROM profile_timeline WHERE profile_id = $1`, seqArg(profileID))
		if err != nil {
			return err
		}
		var seq int64
		r := store.TimelineRow{ProfileID: profileID}
		_, err = pgx.ForEachRow(rows, []any{&seq, &r.Time, &r.Type, &r.Name, &r.SourceID}, func() error {
			row := r
			row.Seq, row.Time = uint64(seq), utc(r.Time)
			h.AddTimeline(row)
			return nil
		})
		if err != nil {
			return err
		}
		return packedOf(ctx, tx, profileID, 0, func(b []byte) error { return h.AddPackedTimeline(b, profileID) })
	})
	if err != nil {
		return nil, err
	}
	return h.Timeline(before, beforeSeq, limit), nil
}

// packedOf calls fn with each packed value of a profile's history of kind
// (0 timeline, 1 traits), oldest first: its chunks, then its row's.
func packedOf(ctx context.Context, tx pgx.Tx, profileID uint64, kind int, fn func([]byte) error) error {
	rows, err := tx.Query(ctx, `SELECT data FROM profile_chunks WHERE profile_id = $1 AND kind = $2 ORDER BY id`, seqArg(profileID), kind)
	if err != nil {
		return err
	}
	var b []byte
	if _, err := pgx.ForEachRow(rows, []any{&b}, func() error { return fn(b) }); err != nil {
		return err
	}
	col := "timeline"
	if kind == 1 {
		col = "traits"
	}
	err = tx.QueryRow(ctx, `SELECT `+col+` FROM profiles WHERE id = $1`, seqArg(profileID)).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fn(b)
}

// TraitHistory implements store.ProfileStore, as Timeline does.
func (db *DB) TraitHistory(ctx context.Context, profileID uint64, groupID, name string, limit int) ([]store.TraitRow, error) {
	groupID, name = store.CleanText(groupID), store.CleanText(name)
	op := fmt.Sprintf("read history of trait %q/%q of profile %d", groupID, name, profileID)
	if limit <= 0 {
		return nil, wrap(ctx, op, ctx.Err())
	}
	var h store.History
	err := db.inTx(ctx, op, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT value, time, seq, source_id, message_id
			FROM trait_history WHERE profile_id = $1 AND group_id = $2 AND name = $3`, seqArg(profileID), groupID, name)
		if err != nil {
			return err
		}
		var seq int64
		r := store.TraitRow{ProfileID: profileID, GroupID: groupID, Name: name}
		_, err = pgx.ForEachRow(rows, []any{&r.Value, &r.Time, &seq, &r.SourceID, &r.MessageID}, func() error {
			row := r
			row.Seq, row.Time, row.Value = uint64(seq), utc(r.Time), append([]byte{}, r.Value...)
			h.AddTraits(groupID, name, row)
			return nil
		})
		if err != nil {
			return err
		}
		return packedOf(ctx, tx, profileID, 1, func(b []byte) error { return h.AddPackedTraits(b, profileID, groupID, name) })
	})
	if err != nil {
		return nil, err
	}
	return h.Traits(limit), nil
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
