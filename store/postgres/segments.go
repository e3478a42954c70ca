package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// PutDefinition implements store.SegmentStore.
func (db *DB) PutDefinition(ctx context.Context, d *store.Definition) error {
	if d.Kind == "" || d.ID == "" || d.Key == "" {
		return mosaic.Errorf(mosaic.EINVALID, "A definition needs a kind, an ID and a key.")
	}
	kind, id, key := store.CleanText(d.Kind), store.CleanText(d.ID), store.CleanText(d.Key)
	return db.inTx(ctx, fmt.Sprintf("save %s %q", kind, id), pgx.TxOptions{}, func(tx pgx.Tx) error {
		// Serialise definition writes, so the key check below stays true
		// until the commit.
		if _, err := tx.Exec(ctx, `LOCK TABLE segment_definitions IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var other string
		err := tx.QueryRow(ctx, `SELECT id FROM segment_definitions WHERE kind = $1 AND key = $2 AND id <> $3`, kind, key, id).Scan(&other)
		if err == nil {
			return mosaic.Errorf(mosaic.ECONFLICT, "Another %s has the key %q: choose another key.", strings.ReplaceAll(kind, "_", " "), key)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO segment_definitions (kind, id, key, data, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (kind, id) DO UPDATE SET key = excluded.key, data = excluded.data, updated_at = excluded.updated_at`,
			kind, id, key, nonNilBytes(d.Data), d.CreatedAt.UnixMicro(), d.UpdatedAt.UnixMicro())
		return err
	})
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// DeleteDefinition implements store.SegmentStore.
func (db *DB) DeleteDefinition(ctx context.Context, kind, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM segment_definitions WHERE kind = $1 AND id = $2`, store.CleanText(kind), store.CleanText(id))
	if err != nil {
		return wrap(ctx, "delete definition", err)
	}
	if tag.RowsAffected() == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "No %s %q.", strings.ReplaceAll(kind, "_", " "), id)
	}
	return nil
}

// Definitions implements store.SegmentStore.
func (db *DB) Definitions(ctx context.Context, kind string) ([]*store.Definition, error) {
	rows, err := db.pool.Query(ctx, `SELECT kind, id, key, data, created_at, updated_at FROM segment_definitions
		WHERE kind = $1 ORDER BY created_at, id`, store.CleanText(kind))
	if err != nil {
		return nil, wrap(ctx, "list definitions", err)
	}
	out := []*store.Definition{}
	var d store.Definition
	var created, updated int64
	_, err = pgx.ForEachRow(rows, []any{&d.Kind, &d.ID, &d.Key, &d.Data, &created, &updated}, func() error {
		c := d
		c.CreatedAt, c.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
		out = append(out, &c)
		return nil
	})
	return out, wrap(ctx, "list definitions", err)
}

// SegmentCheckpoint implements store.SegmentStore.
func (db *DB) SegmentCheckpoint(ctx context.Context) (version, seq uint64, meta []byte, err error) {
	var v, s int64
	err = db.pool.QueryRow(ctx, `SELECT version, seq, meta FROM segment_state WHERE id = 1`).Scan(&v, &s, &meta)
	if err != nil {
		return 0, 0, nil, wrap(ctx, "read segment checkpoint", err)
	}
	return uint64(v), uint64(s), meta, nil
}

// LoadSegmentProfiles implements store.SegmentStore.
func (db *DB) LoadSegmentProfiles(ctx context.Context, fn func(id uint64, data []byte) error) error {
	rows, err := db.pool.Query(ctx, `SELECT id, data FROM segment_profiles WHERE data IS NOT NULL ORDER BY id`)
	if err != nil {
		return wrap(ctx, "load segment profiles", err)
	}
	var id int64
	var data []byte
	var fnErr error
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		fnErr = fn(uint64(id), data)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return wrap(ctx, "load segment profiles", err)
}

// SaveSegments implements store.SegmentStore. The state row, locked first,
// makes saves run one after the other.
func (db *DB) SaveSegments(ctx context.Context, c *store.SegmentCommit) error {
	if err := store.CheckSegmentCommit(c); err != nil {
		return err
	}
	return db.inTx(ctx, fmt.Sprintf("save segment checkpoint version %d", c.Version), pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM segment_state WHERE id = 1 FOR UPDATE`); err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE segment_state SET version = $1, seq = $2, meta = $3 WHERE id = 1 AND version < $1`,
			int64(c.Version), int64(c.Seq), c.Meta)
		for _, p := range c.Profiles {
			b.Queue(`INSERT INTO segment_profiles (id, version, data) VALUES ($1, $2, $3)
				ON CONFLICT (id) DO UPDATE SET version = excluded.version, data = excluded.data
				WHERE excluded.version > segment_profiles.version`, int64(p.ID), int64(p.Version), p.Data)
		}
		for _, ch := range c.Changes {
			b.Queue(`INSERT INTO audience_changes (id, audience_id, profile_id, entered, at, seq, cause)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
				ch.ID, store.CleanText(ch.AudienceID), int64(ch.ProfileID), ch.Entered, ch.At.UnixMicro(), int64(ch.Seq), store.CleanText(ch.Cause))
		}
		return sendBatch(ctx, tx, b)
	})
}

