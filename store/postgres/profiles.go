package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	rows, err := db.pool.Query(ctx, `SELECT id, data FROM profiles ORDER BY id`)
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
		queueTimeline(b, c.Batches[i].Timeline)
		queueTraits(b, c.Batches[i].Traits)
		queueProfiles(b, c.Batches[i].Profiles)
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
		b.Queue(`UPDATE profile_timeline SET profile_id = $1 WHERE profile_id = $2`, to, from)
		b.Queue(`UPDATE trait_history SET profile_id = $1 WHERE profile_id = $2`, to, from)
		b.Queue(`UPDATE identity_decisions SET profile_id = $1 WHERE profile_id = $2`, to, from)
		b.Queue(`DELETE FROM profiles WHERE id = $1`, from)
	}
}

// queueTimeline inserts timeline rows. An event is in a profile's timeline
// once: a row the store has already is kept.
func queueTimeline(b *pgx.Batch, rows []store.TimelineRow) {
	if len(rows) == 0 {
		return
	}
	pids, seqs, times := make([]int64, len(rows)), make([]int64, len(rows)), make([]time.Time, len(rows))
	types, names, sources := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		pids[i], seqs[i], times[i] = int64(r.ProfileID), int64(r.Seq), r.Time
		types[i], names[i], sources[i] = store.CleanText(r.Type), store.CleanText(r.Name), store.CleanText(r.SourceID)
	}
	b.Queue(`INSERT INTO profile_timeline (profile_id, seq, time, type, name, source_id)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[])
		ON CONFLICT DO NOTHING`, pids, seqs, times, types, names, sources)
}

// queueTraits inserts trait writes; one the store has already is kept.
func queueTraits(b *pgx.Batch, rows []store.TraitRow) {
	if len(rows) == 0 {
		return
	}
	n := len(rows)
	pids, seqs, times, values := make([]int64, n), make([]int64, n), make([]time.Time, n), make([][]byte, n)
	groups, names, sources, messages := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range rows {
		pids[i], seqs[i], times[i], values[i] = int64(r.ProfileID), int64(r.Seq), r.Time, nonNil(r.Value)
		groups[i], names[i] = store.CleanText(r.GroupID), store.CleanText(r.Name)
		sources[i], messages[i] = store.CleanText(r.SourceID), store.CleanText(r.MessageID)
	}
	b.Queue(`INSERT INTO trait_history (profile_id, group_id, name, time, seq, value, source_id, message_id)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::bytea[], $7::text[], $8::text[])
		ON CONFLICT DO NOTHING`, pids, groups, names, times, seqs, values, sources, messages)
}

// queueProfiles upserts profiles. A profile listed twice keeps its last
// state, as upserting one row after another would: one INSERT must not
// touch a row twice.
func queueProfiles(b *pgx.Batch, rows []store.ProfileRow) {
	if len(rows) == 0 {
		return
	}
	last := make(map[uint64]int, len(rows))
	for i, p := range rows {
		last[p.ID] = i
	}
	ids, data := make([]int64, 0, len(last)), make([][]byte, 0, len(last))
	for i, p := range rows {
		if last[p.ID] == i {
			ids, data = append(ids, int64(p.ID)), append(data, nonNil(p.Data))
		}
	}
	b.Queue(`INSERT INTO profiles (id, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])
		ON CONFLICT (id) DO UPDATE SET data = excluded.data`, ids, data)
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
