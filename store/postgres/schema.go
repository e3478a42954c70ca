package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// SchemaPosition implements store.Store.
func (db *DB) SchemaPosition(ctx context.Context) (uint64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT seq FROM schema_state WHERE id = 1`).Scan(&seq)
	return uint64(seq), wrap(ctx, "read schema position", err)
}

// SaveSchema implements store.Store. The state row, locked first, runs
// commits one at a time, so a replayed commit always sees the position of
// the one before it.
func (db *DB) SaveSchema(ctx context.Context, c *store.SchemaCommit) error {
	return db.inTx(ctx, fmt.Sprintf("save schema at %d", c.Seq), pgx.TxOptions{}, func(tx pgx.Tx) error {
		var stored int64
		err := tx.QueryRow(ctx, `SELECT seq FROM schema_state WHERE id = 1 FOR UPDATE`).Scan(&stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return errors.New("the schema state row is missing: the schema is damaged; restore a backup")
		}
		if err != nil || c.Seq <= uint64(stored) {
			return err // nil for a replay: these events are counted already
		}
		fields := mergeFields(c.Fields)
		var src, kind, event, name []string
		var types []int32
		var count []int64
		var first, last []time.Time
		for _, f := range fields {
			src, kind, event, name = append(src, f.SourceID), append(kind, f.Kind), append(event, f.Event), append(name, f.Name)
			types, count = append(types, int32(f.Types)), append(count, f.Count)
			first, last = append(first, f.FirstSeen), append(last, f.LastSeen)
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE schema_state SET seq = $1 WHERE id = 1`, seqArg(c.Seq))
		if len(fields) > 0 {
			b.Queue(`INSERT INTO schema_fields AS f (source_id, kind, event, name, types, count, first_seen, last_seen)
				SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::bigint[],
					$7::timestamptz[], $8::timestamptz[])
				ON CONFLICT (source_id, kind, event, name) DO UPDATE SET
					types = f.types | excluded.types, count = f.count + excluded.count,
					first_seen = least(f.first_seen, excluded.first_seen), last_seen = greatest(f.last_seen, excluded.last_seen)`,
				src, kind, event, name, types, count, first, last)
		}
		return sendBatch(ctx, tx, b)
	})
}

// mergeFields cleans the fields' text and merges those whose keys are then
// equal: one INSERT ... ON CONFLICT may not touch a row twice. The result is
// in key order, so concurrent commits lock rows in the same order.
func mergeFields(in []store.SchemaField) []store.SchemaField {
	m := make(map[store.SchemaKey]*store.SchemaField, len(in))
	for _, f := range in {
		f.SourceID, f.Kind, f.Event, f.Name = store.CleanText(f.SourceID), store.CleanText(f.Kind), store.CleanText(f.Event), store.CleanText(f.Name)
		f.Types &= 1<<31 - 1 // an integer column; package schema uses a few low bits
		if g := m[f.Key()]; g != nil {
			g.Types |= f.Types
			g.Count += f.Count
			g.FirstSeen = minTime(g.FirstSeen, f.FirstSeen)
			g.LastSeen = maxTime(g.LastSeen, f.LastSeen)
			continue
		}
		m[f.Key()] = &f
	}
	keys := slices.SortedFunc(maps.Keys(m), func(a, b store.SchemaKey) int {
		return compareKeys([4]string{a.SourceID, a.Kind, a.Event, a.Name}, [4]string{b.SourceID, b.Kind, b.Event, b.Name})
	})
	out := make([]store.SchemaField, len(keys))
	for i, k := range keys {
		out[i] = *m[k]
	}
	return out
}

