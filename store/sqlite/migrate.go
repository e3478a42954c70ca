package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// migrations holds the schema's versioned SQL files, applied in order. Never
// edit a released file: add the next one.
//
//go:embed migrations/*.sql
var migrations embed.FS

// newMigrator returns a goose provider for db over the embedded migrations.
func newMigrator(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectSQLite3, db, fsys)
}

// migrate applies pending migrations and refuses a database whose schema is
// newer than this build knows, which an older binary must not write to.
func migrate(ctx context.Context, db *sql.DB) error {
	p, err := newMigrator(db)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	// No p.Close: it would close db, which the store keeps using.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	sources := p.ListSources()
	if latest := sources[len(sources)-1].Version; current > latest {
		return fmt.Errorf("schema version %d is newer than this build's %d: run a newer Mosaic, or restore a backup", current, latest)
	}
	return nil
}
