package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mosaic-cdp/mosaic/store"
)

const auditColumns = `id, time, actor, action, object, status, data, prev_hash, hash`

// AppendAudit implements store.AuditStore. Locking the head row makes
// appends serial across connections and nodes.
func (db *DB) AppendAudit(ctx context.Context, build func(prev store.AuditRow) ([]store.AuditRow, error)) ([]store.AuditRow, error) {
	var rows []store.AuditRow
	err := db.inTx(ctx, "append to the audit log", pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT id FROM audit_head WHERE id = 1 FOR UPDATE`); err != nil {
			return err
		}
		prev, err := scanAudit(tx.QueryRow(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY id DESC LIMIT 1`))
		if errors.Is(err, pgx.ErrNoRows) {
			prev, err = store.AuditRow{}, nil
		}
		if err != nil {
			return err
		}
		if rows, err = build(prev); err != nil {
			return err
		}
		for i := range rows {
			row := &rows[i]
			row.ID = prev.ID + 1 + int64(i)
			_, err = tx.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				row.ID, row.Time, store.CleanText(row.Actor), store.CleanText(row.Action), store.CleanText(row.Object),
				row.Status, nonNil(row.Data), nonNil(row.PrevHash), nonNil(row.Hash))
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func scanAudit(r pgx.Row) (store.AuditRow, error) {
	var a store.AuditRow
	err := r.Scan(&a.ID, &a.Time, &a.Actor, &a.Action, &a.Object, &a.Status, &a.Data, &a.PrevHash, &a.Hash)
	a.Time = utc(a.Time)
	return a, err
}

// AuditLog implements store.AuditStore.
func (db *DB) AuditLog(ctx context.Context, q store.AuditQuery) ([]store.AuditRow, error) {
	if q.Limit <= 0 {
		return []store.AuditRow{}, wrap(ctx, "read the audit log", ctx.Err())
	}
	where, args := []string{"id > $1"}, []any{q.AfterID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if !q.Since.IsZero() {
		add("time >= $%d", q.Since)
	}
	if !q.Until.IsZero() {
		add("time < $%d", q.Until)
	}
	if q.Actor != "" {
		add("actor = $%d", store.CleanText(q.Actor))
	}
	if q.Action != "" {
		add("action = $%d", store.CleanText(q.Action))
	}
	if q.ObjectPrefix != "" {
		add("starts_with(object, $%d)", store.CleanText(q.ObjectPrefix))
	}
	args = append(args, q.Limit)
	rows, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT `+auditColumns+` FROM audit_log WHERE %s ORDER BY id LIMIT $%d`, strings.Join(where, " AND "), len(args)), args...)
	if err != nil {
		return nil, wrap(ctx, "read the audit log", err)
	}
	defer rows.Close()
	out := []store.AuditRow{}
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			return nil, wrap(ctx, "read the audit log", err)
		}
		out = append(out, a)
	}
	return out, wrap(ctx, "read the audit log", rows.Err())
}
