package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

const sourceColumns = `id, name, write_key, created_at`

// CreateSource implements store.Store.
func (db *DB) CreateSource(ctx context.Context, src *mosaic.Source) error {
	clean := *src
	clean.ID, clean.Name, clean.WriteKey = store.CleanText(src.ID), store.CleanText(src.Name), store.CleanText(src.WriteKey)
	if clean.ID == "" || clean.WriteKey == "" {
		return mosaic.Errorf(mosaic.EINVALID, "A source needs an ID and a write key: generate both before storing it.")
	}
	err := db.inTx(ctx, "create source "+clean.ID, func(tx *sql.Tx) error {
		if err := checkSourceConflict(ctx, tx, &clean); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sources (`+sourceColumns+`) VALUES (?, ?, ?, ?)`,
			clean.ID, clean.Name, clean.WriteKey, micros(clean.CreatedAt))
		if isUnique(err) {
			// checkSourceConflict saw no conflict; keep the answer right anyway.
			return mosaic.Errorf(mosaic.ECONFLICT, "A source with this ID, name or write key exists already: choose another name.")
		}
		return err
	})
	if err != nil {
		return err
	}
	src.ID, src.Name, src.WriteKey = clean.ID, clean.Name, clean.WriteKey
	return nil
}

// checkSourceConflict returns ECONFLICT, saying which field clashes, if src
// would break a uniqueness rule. Under the single writer nothing can change
// between this check and the insert.
func checkSourceConflict(ctx context.Context, tx *sql.Tx, src *mosaic.Source) error {
	var id, name string
	err := tx.QueryRowContext(ctx, `SELECT id, name FROM sources
		WHERE id = ? OR (deleted_at IS NULL AND (name = ? OR write_key = ?)) LIMIT 1`,
		src.ID, src.Name, src.WriteKey).Scan(&id, &name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case id == src.ID:
		return mosaic.Errorf(mosaic.ECONFLICT, "A source with ID %q exists or existed: IDs are never reused, generate a new one.", src.ID)
	case name == src.Name:
		return mosaic.Errorf(mosaic.ECONFLICT, "A source named %q exists already: choose another name, or delete that source first.", src.Name)
	}
	return mosaic.Errorf(mosaic.ECONFLICT, "Another source has this write key: generate a new one.")
}

// Source implements store.Store.
func (db *DB) Source(ctx context.Context, id string) (*mosaic.Source, error) {
	id = store.CleanText(id)
	row := db.read.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = ? AND deleted_at IS NULL`, id)
	src, err := scanSource(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "Source %q not found: it does not exist or was deleted. List the sources to find its ID.", id)
	}
	return src, wrap(ctx, "get source "+id, err)
}

// SourceByWriteKey implements store.Store.
func (db *DB) SourceByWriteKey(ctx context.Context, writeKey string) (*mosaic.Source, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE write_key = ? AND deleted_at IS NULL`,
		store.CleanText(writeKey))
	src, err := scanSource(row)
	if errors.Is(err, sql.ErrNoRows) {
		// The key is a credential: it is not repeated in the message.
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No active source has this write key: check the key, or create a source for a new one.")
	}
	return src, wrap(ctx, "get source by write key", err)
}

// Sources implements store.Store.
func (db *DB) Sources(ctx context.Context) ([]*mosaic.Source, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE deleted_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap(ctx, "list sources", err)
	}
	defer rows.Close()
	list := []*mosaic.Source{} // JSON encodes nil as null, not []
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, wrap(ctx, "list sources", err)
		}
		list = append(list, src)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, "list sources", err)
	}
	return list, nil
}

// DeleteSource implements store.Store. The row stays, marked deleted, so
// its ID is never reused and its quarantine keeps its owner.
func (db *DB) DeleteSource(ctx context.Context, id string) error {
	id = store.CleanText(id)
	res, err := db.write.ExecContext(ctx, `UPDATE sources SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`,
		micros(db.now()), id)
	if err != nil {
		return wrap(ctx, "delete source "+id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(ctx, "delete source "+id, err)
	} else if n == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "Source %q not found: it does not exist or was deleted already.", id)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanSource reads the sourceColumns of one row.
func scanSource(row scanner) (*mosaic.Source, error) {
	var src mosaic.Source
	var created int64
	if err := row.Scan(&src.ID, &src.Name, &src.WriteKey, &created); err != nil {
		return nil, err
	}
	src.CreatedAt = fromMicros(created)
	return &src, nil
}