// compareKeys orders keys as the "C" collation does: byte by byte.
func compareKeys(a, b [4]string) int {
	for i := range a {
		if n := strings.Compare(a[i], b[i]); n != 0 {
			return n
		}
	}
	return 0
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// SchemaFields implements store.Store.
func (db *DB) SchemaFields(ctx context.Context, q store.SchemaQuery) ([]store.SchemaField, error) {
	fields := []store.SchemaField{}
	if q.Limit <= 0 {
		return fields, wrap(ctx, "list schema fields", ctx.Err())
	}
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	for _, f := range []struct{ col, val string }{{"source_id", q.SourceID}, {"kind", q.Kind}, {"event", q.Event}} {
		if f.val != "" {
			where = append(where, f.col+" = "+arg(store.CleanText(f.val)))
		}
	}
	if !q.SeenSince.IsZero() {
		where = append(where, "last_seen >= "+arg(q.SeenSince))
	}
	if k := q.After; k != nil {
		where = append(where, fmt.Sprintf("(source_id, kind, event, name) > (%s, %s, %s, %s)",
			arg(store.CleanText(k.SourceID)), arg(store.CleanText(k.Kind)), arg(store.CleanText(k.Event)), arg(store.CleanText(k.Name))))
	}
	query := `SELECT source_id, kind, event, name, types, count, first_seen, last_seen FROM schema_fields`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY source_id, kind, event, name LIMIT " + arg(q.Limit)
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(ctx, "list schema fields", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f store.SchemaField
		var types int32
		if err := rows.Scan(&f.SourceID, &f.Kind, &f.Event, &f.Name, &types, &f.Count, &f.FirstSeen, &f.LastSeen); err != nil {
			return nil, wrap(ctx, "list schema fields", err)
		}
		f.Types, f.FirstSeen, f.LastSeen = uint32(types), utc(f.FirstSeen), utc(f.LastSeen)
		fields = append(fields, f)
	}
	return fields, wrap(ctx, "list schema fields", rows.Err())
}

// AddViolations implements store.Store. Rows are merged and written in key
// order, so concurrent calls lock them in the same order.
func (db *DB) AddViolations(ctx context.Context, rows []store.ViolationCount) error {
	if len(rows) == 0 {
		return nil
	}
	type key = [4]string // source, event, property, keyword
	m := map[key]*store.ViolationCount{}
	for _, r := range rows {
		r.SourceID, r.Event, r.Property = store.CleanText(r.SourceID), store.CleanText(r.Event), store.CleanText(r.Property)
		r.Keyword, r.Message = store.CleanText(r.Keyword), store.CleanText(r.Message)
		if r.Example == nil {
			r.Example = []byte{}
		}
		k := key{r.SourceID, r.Event, r.Property, r.Keyword}
		if g := m[k]; g != nil {
			g.Count += r.Count
			g.Message = r.Message
			g.FirstSeen, g.LastSeen = minTime(g.FirstSeen, r.FirstSeen), maxTime(g.LastSeen, r.LastSeen)
			continue
		}
		m[k] = &r
	}
	keys := slices.SortedFunc(maps.Keys(m), compareKeys)
	sources := map[string]bool{}
	var src, event, prop, kw, msg []string
	var count []int64
	var first, last []time.Time
	var example [][]byte
	for _, k := range keys {
		r := m[k]
		sources[r.SourceID] = true
		src, event, prop, kw, msg = append(src, r.SourceID), append(event, r.Event), append(prop, r.Property), append(kw, r.Keyword), append(msg, r.Message)
		count, first, last, example = append(count, r.Count), append(first, r.FirstSeen), append(last, r.LastSeen), append(example, r.Example)
	}
	ids := slices.Sorted(maps.Keys(sources))
	return db.inTx(ctx, fmt.Sprintf("add %d violation counts", len(rows)), pgx.TxOptions{}, func(tx pgx.Tx) error {
		var found []string
		b := &pgx.Batch{}
		b.Queue(`SELECT id FROM sources WHERE id = ANY($1)`, ids).Query(func(rows pgx.Rows) error {
			var err error
			found, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err := sendBatch(ctx, tx, b); err != nil {
			return err
		}
		for _, id := range ids {
			if !slices.Contains(found, id) {
				return mosaic.Errorf(mosaic.ENOTFOUND, "Source %q not found: violations must belong to a source.", id)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO plan_violations AS v
			(source_id, event, property, keyword, message, count, first_seen, last_seen, example)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
				$7::timestamptz[], $8::timestamptz[], $9::bytea[])
			ON CONFLICT (source_id, event, property, keyword) DO UPDATE SET
				message = excluded.message, count = v.count + excluded.count,
				first_seen = least(v.first_seen, excluded.first_seen), last_seen = greatest(v.last_seen, excluded.last_seen)`,
			src, event, prop, kw, msg, count, first, last, example)
		return err
	})
}

// Violations implements store.Store.
func (db *DB) Violations(ctx context.Context, sourceID string) ([]store.ViolationCount, error) {
	rows, err := db.pool.Query(ctx, `SELECT source_id, event, property, keyword, message, count, first_seen, last_seen, example
		FROM plan_violations WHERE source_id = $1 ORDER BY event, property, keyword`, store.CleanText(sourceID))
	if err != nil {
		return nil, wrap(ctx, "list violations", err)
	}
	defer rows.Close()
	out := []store.ViolationCount{}
	for rows.Next() {
		var v store.ViolationCount
		if err := rows.Scan(&v.SourceID, &v.Event, &v.Property, &v.Keyword, &v.Message, &v.Count, &v.FirstSeen, &v.LastSeen, &v.Example); err != nil {
			return nil, wrap(ctx, "list violations", err)
		}
		v.FirstSeen, v.LastSeen = utc(v.FirstSeen), utc(v.LastSeen)
		out = append(out, v)
	}
	return out, wrap(ctx, "list violations", rows.Err())
}