// AudienceChanges implements store.SegmentStore.
func (db *DB) AudienceChanges(ctx context.Context, audienceID string, afterID int64, limit int) ([]store.AudienceChange, error) {
	q := `SELECT id, audience_id, profile_id, entered, at, seq, cause FROM audience_changes WHERE id > $1 AND ($2 = '' OR audience_id = $2) ORDER BY id LIMIT $3`
	rows, err := db.pool.Query(ctx, q, afterID, store.CleanText(audienceID), max(limit, 0))
	if err != nil {
		return nil, wrap(ctx, "read audience changes", err)
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
	return out, wrap(ctx, "read audience changes", err)
}

// AudienceHistory implements store.SegmentStore.
func (db *DB) AudienceHistory(ctx context.Context, audienceID string, bucket time.Duration, since time.Time) ([]store.HistoryBucket, error) {
	b := max(bucket.Microseconds(), 1)
	rows, err := db.pool.Query(ctx, `SELECT at - ((at % $1) + $1) % $1 AS start,
			SUM(CASE WHEN entered THEN 1 ELSE 0 END)::bigint, SUM(CASE WHEN entered THEN 0 ELSE 1 END)::bigint
		FROM audience_changes WHERE audience_id = $2 AND at >= $3 GROUP BY start ORDER BY start`,
		b, store.CleanText(audienceID), since.UnixMicro())
	if err != nil {
		return nil, wrap(ctx, "read audience history", err)
	}
	out := []store.HistoryBucket{}
	var start, entered, exited int64
	_, err = pgx.ForEachRow(rows, []any{&start, &entered, &exited}, func() error {
		out = append(out, store.HistoryBucket{Start: time.UnixMicro(start).UTC(), Entered: entered, Exited: exited})
		return nil
	})
	return out, wrap(ctx, "read audience history", err)
}

// DeleteAudienceChanges implements store.SegmentStore.
func (db *DB) DeleteAudienceChanges(ctx context.Context, audienceID string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM audience_changes WHERE audience_id = $1`, store.CleanText(audienceID))
	return wrap(ctx, "delete audience changes", err)
}

// TimelineSeqs implements store.SegmentStore. Timelines are packed by
// profile, so it reads them all in one snapshot and sorts what matches.
func (db *DB) TimelineSeqs(ctx context.Context, names []string, upto uint64, fn func(profileID, seq uint64) error) error {
	if names != nil && len(names) == 0 {
		return nil
	}
	var m store.TimelineMatcher
	m.Init(names, upto)
	const op = "read timeline positions"
	err := db.inTx(ctx, op, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT profile_id, seq, type, name FROM profile_timeline WHERE seq <= $1`, seqArg(upto))
		if err != nil {
			return err
		}
		var pid, seq int64
		var typ, name string
		_, err = pgx.ForEachRow(rows, []any{&pid, &seq, &typ, &name}, func() error {
			m.Add(store.TimelineRow{ProfileID: uint64(pid), Seq: uint64(seq), Type: typ, Name: name})
			return nil
		})
		if err != nil {
			return err
		}
		for _, q := range []string{`SELECT profile_id, data FROM profile_chunks WHERE kind = 0`, `SELECT id, timeline FROM profiles WHERE length(timeline) > 0`} {
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return err
			}
			var b []byte
			if _, err := pgx.ForEachRow(rows, []any{&pid, &b}, func() error { return m.AddPacked(b, uint64(pid)) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return m.Each(fn)
}
