package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic/store"
)

// ProfileAudienceChanges implements store.SegmentStore. The row comparison
// (at, id) < (before, beforeID) walks the audience_changes_profile index
// backwards.
func (db *DB) ProfileAudienceChanges(ctx context.Context, profileID uint64, before time.Time, beforeID int64, limit int) ([]store.AudienceChange, error) {
	op := fmt.Sprintf("read audience changes of profile %d", profileID)
	q := `SELECT id, audience_id, profile_id, entered, at, seq, cause FROM audience_changes WHERE profile_id = $1`
	args := []any{seqArg(profileID), max(limit, 0)}
	if !before.IsZero() {
		q += ` AND (at, id) < ($3, $4)`
		args = append(args, before.UnixMicro(), beforeID)
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY at DESC, id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	out := []store.AudienceChange{}
	var ch store.AudienceChange
	var pid, at, seq int64
	_, err = pgx.ForEachRow(rows, []any{&ch.ID, &ch.AudienceID, &pid, &ch.Entered, &at, &seq, &ch.Cause}, func() error {
		c := ch
		c.ProfileID, c.At, c.Seq = uint64(pid), time.UnixMicro(at).UTC(), uint64(seq)
		out = append(out, c)
		return nil
	})
	return out, wrap(ctx, op, err)
}
