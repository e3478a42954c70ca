package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// ProfileAudienceChanges implements store.SegmentStore. The row comparison
// (at, id) < (before, beforeID) walks the audience_changes_profile index
// backwards.
func (db *DB) ProfileAudienceChanges(ctx context.Context, profileID uint64, before time.Time, beforeID int64, limit int) ([]store.AudienceChange, error) {
	op := fmt.Sprintf("read audience changes of profile %d", profileID)
	q := `SELECT id, audience_id, profile_id, entered, at, seq, cause FROM audience_changes WHERE profile_id = ?`
	args := []any{seqArg(profileID)}
	if !before.IsZero() {
		q += ` AND (at, id) < (?, ?)`
		args = append(args, micros(before), beforeID)
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY at DESC, id DESC LIMIT ?`, append(args, max(limit, 0))...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	out := []store.AudienceChange{}
	for rows.Next() {
		var ch store.AudienceChange
		var pid, at, seq int64
		if err := rows.Scan(&ch.ID, &ch.AudienceID, &pid, &ch.Entered, &at, &seq, &ch.Cause); err != nil {
			return nil, wrap(ctx, op, err)
		}
		ch.ProfileID, ch.At, ch.Seq = uint64(pid), fromMicros(at), uint64(seq)
		out = append(out, ch)
	}
	return out, wrap(ctx, op, rows.Err())
}
