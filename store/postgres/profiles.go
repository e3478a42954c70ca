package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// ProfileCheckpoint implements store.ProfileStore.
func (db *DB) ProfileCheckpoint(ctx context.Context) (seq uint64, graph []byte, graphSeq uint64, err error) {
	var s, gs int64
	err = db.pool.QueryRow(ctx, `SELECT seq, graph, graph_seq FROM profile_state WHERE id = 1`).Scan(&s, &graph, &gs)
	if errors.Is(err, pgx.ErrNoRows) {
		err = errors.New("the profile state row is missing: the schema is damaged; restore a backup")
	}
	if err != nil {
		return 0, nil, 0, wrap(ctx, "read profile checkpoint", err)
	}
	return uint64(s), graph, uint64(gs), nil
}

// LoadProfiles implements store.ProfileStore. One query streams the rows,
// so it reads one snapshot.
func (db *DB) LoadProfiles(ctx context.Context, fn func(id uint64, data []byte) error) error {
	rows, err := db.pool.Query(ctx, `SELECT id, data FROM profiles WHERE has_data ORDER BY id`)
	if err != nil {
		return wrap(ctx, "load profiles", err)
	}
	var id int64
	var data []byte
	var fnErr error
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		fnErr = fn(uint64(id), data)
		return fnErr
	})
	if fnErr != nil {
		return fnErr // fn's own, unwrapped, as the contract says
	}
	return wrap(ctx, "load profiles", err)
}

// SaveProfiles implements store.ProfileStore. The profile state row, locked
// first, makes concurrent saves run one after the other; the writes then go
// in one round trip, each batch's rows in a few multi-row statements.
func (db *DB) SaveProfiles(ctx context.Context, c *store.ProfileCommit) error {
	if err := checkProfileCommit(c); err != nil {
		return err
	}
	return db.inTx(ctx, fmt.Sprintf("save profile checkpoint at %d", c.Seq), pgx.TxOptions{}, func(tx pgx.Tx) error {
		if err := db.checkFence(ctx, tx); err != nil {
			return err
		}
		var stored int64
		err := tx.QueryRow(ctx, `SELECT seq FROM profile_state WHERE id = 1 FOR UPDATE`).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return errors.New("the profile state row is missing: the schema is damaged; restore a backup")
		}
		if err != nil {
			return err
		}
		if c.Seq <= uint64(stored) {
			return nil // a replay: this progress is saved already
		}
		return sendBatch(ctx, tx, profileBatch(c))
	})
}

// profileBatch returns the writes of a commit that checkProfileCommit
// accepted, in the order the contract applies them.
func profileBatch(c *store.ProfileCommit) *pgx.Batch {
	b := &pgx.Batch{}
	if c.Graph == nil {
		b.Queue(`UPDATE profile_state SET seq = $1 WHERE id = 1`, int64(c.Seq))
	} else {
		b.Queue(`UPDATE profile_state SET seq = $1, graph = $2, graph_seq = $1 WHERE id = 1`, int64(c.Seq), c.Graph)
	}
	for i := range c.Batches {
		queueDeletes(b, c.Batches[i].Deleted)
		queueMerges(b, c.Batches[i].Merges)
		queueProfiles(b, store.PackBatch(&c.Batches[i]))
	}
	queueDecisions(b, c.Decisions)
	return b
}

// queueDeletes deletes profiles with their timeline and trait rows.
func queueDeletes(b *pgx.Batch, ids []uint64) {
	if len(ids) == 0 {
		return
	}
	arg := int64s(ids)
	b.Queue(`DELETE FROM profiles WHERE id = ANY($1)`, arg)
	b.Queue(`DELETE FROM profile_chunks WHERE profile_id = ANY($1)`, arg)
	b.Queue(`DELETE FROM profile_timeline WHERE profile_id = ANY($1)`, arg)
	b.Queue(`DELETE FROM trait_history WHERE profile_id = ANY($1)`, arg)
}

// queueMerges moves each absorbed profile's rows to its survivor and
// deletes it, merge after merge.
func queueMerges(b *pgx.Batch, merges []store.ProfileMerge) {
	for _, m := range merges {
		if m.Absorbed == m.Survivor {
			continue // nothing moves, and the profile must stay
		}
		from, to := int64(m.Absorbed), int64(m.Survivor)
		// Deleted and inserted, not updated: Citus cannot change a row's
		// distribution column, and the survivor's rows may live on another
		// shard (docs/scaling.md).
		// The survivor's row takes the absorbed one's packed history; it
		// is made (without state) if the store has none yet.
		b.Queue(`INSERT INTO profiles (id, data, has_data) VALUES ($1, '', false) ON CONFLICT DO NOTHING`, to)
		b.Queue(`UPDATE profiles SET timeline = profiles.timeline || a.timeline, traits = profiles.traits || a.traits
			FROM profiles a WHERE profiles.id = $1 AND a.id = $2`, to, from)
		b.Queue(moveProfileRows("profile_chunks", "kind, data"), to, from)
		b.Queue(moveProfileRows("profile_timeline", "seq, time, type, name, source_id"), to, from)
		b.Queue(moveProfileRows("trait_history", "group_id, name, time, seq, value, source_id, message_id"), to, from)
		b.Queue(moveProfileRows("identity_decisions", "id, seq, kind, data"), to, from)
		b.Queue(`DELETE FROM profiles WHERE id = $1`, from)
	}
}

