package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	if graph == nil && gs > 0 { // in its own file (graphfile.go)
		if graph, err = db.readGraph(uint64(gs)); err != nil {
			return 0, nil, 0, err
		}
	}
	return uint64(s), graph, uint64(gs), nil
}

// LoadProfiles implements store.ProfileStore. It reads in one snapshot,
// which WAL mode keeps without holding up the writer.
func (db *DB) LoadProfiles(ctx context.Context, fn func(id uint64, data []byte) error) error {
	var fnErr error
	err := db.inReadTx(ctx, "load profiles", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, data FROM profiles WHERE has_data ORDER BY id`)
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
// per commit; profile rows are upserted and sealed rowChunk a statement.
func (db *DB) SaveProfiles(ctx context.Context, c *store.ProfileCommit) error {
	if err := checkProfileCommit(c); err != nil {
		return err
	}
	var graphTmp string
	if c.Graph != nil {
		var err error
		if graphTmp, err = db.writeGraph(c.Graph); err != nil {
			return err
		}
	}
	err := db.inTx(ctx, fmt.Sprintf("save profile checkpoint at %d", c.Seq), func(tx *sql.Tx) error {
		var stored int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM profile_state WHERE id = 1`).Scan(&stored); err != nil {
			return err
		}
		if c.Seq <= uint64(stored) {
			return nil // a replay: this progress is saved already
		}
		if graphTmp != "" {
			if err := db.placeGraph(graphTmp, c.Seq); err != nil {
				return err
			}
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
	if c.Graph != nil {
		// The snapshot replaced, or the new one if the commit did not
		// take it, is wiped.
		err = errors.Join(err, db.removeGraphs(ctx))
	}
	return err
}

// The statements of a profile commit; checkProfileCommit has bounded every
// ID and position to an int64.
var (
	deleteProfile  = `DELETE FROM profiles WHERE id = ?`
	deleteChunks   = `DELETE FROM profile_chunks WHERE profile_id = ?`
	deleteTimeline = `DELETE FROM profile_timeline WHERE profile_id = ?`
	deleteTraits   = `DELETE FROM trait_history WHERE profile_id = ?`
	moveChunks     = `UPDATE profile_chunks SET profile_id = ? WHERE profile_id = ?`
	moveTimeline   = `UPDATE profile_timeline SET profile_id = ? WHERE profile_id = ?`
	moveTraits     = `UPDATE trait_history SET profile_id = ? WHERE profile_id = ?`
	moveDecisions  = `UPDATE identity_decisions SET profile_id = ? WHERE profile_id = ?`
	// A merge appends the absorbed profile's packed history to the
	// survivor's row, made first (with empty data) if the store has none.
	ensureProfile = `INSERT INTO profiles (id, data, has_data) VALUES (?, x'', 0) ON CONFLICT DO NOTHING`
	movePacked    = `UPDATE profiles SET
		timeline = CAST(timeline || coalesce((SELECT timeline FROM profiles WHERE id = ?2), x'') AS BLOB),
		traits = CAST(traits || coalesce((SELECT traits FROM profiles WHERE id = ?2), x'') AS BLOB)
		WHERE id = ?1`
	// Upserting a profile appends its new packed entries; without
	// has_data (a profile with history rows but no state in the batch) it
	// keeps the stored state. The CAST keeps a BLOB: || makes text.
	upsertProfile = `INSERT INTO profiles (id, data, timeline, traits, has_data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
		data = CASE WHEN excluded.has_data THEN excluded.data ELSE profiles.data END,
		has_data = profiles.has_data OR excluded.has_data,
		timeline = CAST(profiles.timeline || excluded.timeline AS BLOB),
		traits = CAST(profiles.traits || excluded.traits AS BLOB)
		RETURNING id, length(timeline) > ` + packedLimit + ` OR length(traits) > ` + packedLimit
	// Packed values past store.PackedLimit move to a chunk of their own,
	// for rowChunk profiles a statement (see sealed).
	sealTimeline = `INSERT INTO profile_chunks (profile_id, kind, data)
		SELECT id, 0, timeline FROM profiles WHERE id IN (` + idList + `) AND length(timeline) > ` + packedLimit
	sealTraits = `INSERT INTO profile_chunks (profile_id, kind, data)
		SELECT id, 1, traits FROM profiles WHERE id IN (` + idList + `) AND length(traits) > ` + packedLimit
	emptySealed = `UPDATE profiles SET
		timeline = CASE WHEN length(timeline) > ` + packedLimit + ` THEN x'' ELSE timeline END,
		traits = CASE WHEN length(traits) > ` + packedLimit + ` THEN x'' ELSE traits END
		WHERE id IN (` + idList + `) AND (length(timeline) > ` + packedLimit + ` OR length(traits) > ` + packedLimit + `)`
	insertDecision = `INSERT INTO identity_decisions (profile_id, seq, kind, data) VALUES (?, ?, ?, ?)`
)

var (
	packedLimit = strconv.Itoa(store.PackedLimit)
	idList      = "?" + strings.Repeat(", ?", rowChunk-1)
)

// profileWriter runs the statements of one profile commit, each prepared on
// its first use.
type profileWriter struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// prepare returns query prepared, once per commit.
func (w *profileWriter) prepare(query string) (*sql.Stmt, error) {
	stmt := w.stmts[query]
	if stmt == nil {
		var err error
		if stmt, err = w.tx.PrepareContext(w.ctx, query); err != nil {
			return nil, err
		}
		w.stmts[query] = stmt
	}
	return stmt, nil
}

// exec runs query with args.
func (w *profileWriter) exec(query string, args ...any) error {
	stmt, err := w.prepare(query)
	if err != nil {
		return err
	}
	_, err = stmt.ExecContext(w.ctx, args...)
	return err
}

// close releases the prepared statements.
func (w *profileWriter) close() {
	for _, stmt := range w.stmts {
		stmt.Close()
	}
}

// state records the new position and, if c has a graph snapshot, the
// position of its file (written before the transaction).
func (w *profileWriter) state(c *store.ProfileCommit) error {
	if c.Graph == nil {
		return w.exec(`UPDATE profile_state SET seq = ? WHERE id = 1`, int64(c.Seq))
	}
	return w.exec(`UPDATE profile_state SET seq = ?, graph = NULL, graph_seq = ? WHERE id = 1`, int64(c.Seq), int64(c.Seq))
}

// batch applies b in the order store.ProfileBatch gives.
func (w *profileWriter) batch(b *store.ProfileBatch) error {
	for _, id := range b.Deleted {
		for _, q := range []string{deleteProfile, deleteChunks, deleteTimeline, deleteTraits} {
			if err := w.exec(q, int64(id)); err != nil {
				return err
			}
		}
	}
	for _, m := range b.Merges {
		if m.Absorbed == m.Survivor {
			continue // nothing moves, and the profile must stay
		}
		if err := w.exec(ensureProfile, int64(m.Survivor)); err != nil {
			return err
		}
		if err := w.exec(movePacked, int64(m.Survivor), int64(m.Absorbed)); err != nil {
			return err
		}
		for _, q := range []string{moveChunks, moveTimeline, moveTraits, moveDecisions} {
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

// rowChunk is how many rows one INSERT takes: every event changes a
// profile, and database/sql's cost per statement run was a fifth of the
// cost of a row.
const rowChunk = 64

// multiRow returns insert, whose VALUES list has one row of n columns,
// with rowChunk rows.
func multiRow(insert string, n int) string {
	row := "(?" + strings.Repeat(", ?", n-1) + ")"
	at := strings.Index(insert, row)
	return insert[:at] + row + strings.Repeat(", "+row, rowChunk-1) + insert[at+len(row):]
}

var upsertProfiles = multiRow(upsertProfile, 5)

// chunked runs multi for each full chunk of n rows and single for the
// rest, with the arguments add appends for row i, and calls each for
// every row they return.
func (w *profileWriter) chunked(single, multi string, n int, add func(args []any, i int) []any, each func(*sql.Rows) error) error {
	args := make([]any, 0, 8*rowChunk)
	run := func(q string) error {
		stmt, err := w.prepare(q)
		if err != nil {
			return err
		}
		rows, err := stmt.QueryContext(w.ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := each(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	i := 0
	for ; i+rowChunk <= n; i += rowChunk {
		args = args[:0]
		for j := i; j < i+rowChunk; j++ {
			args = add(args, j)
		}
		if err := run(multi); err != nil {
			return err
		}
	}
	for ; i < n; i++ {
		args = add(args[:0], i)
		if err := run(single); err != nil {
			return err
		}
	}
	return nil
}

// rows upserts b's profiles with their new timeline and trait entries
// packed, then seals the packed values grown past the limit.
func (w *profileWriter) rows(b *store.ProfileBatch) error {
	ups := store.PackBatch(b)
	// In ID order, the upserts walk the table's B-tree from one end to
	// the other and change each page once: in the order profiles came,
	// with more pages changed than the cache holds, SQLite wrote changed
	// pages to the WAL to make room and read them back for the next row
	// on them.
	slices.SortFunc(ups, func(a, b store.PackedProfile) int { return cmp.Compare(a.ID, b.ID) })
	var full []int64
	err := w.chunked(upsertProfile, upsertProfiles, len(ups), func(args []any, i int) []any {
		u := &ups[i]
		return append(args, int64(u.ID), nonNil(u.Data), nonNil(u.Timeline), nonNil(u.Traits), u.Data != nil)
	}, func(rows *sql.Rows) error {
		var id int64
		var over bool
		if err := rows.Scan(&id, &over); err != nil {
			return err
		}
		if over {
			full = append(full, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return w.seal(full)
}

// seal moves the packed values of profiles ids that passed the limit to
// chunks, rowChunk profiles a statement. A shorter list is padded with its
// last ID: IN takes each once. Each profile gets at most one chunk of each
// kind, so the order of chunks across profiles does not matter.
func (w *profileWriter) seal(ids []int64) error {
	args := make([]any, rowChunk)
	for i := 0; i < len(ids); i += rowChunk {
		part := ids[i:min(i+rowChunk, len(ids))]
		for j := range args {
			args[j] = part[min(j, len(part)-1)]
		}
		for _, q := range []string{sealTimeline, sealTraits, emptySealed} {
			if err := w.exec(q, args...); err != nil {
				return err
			}
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
	var h store.History
	err := db.inReadTx(ctx, op, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT seq, time, type, name, source_id FROM profile_timeline WHERE profile_id = ?`, seqArg(profileID))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := store.TimelineRow{ProfileID: profileID}
			var seq, us int64
			if err := rows.Scan(&seq, &us, &r.Type, &r.Name, &r.SourceID); err != nil {
				return err
			}
			r.Seq, r.Time = uint64(seq), fromMicros(us)
			h.AddTimeline(r)
		}
		if err := rows.Err(); err != nil {
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
func packedOf(ctx context.Context, tx *sql.Tx, profileID uint64, kind int, fn func([]byte) error) error {
	rows, err := tx.QueryContext(ctx, `SELECT data FROM profile_chunks WHERE profile_id = ? AND kind = ? ORDER BY id`, seqArg(profileID), kind)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	col := "timeline"
	if kind == 1 {
		col = "traits"
	}
	var b []byte
	err = tx.QueryRowContext(ctx, `SELECT `+col+` FROM profiles WHERE id = ?`, seqArg(profileID)).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fn(b)
}

// TraitHistory implements store.ProfileStore.
func (db *DB) TraitHistory(ctx context.Context, profileID uint64, groupID, name string, limit int) ([]store.TraitRow, error) {
	groupID, name = store.CleanText(groupID), store.CleanText(name)
	op := fmt.Sprintf("read history of trait %q/%q of profile %d", groupID, name, profileID)
	if limit <= 0 {
		return nil, wrap(ctx, op, ctx.Err())
	}
	var h store.History
	err := db.inReadTx(ctx, op, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT value, time, seq, source_id, message_id
			FROM trait_history WHERE profile_id = ? AND group_id = ? AND name = ?`, seqArg(profileID), groupID, name)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r := store.TraitRow{ProfileID: profileID, GroupID: groupID, Name: name}
			var seq, us int64
			if err := rows.Scan(&r.Value, &us, &seq, &r.SourceID, &r.MessageID); err != nil {
				return err
			}
			r.Seq, r.Time = uint64(seq), fromMicros(us)
			h.AddTraits(groupID, name, r)
		}
		if err := rows.Err(); err != nil {
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
