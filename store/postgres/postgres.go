// Package postgres is the scale-out store: store.Store on PostgreSQL, which
// several Mosaic nodes can share. It is the only package that imports the
// PostgreSQL driver (pgx).
//
// The store works in the schema the connection's search_path names first
// (the "search_path" URL parameter), so several installations can share one
// database in separate schemas. Open migrates that schema; nodes opening it
// at the same time take turns under an advisory lock.
//
// Transactions run at READ COMMITTED. Where the contract needs more, a row
// lock serialises the writers that must not interleave: the dedupe state row
// for SaveDedupe, a source's counter row for quarantining.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mosaic-cdp/mosaic/store"
)

// minConns is the fewest connections the store works with: migrating holds
// one for the migration lock and runs the migrations on another.
const minConns = 2

// Options tunes a store. The zero value of a field means its default.
type Options struct {
	// MaxConns is the most connections the store opens. Default: the URL's
	// pool_max_conns, else pgx's default (4, or the number of CPUs if
	// more). At least 2. Raise it for a node serving many API requests at once; keep
	// the sum over all nodes below the server's max_connections.
	MaxConns int32
	// Now returns the current time; it stamps source deletions. Default
	// time.Now; tests pass a fixed clock.
	Now func() time.Time
}

// DefaultOptions returns the options Open uses for zero fields.
func DefaultOptions() Options {
	return Options{Now: time.Now}
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = DefaultOptions().Now
	}
	return o
}

// DB is the PostgreSQL store. It implements store.Store and is safe for
// concurrent use.
type DB struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	fence *fence // see Fenced; nil writes unchecked
}

var _ store.Store = (*DB)(nil)

// Open connects to the PostgreSQL server at url (a postgres:// URL or a
// key=value connection string) and applies pending schema migrations,
// waiting while another node applies them. ctx bounds connecting and
// migrating, not the store's later use.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	if url == "" {
		return nil, errors.New("postgres: open: empty URL: give a URL like postgres://user@host:5432/dbname")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx leaves out the password when it reports a bad URL.
		return nil, fmt.Errorf("postgres: open: %w: check the URL's form", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.MaxConns < minConns {
		return nil, fmt.Errorf("postgres: open: the store needs at least %d connections, not %d: raise pool_max_conns or Options.MaxConns", minConns, cfg.MaxConns)
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w: check the server runs and the URL's user, password and database", where, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where, err)
	}
	return &DB{pool: pool, now: opts.Now}, nil
}

// Ping reports whether the store can be written: the server answers and
// takes writes, which a standby or a database set read-only does not.
func (db *DB) Ping(ctx context.Context) error {
	var readOnly string
	err := db.pool.QueryRow(ctx, `SELECT current_setting('transaction_read_only')`).Scan(&readOnly)
	if err != nil {
		return wrap(ctx, "ping", err)
	}
	if readOnly != "off" {
		return errors.New("postgres: ping: the database is read-only: point Mosaic at the primary server")
	}
	return nil
}

// Close closes the connections, waiting for those in use to be released.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}
