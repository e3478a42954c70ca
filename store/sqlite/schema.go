package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/mosaic-cdp/mosaic/store"
)

// SchemaPosition implements store.Store.
func (db *DB) SchemaPosition(ctx context.Context) (uint64, error) {
	var seq int64
	err := db.read.QueryRowContext(ctx, `SELECT seq FROM schema_state WHERE id = 1`).Scan(&seq)
	return uint64(seq), wrap(ctx, "read schema position", err)
}

// SaveSchema implements store.Store.
func (db *DB) SaveSchema(ctx context.Context, c *store.SchemaCommit) error {
	return db.inTx(ctx, fmt.Sprintf("save schema at %d", c.Seq), func(tx *sql.Tx) error {
		var stored int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM schema_state WHERE id = 1`).Scan(&stored); err != nil {
			return err
		}
		if c.Seq <= uint64(stored) {
			return nil // a replay: these events are counted already
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schema_state SET seq = ? WHERE id = 1`, seqArg(c.Seq)); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO schema_fields
			(source_id, kind, event, name, types, count, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source_id, kind, event, name) DO UPDATE SET
				types = types | excluded.types, count = count + excluded.count,
				first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, f := range c.Fields {
			_, err := stmt.ExecContext(ctx, store.CleanText(f.SourceID), store.CleanText(f.Kind), store.CleanText(f.Event),
				store.CleanText(f.Name), int64(f.Types), f.Count, micros(f.FirstSeen), micros(f.LastSeen))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// SchemaFields implements store.Store.
func (db *DB) SchemaFields(ctx context.Context, q store.SchemaQuery) ([]store.SchemaField, error) {
	fields := []store.SchemaField{}
	if q.Limit <= 0 {
		return fields, wrap(ctx, "list schema fields", ctx.Err())
	}
	var where []string
	var args []any
	for _, f := range []struct{ col, val string }{{"source_id", q.SourceID}, {"kind", q.Kind}, {"event", q.Event}} {
		if f.val != "" {
			where = append(where, f.col+" = ?")
			args = append(args, store.CleanText(f.val))
		}
	}
	if !q.SeenSince.IsZero() {
		where = append(where, "last_seen >= ?")
		args = append(args, micros(q.SeenSince))
	}
	if k := q.After; k != nil {
		where = append(where, "(source_id, kind, event, name) > (?, ?, ?, ?)")
		args = append(args, store.CleanText(k.SourceID), store.CleanText(k.Kind), store.CleanText(k.Event), store.CleanText(k.Name))
	}
	query := `SELECT source_id, kind, event, name, types, count, first_seen, last_seen FROM schema_fields`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY source_id, kind, event, name LIMIT ?"
	rows, err := db.read.QueryContext(ctx, query, append(args, q.Limit)...)
	if err != nil {
		return nil, wrap(ctx, "list schema fields", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f store.SchemaField
		var types, first, last int64
		if err := rows.Scan(&f.SourceID, &f.Kind, &f.Event, &f.Name, &types, &f.Count, &first, &last); err != nil {
			return nil, wrap(ctx, "list schema fields", err)
		}
		f.Types, f.FirstSeen, f.LastSeen = uint32(types), fromMicros(first), fromMicros(last)
		fields = append(fields, f)
	}
	return fields, wrap(ctx, "list schema fields", rows.Err())
}

// AddViolations implements store.Store.
func (db *DB) AddViolations(ctx context.Context, rows []store.ViolationCount) error {
	if len(rows) == 0 {
		return nil
	}
	perSource := map[string]int64{}
	for _, r := range rows {
		perSource[store.CleanText(r.SourceID)]++
	}
	return db.inTx(ctx, fmt.Sprintf("add %d violation counts", len(rows)), func(tx *sql.Tx) error {
		if err := checkSourcesExist(ctx, tx, perSource); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO plan_violations
			(source_id, event, property, keyword, message, count, first_seen, last_seen, example)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source_id, event, property, keyword) DO UPDATE SET
				message = excluded.message, count = count + excluded.count,
				first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range rows {
			ex := r.Example
			if ex == nil {
				ex = []byte{}
			}
			_, err := stmt.ExecContext(ctx, store.CleanText(r.SourceID), store.CleanText(r.Event), store.CleanText(r.Property),
				store.CleanText(r.Keyword), store.CleanText(r.Message), r.Count, micros(r.FirstSeen), micros(r.LastSeen), ex)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Violations implements store.Store.
func (db *DB) Violations(ctx context.Context, sourceID string) ([]store.ViolationCount, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT source_id, event, property, keyword, message, count, first_seen, last_seen, example
		FROM plan_violations WHERE source_id = ? ORDER BY event, property, keyword`, store.CleanText(sourceID))
	if err != nil {
		return nil, wrap(ctx, "list violations", err)
	}
	defer rows.Close()
	out := []store.ViolationCount{}
	for rows.Next() {
		var v store.ViolationCount
		var first, last int64
		if err := rows.Scan(&v.SourceID, &v.Event, &v.Property, &v.Keyword, &v.Message, &v.Count, &first, &last, &v.Example); err != nil {
			return nil, wrap(ctx, "list violations", err)
		}
		v.FirstSeen, v.LastSeen = fromMicros(first), fromMicros(last)
		out = append(out, v)
	}
	return out, wrap(ctx, "list violations", rows.Err())
}
