package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/mosaic-cdp/mosaic/store"
)

const auditColumns = `id, time, actor, action, object, status, data, prev_hash, hash`

// AppendAudit implements store.AuditStore. The write transaction holds
// SQLite's write lock from its start, so appends are serial.
func (db *DB) AppendAudit(ctx context.Context, build func(prev store.AuditRow) ([]store.AuditRow, error)) ([]store.AuditRow, error) {
	var rows []store.AuditRow
	err := db.inTx(ctx, "append to the audit log", func(tx *sql.Tx) error {
		prev, err := scanAudit(tx.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY id DESC LIMIT 1`))
		if errors.Is(err, sql.ErrNoRows) {
			prev, err = store.AuditRow{}, nil
		}
		if err != nil {
			return err
		}
		if rows, err = build(prev); err != nil {
			return err
		}
		// Prepared once for the batch: a group commit of profile lookups
		// holds hundreds of entries, and parsing the statement for each
		// was a third of an entry's cost.
		insert, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insert.Close()
		for i := range rows {
			row := &rows[i]
			row.ID = prev.ID + 1 + int64(i)
			_, err = insert.ExecContext(ctx, row.ID, micros(row.Time), store.CleanText(row.Actor), store.CleanText(row.Action), store.CleanText(row.Object),
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

type rowScanner interface{ Scan(dest ...any) error }

func scanAudit(r rowScanner) (store.AuditRow, error) {
	var a store.AuditRow
	var t int64
	err := r.Scan(&a.ID, &t, &a.Actor, &a.Action, &a.Object, &a.Status, &a.Data, &a.PrevHash, &a.Hash)
	a.Time = fromMicros(t)
	return a, err
}

// AuditLog implements store.AuditStore.
func (db *DB) AuditLog(ctx context.Context, q store.AuditQuery) ([]store.AuditRow, error) {
	if q.Limit <= 0 {
		return []store.AuditRow{}, wrap(ctx, "read the audit log", ctx.Err())
	}
	where, args := []string{"id > ?"}, []any{q.AfterID}
	if !q.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "time < ?"), append(args, micros(q.Until))
	}
	if q.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, store.CleanText(q.Actor))
	}
	if q.Action != "" {
		where, args = append(where, "action = ?"), append(args, store.CleanText(q.Action))
	}
	if q.ObjectPrefix != "" {
		where, args = append(where, "substr(object, 1, length(?)) = ?"), append(args, store.CleanText(q.ObjectPrefix), store.CleanText(q.ObjectPrefix))
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, append(args, q.Limit)...)
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
