package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// ProfileCheckpoint implements store.ProfileStore.
func (db *DB) ProfileCheckpoint(ctx context.Context) (seq uint64, graph []byte, graphSeq uint64, err error) {
	var s, gs int64
	err = db.read.QueryRowContext(ctx, `SELECT seq, graph, graph_seq FROM profile_state WHERE id = 1`).Scan(&s, &graph, &gs)
	if err != nil {
		return 0, nil, 0, wrap(ctx, "read profile checkpoint", err)
	}
	return uint64(s), graph, uint64(gs), nil
}

// LoadProfiles implements store.ProfileStore. It reads in one snapshot,
// which WAL mode keeps without holding up the writer.
func (db *DB) LoadProfiles(ctx context.Context, fn func(id uint64, data []byte) error) error {
	var fnErr error
	err := db.inReadTx(ctx, "load profiles", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, data FROM profiles ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var data []byte
			if err := rows.Scan(&id, &data); err != nil {
				return err
			}
			if fnErr = fn(uint64(id), data); fnErr != nil {
				return nil
			}
		}
		return rows.Err()
	})
	if fnErr != nil {
		return fnErr // fn's own, unwrapped, as the contract says
	}
	return err
}

// SaveProfiles implements store.ProfileStore. Statements are prepared once
// per commit and run row by row: in SQLite, with no round trips, that is as
// fast as a multi-row INSERT and keeps one row's values apart from another's.
func (db *DB) SaveProfiles(ctx context.Context, c *store.ProfileCommit) error {
	if err := checkProfileCommit(c); err != nil {
		return err
	}
	return db.inTx(ctx, fmt.Sprintf("save profile checkpoint at %d", c.Seq), func(tx *sql.Tx) error {
		var stored int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM profile_state WHERE id = 1`).Scan(&stored); err != nil {
			return err
		}
		if c.Seq <= uint64(stored) {
			return nil // a replay: this progress is saved already
		}
		w := &profileWriter{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
		defer w.close()
		if err := w.state(c); err != nil {
			return err
		}
		for i := range c.Batches {
			if err := w.batch(&c.Batches[i]); err != nil {
				return err
			}
		}
		for _, d := range c.Decisions {
			if err := w.exec(insertDecision, int64(d.ProfileID), int64(d.Seq), store.CleanText(d.Kind), nonNil(d.Data)); err != nil {
				return err
			}
		}
		return nil
	})
}

// The statements of a profile commit; checkProfileCommit has bounded every
// ID and position to an int64.
const (
	deleteProfile  = `DELETE FROM profiles WHERE id = ?`
	deleteTimeline = `DELETE FROM profile_timeline WHERE profile_id = ?`
	deleteTraits   = `DELETE FROM trait_history WHERE profile_id = ?`
	moveTimeline   = `UPDATE profile_timeline SET profile_id = ? WHERE profile_id = ?`
	moveTraits     = `UPDATE trait_history SET profile_id = ? WHERE profile_id = ?`
	moveDecisions  = `UPDATE identity_decisions SET profile_id = ? WHERE profile_id = ?`
	// An event is in a profile's timeline once: a row the store has already
	// is kept, as a trait write already recorded is.
	insertTimeline = `INSERT INTO profile_timeline (profile_id, seq, time, type, name, source_id)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	insertTrait = `INSERT INTO trait_history (profile_id, group_id, name, time, seq, value, source_id, message_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	upsertProfile = `INSERT INTO profiles (id, data) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data`
	insertDecision = `INSERT INTO identity_decisions (profile_id, seq, kind, data) VALUES (?, ?, ?, ?)`
)

// profileWriter runs the statements of one profile commit, each prepared on
// its first use.
type profileWriter struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// exec runs query with args.
func (w *profileWriter) exec(query string, args ...any) error {
	stmt := w.stmts[query]
	if stmt == nil {
		var err error
		if stmt, err = w.tx.PrepareContext(w.ctx, query); err != nil {
			return err
		}
		w.stmts[query] = stmt
	}
	_, err := stmt.ExecContext(w.ctx, args...)
	return err
}

// close releases the prepared statements.
func (w *profileWriter) close() {
	for _, stmt := range w.stmts {
		stmt.Close()
	}
}

// state records the new position and, if c has one, the graph snapshot.
func (w *profileWriter) state(c *store.ProfileCommit) error {
	if c.Graph == nil {
		return w.exec(`UPDATE profile_state SET seq = ? WHERE id = 1`, int64(c.Seq))
	}
	return w.exec(`UPDATE profile_state SET seq = ?, graph = ?, graph_seq = ? WHERE id = 1`,
		int64(c.Seq), c.Graph, int64(c.Seq))
}

// batch applies b in the order store.ProfileBatch gives.
func (w *profileWriter) batch(b *store.ProfileBatch) error {
	for _, id := range b.Deleted {
		for _, q := range []string{deleteProfile, deleteTimeline, deleteTraits} {
			if err := w.exec(q, int64(id)); err != nil {
				return err
			}
		}
	}
	for _, m := range b.Merges {
		if m.Absorbed == m.Survivor {
			continue // nothing moves, and the profile must stay
		}
		for _, q := range []string{moveTimeline, moveTraits, moveDecisions} {
			if err := w.exec(q, int64(m.Survivor), int64(m.Absorbed)); err != nil {
				return err
			}
		}
		if err := w.exec(deleteProfile, int64(m.Absorbed)); err != nil {
			return err
		}
	}
	return w.rows(b)
}

// rows inserts b's timeline and trait rows and upserts its profiles.
func (w *profileWriter) rows(b *store.ProfileBatch) error {
	for _, r := range b.Timeline {
		err := w.exec(insertTimeline, int64(r.ProfileID), int64(r.Seq), micros(r.Time),
			store.CleanText(r.Type), store.CleanText(r.Name), store.CleanText(r.SourceID))
		if err != nil {
			return err
		}
	}
	for _, r := range b.Traits {
		err := w.exec(insertTrait, int64(r.ProfileID), store.CleanText(r.GroupID), store.CleanText(r.Name),
			micros(r.Time), int64(r.Seq), nonNil(r.Value), store.CleanText(r.SourceID), store.CleanText(r.MessageID))
		if err != nil {
			return err
		}
	}
	for _, p := range b.Profiles {
		if err := w.exec(upsertProfile, int64(p.ID), nonNil(p.Data)); err != nil {
			return err
		}
	}
	return nil
}

// nonNil returns b, or an empty slice for nil: the driver stores a nil
// slice as NULL, which the NOT NULL columns refuse.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// checkProfileCommit returns EINVALID unless every position and profile ID
// in c fits the contract's int64.
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

// fits records an error unless n fits an int64.
func (k *idCheck) fits(what string, n uint64) {
	if k.err == nil && n != uint64(seqArg(n)) {
		k.err = mosaic.Errorf(mosaic.EINVALID,
			"Profile commit at %d: %s %d is past the largest the store keeps (2^63-1): the profile stage has a bug.", k.seq, what, n)
	}
}

// Timeline implements store.ProfileStore.
func (db *DB) Timeline(ctx context.Context, profileID uint64, before time.Time, beforeSeq uint64, limit int) ([]store.TimelineRow, error) {
	op := fmt.Sprintf("read timeline of profile %d", profileID)
	if limit <= 0 {
		return nil, wrap(ctx, op, ctx.Err())
	}
	query := `SELECT profile_id, seq, time, type, name, source_id FROM profile_timeline WHERE profile_id = ?`
	args := []any{seqArg(profileID)}
	if !before.IsZero() {
		query += ` AND (time, seq) < (?, ?)`
		args = append(args, micros(before), seqArg(beforeSeq))
	}
	rows, err := db.read.QueryContext(ctx, query+` ORDER BY time DESC, seq DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	var list []store.TimelineRow
	for rows.Next() {
		var r store.TimelineRow
		var pid, seq, us int64
		if err := rows.Scan(&pid, &seq, &us, &r.Type, &r.Name, &r.SourceID); err != nil {
			return nil, wrap(ctx, op, err)
		}
		r.ProfileID, r.Seq, r.Time = uint64(pid), uint64(seq), fromMicros(us)
		list = append(list, r)
	}
	return list, wrap(ctx, op, rows.Err())
}

// TraitHistory implements store.ProfileStore.
func (db *DB) TraitHistory(ctx context.Context, profileID uint64, groupID, name string, limit int) ([]store.TraitRow, error) {
	groupID, name = store.CleanText(groupID), store.CleanText(name)
	op := fmt.Sprintf("read history of trait %q/%q of profile %d", groupID, name, profileID)
	if limit <= 0 {
		return nil, wrap(ctx, op, ctx.Err())
	}
	rows, err := db.read.QueryContext(ctx, `SELECT profile_id, group_id, name, value, time, seq, source_id, message_id
		FROM trait_history WHERE profile_id = ? AND group_id = ? AND name = ?
		ORDER BY time DESC, seq DESC LIMIT ?`, seqArg(profileID), groupID, name, limit)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	var list []store.TraitRow
	for rows.Next() {
		var r store.TraitRow
		var pid, seq, us int64
		if err := rows.Scan(&pid, &r.GroupID, &r.Name, &r.Value, &us, &seq, &r.SourceID, &r.MessageID); err != nil {
			return nil, wrap(ctx, op, err)
		}
		r.ProfileID, r.Seq, r.Time = uint64(pid), uint64(seq), fromMicros(us)
		list = append(list, r)
	}
	return list, wrap(ctx, op, rows.Err())
}

// Decisions implements store.ProfileStore.
func (db *DB) Decisions(ctx context.Context, profileID uint64) ([]store.DecisionRow, error) {
	op := fmt.Sprintf("read identity decisions of profile %d", profileID)
	rows, err := db.read.QueryContext(ctx, `SELECT profile_id, seq, kind, data FROM identity_decisions
		WHERE profile_id = ? ORDER BY seq, id`, seqArg(profileID))
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	var list []store.DecisionRow
	for rows.Next() {
		var r store.DecisionRow
		var pid, seq int64
		if err := rows.Scan(&pid, &seq, &r.Kind, &r.Data); err != nil {
			return nil, wrap(ctx, op, err)
		}
		r.ProfileID, r.Seq = uint64(pid), uint64(seq)
		list = append(list, r)
	}
	return list, wrap(ctx, op, rows.Err())
}
