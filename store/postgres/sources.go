package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

const sourceColumns = `id, name, write_key, created_at`

// CreateSource implements store.Store. One INSERT: the unique indexes judge
// conflicts, so two nodes creating the same name at once cannot both win.
func (db *DB) CreateSource(ctx context.Context, src *mosaic.Source) error {
	clean := *src
	clean.ID, clean.Name, clean.WriteKey = store.CleanText(src.ID), store.CleanText(src.Name), store.CleanText(src.WriteKey)
	if clean.ID == "" || clean.WriteKey == "" {
		return mosaic.Errorf(mosaic.EINVALID, "A source needs an ID and a write key: generate both before storing it.")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO sources (`+sourceColumns+`) VALUES ($1, $2, $3, $4)`,
		clean.ID, clean.Name, clean.WriteKey, clean.CreatedAt)
	if err != nil {
		return wrap(ctx, "create source "+clean.ID, sourceConflict(err, &clean))
	}
	src.ID, src.Name, src.WriteKey = clean.ID, clean.Name, clean.WriteKey
	return nil
}

// sourceConflict returns ECONFLICT, saying which field clashes, if err is a
// violation of one of the sources table's unique indexes; otherwise err.
func sourceConflict(err error, src *mosaic.Source) error {
	switch violatedUnique(err) {
	case "":
		return err
	case "sources_pkey":
		return mosaic.Errorf(mosaic.ECONFLICT, "A source with ID %q exists or existed: IDs are never reused, generate a new one.", src.ID)
	case "sources_active_name":
		return mosaic.Errorf(mosaic.ECONFLICT, "A source named %q exists already: choose another name, or delete that source first.", src.Name)
	case "sources_active_write_key":
		return mosaic.Errorf(mosaic.ECONFLICT, "Another source has this write key: generate a new one.")
	}
	return mosaic.Errorf(mosaic.ECONFLICT, "A source with this ID, name or write key exists already: choose another name.")
}

// Source implements store.Store.
func (db *DB) Source(ctx context.Context, id string) (*mosaic.Source, error) {
	id = store.CleanText(id)
	row := db.pool.QueryRow(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = $1 AND deleted_at IS NULL`, id)
	src, err := scanSource(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "Source %q not found: it does not exist or was deleted. List the sources to find its ID.", id)
	}
	return src, wrap(ctx, "get source "+id, err)
}

// SourceByWriteKey implements store.Store.
func (db *DB) SourceByWriteKey(ctx context.Context, writeKey string) (*mosaic.Source, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+sourceColumns+` FROM sources WHERE write_key = $1 AND deleted_at IS NULL`,
		store.CleanText(writeKey))
	src, err := scanSource(row)
	if errors.Is(err, pgx.ErrNoRows) {
		// The key is a credential: it is not repeated in the message.
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No active source has this write key: check the key, or create a source for a new one.")
	}
	return src, wrap(ctx, "get source by write key", err)
}

// Sources implements store.Store.
func (db *DB) Sources(ctx context.Context) ([]*mosaic.Source, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+sourceColumns+` FROM sources
		WHERE deleted_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, wrap(ctx, "list sources", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*mosaic.Source, error) { return scanSource(row) })
	if err != nil {
		return nil, wrap(ctx, "list sources", err)
	}
	if list == nil {
		list = []*mosaic.Source{} // JSON encodes nil as null, not []
	}
	return list, nil
}

// DeleteSource implements store.Store. The row stays, marked deleted, so
// its ID is never reused and its quarantine keeps its owner.
func (db *DB) DeleteSource(ctx context.Context, id string) error {
	id = store.CleanText(id)
	tag, err := db.pool.Exec(ctx, `UPDATE sources SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL`, db.now(), id)
	if err != nil {
		return wrap(ctx, "delete source "+id, err)
	}
	if tag.RowsAffected() == 0 {
		return mosaic.Errorf(mosaic.ENOTFOUND, "Source %q not found: it does not exist or was deleted already.", id)
	}
	return nil
}

// scanSource reads the sourceColumns of one row.
func scanSource(row pgx.Row) (*mosaic.Source, error) {
	var src mosaic.Source
	if err := row.Scan(&src.ID, &src.Name, &src.WriteKey, &src.CreatedAt); err != nil {
		return nil, err
	}
	src.CreatedAt = utc(src.CreatedAt)
	return &src, nil
}
