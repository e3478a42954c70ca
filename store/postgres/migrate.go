package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
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
	return goose.NewProvider(goose.DialectPostgres, db, fsys)
}

// migrate applies pending migrations and refuses a database whose schema is
// newer than this build knows, which an older binary must not write to.
// Nodes that open one schema at once take turns: the first applies the
// migrations, the others then find nothing left to do.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	// Closing db does not close pool: its connections go back there.
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := newMigrator(db)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	sources := p.ListSources()
	if current, err := upToDate(ctx, pool, sources); err != nil || current {
		return err
	}
	unlock, err := lockSchema(ctx, pool)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if latest := sources[len(sources)-1].Version; current > latest {
		return fmt.Errorf("schema version %d is newer than this build's %d: run a newer Mosaic, or restore a backup", current, latest)
	}
	return nil
}

// upToDate reports whether the schema has exactly the embedded migrations
// applied, in one query, so that a node restarting on a current schema
// neither waits for the lock nor runs goose. Any doubt (no version table
// yet, a version missing, unknown or rolled back) answers false, and the
// locked path decides.
func upToDate(ctx context.Context, pool *pgxpool.Pool, sources []*goose.Source) (bool, error) {
	var applied []int64
	var allApplied *bool // NULL without rows
	err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT version_id ORDER BY version_id), '{}'), bool_and(is_applied)
		FROM goose_db_version WHERE version_id > 0`).Scan(&applied, &allApplied)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == undefinedTable {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if allApplied == nil || !*allApplied || len(applied) != len(sources) {
		return false, nil
	}
	for i, src := range sources {
		if applied[i] != src.Version {
			return false, nil
		}
	}
	return true, nil
}

// lockKey names the migration lock of the connection's database and
// schema, so installations in other schemas do not wait for each other.
const lockKey = `hashtextextended('mosaic migrate ' || current_database() || '.' || current_schema(), 0)`

// lockSchema waits, at most until ctx ends, for the schema's migration lock
// and returns the function that releases it. The lock is a session advisory
// lock on a connection held meanwhile, which PostgreSQL releases by itself
// if the node dies. goose's own session locker does not fit: it leaves the
// creation of its version table unlocked, where concurrent nodes collide
// and retry after a second, and it polls every few seconds under one key
// for the whole database.
func lockSchema(ctx context.Context, pool *pgxpool.Pool) (unlock func(), err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		conn.Release()
		return nil, fmt.Errorf("find the schema: %w", err)
	}
	if schema == nil {
		conn.Release()
		return nil, errors.New("no schema to work in: the search_path names no existing schema; create it, or fix search_path")
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		conn.Release()
		return nil, fmt.Errorf("wait for the migration lock of schema %s: %w", *schema, err)
	}
	return func() {
		// If the unlock fails, closing the session frees the lock instead;
		// the pool then drops the closed connection.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockKey+`)`); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
		conn.Release()
	}, nil
}
