// Package sqlite is the embedded store: store.Store on one SQLite file in the
// data directory, needing no setup. It is the only package that imports the
// SQLite driver.
//
// SQLite allows one writer at a time, so all writes go through a pool of one
// connection and queue there in Go instead of failing with SQLITE_BUSY;
// reads use a separate pool and, in WAL mode, never wait for the writer.
// Writes are durable when they return (synchronous=FULL): every write is one
// a caller acknowledges to someone (a created source, a quarantined event in
// a 200 response, a dedupe checkpoint the engine will not redo), and none is
// on the per-event hot path, so an fsync each is affordable.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options tunes a store. The zero value of a field means its default.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock another process
	// holds (a backup tool, the sqlite3 shell) before failing. Default 5s.
	// Within one process writes queue in Go and never hit it.
	BusyTimeout time.Duration
	// ReadConns is the size of the read pool. Default 4. Raise it if many
	// API requests read at once on a machine with many cores.
	ReadConns int
	// Now returns the current time; it stamps source deletions. Default
	// time.Now; tests pass a fixed clock.
	Now func() time.Time
}

// DefaultOptions returns the options Open uses for zero fields.
func DefaultOptions() Options {
	return Options{BusyTimeout: 5 * time.Second, ReadConns: 4, Now: time.Now}
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = d.BusyTimeout
	}
	if o.ReadConns <= 0 {
		o.ReadConns = d.ReadConns
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	return o
}

// DB is the SQLite store. It implements store.Store and is safe for
// concurrent use.
type DB struct {
	write *sql.DB // one connection: the only writer
	read  *sql.DB // query_only connections
	now   func() time.Time
	path  string // the database file; graph snapshots lie beside it
}

var _ store.Store = (*DB)(nil)

// Open opens the store at path, creating the file (readable by its owner
// only) if it is missing, and applies pending schema migrations. The
// directory must exist.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	if path == "" {
		return nil, errors.New("sqlite: open: empty path: give the database file's path")
	}
	if err := createFile(path); err != nil {
		return nil, err
	}
	uri, err := fileURI(path)
	if err != nil {
		return nil, err
	}
	busy := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1", opts.BusyTimeout.Milliseconds())
	db := &DB{now: opts.Now, path: path}
	// The writer reads the database through a memory map, with a 32 MB
	// page cache for the pages it changes: checkpoints upsert profile rows
	// all over a large B-tree, and with SQLite's default 2 MB cache and
	// read() those upserts read most pages again once the tables outgrow
	// it. A 256 MB cache did that job before, but this SQLite allocates and
	// frees each cached page on its own: filling the cache while a replay
	// deleted the old state, and emptying it on Close, took 7 of a 1M-event
	// replay's 41 CPU-seconds; mapped pages cost neither (docs/benchmarks.md).
	// Its statement journals stay in memory: checkpoints insert 64 rows a
	// statement, and SQLite keeps a journal per such statement to undo it
	// alone; in a temporary file that cost a fifth of the server's CPU.
	// Deleted rows are overwritten with zeros where their pages are written
	// anyway (secure_delete=fast), so an erasure needs no VACUUM of the
	// whole database (see Compact).
	db.write, err = openPool(ctx, uri+"?"+busy+"&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate&_pragma=cache_size(-32768)&_pragma=mmap_size(8589934592)&_pragma=temp_store(memory)&_pragma=secure_delete(fast)", 1)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := db.setUp(ctx, path); err != nil {
		db.write.Close()
		return nil, err
	}
	db.read, err = openPool(ctx, uri+"?"+busy+"&_query_only=1", opts.ReadConns)
	if err != nil {
		db.write.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	return db, nil
}

// setUp checks the journal mode and migrates the schema, through the writer.
func (db *DB) setUp(ctx context.Context, path string) error {
	var mode string
	if err := db.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open %s: read journal mode: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: open %s: journal mode is %q, not WAL: keep the data directory on a local file system", path, mode)
	}
	var tables int
	if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&tables); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, db.write); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if tables == 0 {
		// A new database: secure_delete was on from its first page, so no
		// page in use holds remnants of deleted rows and Compact need not
		// VACUUM.
		if _, err := db.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`,
			secureDeleteKey, db.now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	return nil
}

// openPool opens a pool of at most n connections and checks it works.
func openPool(ctx context.Context, dsn string, n int) (*sql.DB, error) {
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	// Keep connections: each new one re-runs the DSN's pragmas.
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// createFile creates the database file with owner-only permissions if it is
// missing: it holds the admin token's hash. SQLite gives its -wal and -shm
// files the same permissions.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w: check the data directory exists and is writable", path, err)
	}
	return f.Close()
}

// fileURI returns path as an SQLite "file:" URI. A plain name would be cut at
// its first '?', where the driver's parameters begin; in a URI, '?', '#' and
// '%' in the path are escaped and SQLite decodes them.
func fileURI(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows volume: file:/C:/dir/db
	}
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p), nil
}

// Ping reports whether the store can be written: it takes SQLite's write lock
// and lets it go at once.
func (db *DB) Ping(ctx context.Context) error {
	tx, err := db.write.BeginTx(ctx, nil) // BEGIN IMMEDIATE
	if err != nil {
		return wrap(ctx, "ping", err)
	}
	if err := tx.Rollback(); err != nil {
		return wrap(ctx, "ping", err)
	}
	return nil
}

// Close closes both pools. SQLite checkpoints the WAL into the database file
// when its last connection closes.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}