// moveProfileRows returns the statement moving the rows of table from
// profile $2 to profile $1; columns are the table's columns besides
// profile_id.
func moveProfileRows(table, columns string) string {
	return fmt.Sprintf(`WITH moved AS (DELETE FROM %[1]s WHERE profile_id = $2 RETURNING %[2]s)
		INSERT INTO %[1]s (profile_id, %[2]s) SELECT $1::bigint, %[2]s FROM moved`, table, columns)
}

// queueProfiles upserts profiles with their new packed timeline and
// trait entries appended, then moves packed values grown past
// store.PackedLimit into chunks of their own. PackBatch lists each
// profile once, as one INSERT must touch a row once.
func queueProfiles(b *pgx.Batch, ups []store.PackedProfile) {
	if len(ups) == 0 {
		return
	}
	n := len(ups)
	ids, has := make([]int64, n), make([]bool, n)
	data, timelines, traits := make([][]byte, n), make([][]byte, n), make([][]byte, n)
	for i, u := range ups {
		ids[i], has[i] = int64(u.ID), u.Data != nil
		data[i], timelines[i], traits[i] = nonNil(u.Data), nonNil(u.Timeline), nonNil(u.Traits)
	}
	b.Queue(`INSERT INTO profiles (id, data, timeline, traits, has_data)
		SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[], $5::boolean[])
		ON CONFLICT (id) DO UPDATE SET
		data = CASE WHEN excluded.has_data THEN excluded.data ELSE profiles.data END,
		has_data = profiles.has_data OR excluded.has_data,
		timeline = profiles.timeline || excluded.timeline,
		traits = profiles.traits || excluded.traits`, ids, data, timelines, traits, has)
	b.Queue(`WITH full_rows AS (
			SELECT id, timeline, traits FROM profiles
			WHERE id = ANY($1) AND (length(timeline) > $2 OR length(traits) > $2) FOR UPDATE),
		chunks AS (
			INSERT INTO profile_chunks (profile_id, kind, data)
			SELECT id, 0, timeline FROM full_rows WHERE length(timeline) > $2
			UNION ALL SELECT id, 1, traits FROM full_rows WHERE length(traits) > $2)
		UPDATE profiles SET
			timeline = CASE WHEN length(f.timeline) > $2 THEN ''::bytea ELSE profiles.timeline END,
			traits = CASE WHEN length(f.traits) > $2 THEN ''::bytea ELSE profiles.traits END
		FROM full_rows f WHERE profiles.id = f.id`, ids, store.PackedLimit)
}

// queueDecisions inserts decisions; their ids follow their order in rows.
func queueDecisions(b *pgx.Batch, rows []store.DecisionRow) {
	if len(rows) == 0 {
		return
	}
	pids, seqs, kinds, data := make([]int64, len(rows)), make([]int64, len(rows)), make([]string, len(rows)), make([][]byte, len(rows))
	for i, r := range rows {
		pids[i], seqs[i], kinds[i], data[i] = int64(r.ProfileID), int64(r.Seq), store.CleanText(r.Kind), nonNil(r.Data)
	}
	b.Queue(`INSERT INTO identity_decisions (profile_id, seq, kind, data)
		SELECT p, s, k, d FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bytea[]) WITH ORDINALITY AS u (p, s, k, d, o)
		ORDER BY o`, pids, seqs, kinds, data)
}

// int64s returns IDs that checkProfileCommit bounded as bigints.
func int64s(ids []uint64) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// nonNil returns b, or an empty slice for nil: pgx sends a nil slice as
// NULL, which the NOT NULL columns refuse.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// checkProfileCommit returns EINVALID unless every position and profile ID
// in c fits the contract's bigint.
func checkProfileCommit(c *store.ProfileCommit) error {
	k := idCheck{seq: c.Seq}
	k.fits("position", c.Seq)
	for _, d := range c.Decisions {
		k.fits("decision profile", d.ProfileID)
		k.fits("decision position", d.Seq)
	}
	for _, b := range c.Batches {
		for _, id := range b.Deleted {
			k.fits("deleted profile", id)
		}
		for _, m := range b.Merges {
			k.fits("absorbed profile", m.Absorbed)
			k.fits("surviving profile", m.Survivor)
		}
		for _, r := range b.Timeline {
			k.fits("timeline profile", r.ProfileID)
			k.fits("timeline position", r.Seq)
		}
		for _, r := range b.Traits {
			k.fits("trait profile", r.ProfileID)
			k.fits("trait position", r.Seq)
		}
		for _, p := range b.Profiles {
			k.fits("profile", p.ID)
		}
	}
	return k.err
}

// idCheck keeps the first number of a commit found past the contract's.
type idCheck struct {
	seq uint64 // the commit's position, named in the message
	err error
}

// fits records an error unless n fits a bigint.
func (k *idCheck) fits(what string, n uint64) {
	if k.err == nil && n != uint64(seqArg(n)) {
		k.err = mosaic.Errorf(mosaic.EINVALID,
			"Profile commit at %d: %s %d is past the largest the store keeps (2^63-1): the profile stage has a bug.", k.seq, what, n)
	}
}
