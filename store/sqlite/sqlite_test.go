package sqlite

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/storetest"
)

// openTemp opens a store in a new temporary directory, closed by the caller.
func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mosaic.db")
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v, want nil", path, err)
	}
	return db, path
}

// reopen opens the store at path again and closes it when t ends.
func reopen(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("Open(%q) again = %v, want nil", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openTemp(t)
		return db
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	db, path := openTemp(t)
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	src := &mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk1", CreatedAt: created}
	rej := &mosaic.Rejected{SourceID: "s1", ReceivedAt: created, Code: mosaic.EINVALIDJSON, Reason: "r", Raw: []byte("\x00\xff")}
	chunk := store.DedupeChunk{Newest: created, Keys: []byte("0123456789abcdef")}
	steps := []error{
		db.CreateSource(ctx, src),
		db.PutSetting(ctx, "k", "v"),
		db.AddRejected(ctx, []*mosaic.Rejected{rej}),
		db.SaveDedupe(ctx, &store.DedupeCommit{Seq: 42, Chunk: chunk, Duplicates: []uint64{41},
			Counts: map[string]store.Increment{"s1": {Stored: 3, Duplicates: 1}}}),
		db.Close(),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("setup step %d = %v, want nil", i, err)
		}
	}

	db = reopen(t, path)
	gotSrc, err := db.SourceByWriteKey(ctx, "wk1")
	check(t, "SourceByWriteKey", gotSrc, src, err)
	gotValue, err := db.Setting(ctx, "k")
	check(t, "Setting", gotValue, "v", err)
	gotRej, err := db.Rejected(ctx, "s1", 0, 10)
	check(t, "Rejected", gotRej, []*mosaic.Rejected{rej}, err)
	gotStats, err := db.Stats(ctx, "s1")
	check(t, "Stats", gotStats, &mosaic.SourceStats{SourceID: "s1", Received: 5, Stored: 3, Duplicates: 1, Rejected: 1}, err)
	seq, chunks, err := db.DedupeCheckpoint(ctx, time.Time{})
	check(t, "DedupeCheckpoint seq", seq, uint64(42), err)
	check(t, "DedupeCheckpoint chunks", chunks, []store.DedupeChunk{chunk}, nil)
	dups, err := db.Duplicates(ctx, 0, 100)
	check(t, "Duplicates", dups, map[uint64]bool{41: true}, err)
}

// check fails t if err is not nil or got differs from want.
func check(t *testing.T, op string, got, want any, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s = %v, want nil", op, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", op, d)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	db, path := openTemp(t)
	before := schemaVersions(t, db)
	if len(before) == 0 {
		t.Fatal("no migration recorded after Open")
	}
	if err := migrate(t.Context(), db.write); err != nil {
		t.Fatalf("migrate() on a migrated database = %v, want nil", err)
	}
	db.Close()
	db = reopen(t, path)
	if d := cmp.Diff(before, schemaVersions(t, db)); d != "" {
		t.Errorf("applied migrations changed on reopen (-before +after):\n%s", d)
	}
	p, err := newMigrator(db.write)
	if err != nil {
		t.Fatalf("newMigrator() = %v, want nil", err)
	}
	sources := p.ListSources()
	if latest := sources[len(sources)-1].Version; before[len(before)-1] != latest {
		t.Errorf("schema version = %d, want the latest migration %d", before[len(before)-1], latest)
	}
}

// schemaVersions lists the applied migrations in order.
func schemaVersions(t *testing.T, db *DB) []int64 {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), `SELECT version_id FROM goose_db_version WHERE is_applied ORDER BY id`)
	if err != nil {
		t.Fatalf("read goose_db_version: %v", err)
	}
	defer rows.Close()
	var versions []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatalf("scan goose_db_version: %v", err)
		}
		versions = append(versions, v)
	}
	return versions
}

func TestNewerSchemaRefused(t *testing.T) {
	db, path := openTemp(t)
	if _, err := db.write.ExecContext(t.Context(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatalf("record a future migration: %v", err)
	}
	db.Close()
	db, err := Open(t.Context(), path, Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open() of a database with a newer schema = nil error, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open() error = %q, want it to say the schema is newer", err)
	}
}

func TestPragmas(t *testing.T) {
	db, _ := openTemp(t)
	defer db.Close()
	tests := []struct {
		pool   string
		pragma string
		want   string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"}, // FULL: writes are durable when they return
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", "5000"},
		{"write", "temp_store", "2"}, // MEMORY: statement journals are not files
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "query_only", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.pool+"/"+tt.pragma, func(t *testing.T) {
			conn := db.write
			if tt.pool == "read" {
				conn = db.read
			}
			var got string
			if err := conn.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s = %v", tt.pragma, err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s on the %s pool = %q, want %q", tt.pragma, tt.pool, got, tt.want)
			}
		})
	}
}

func TestReadPoolCannotWrite(t *testing.T) {
	db, _ := openTemp(t)
	defer db.Close()
	if _, err := db.read.ExecContext(t.Context(), `INSERT INTO settings (key, value) VALUES ('k', 'v')`); err == nil {
		t.Error("INSERT through the read pool = nil error, want an error")
	}
}

func TestOpenPaths(t *testing.T) {
	tests := []struct {
		name string
		dir  string // created under a temporary directory
		file string
	}{
		{"plain", "data", "mosaic.db"},
		{"URI characters", "a?b#c%20d", "x?y.db"},
		{"spaces and unicode", "dossier données", "bäse.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tt.dir)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tt.file)
			db, err := Open(t.Context(), path, Options{})
			if err != nil {
				t.Fatalf("Open(%q) = %v, want nil", path, err)
			}
			defer db.Close()
			if err := db.PutSetting(t.Context(), "k", "v"); err != nil {
				t.Fatalf("PutSetting = %v, want nil", err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("Stat(%q) = %v: the database is not where it was asked to be", path, err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("database file mode = %v, want 0600", perm)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), tt.file) {
					t.Errorf("unexpected file %q next to the database", e.Name())
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
	}{
		{"empty path", func(t *testing.T) string { return "" }},
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing", "mosaic.db") }},
		{"not a database", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "mosaic.db")
			if err := os.WriteFile(path, []byte(strings.Repeat("not sqlite ", 1000)), 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(t.Context(), tt.path(t), Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open() = nil error, want an error")
			}
		})
	}
}

func TestDeleteStampsNow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mosaic.db")
	deleted := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	db, err := Open(t.Context(), path, Options{Now: func() time.Time { return deleted }})
	if err != nil {
		t.Fatalf("Open() = %v, want nil", err)
	}
	defer db.Close()
	if err := db.CreateSource(t.Context(), &mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk1"}); err != nil {
		t.Fatalf("CreateSource() = %v, want nil", err)
	}
	if err := db.DeleteSource(t.Context(), "s1"); err != nil {
		t.Fatalf("DeleteSource() = %v, want nil", err)
	}
	var got int64
	if err := db.read.QueryRowContext(t.Context(), `SELECT deleted_at FROM sources WHERE id = 's1'`).Scan(&got); err != nil {
		t.Fatalf("read deleted_at: %v", err)
	}
	if got != deleted.UnixMicro() {
		t.Errorf("deleted_at = %v, want %v from Options.Now", fromMicros(got), deleted)
	}
}

// TestOnlyThisPackageImportsTheDriver keeps the contract and its suite free
// of SQLite: a PostgreSQL store must not drag it in.
func TestOnlyThisPackageImportsTheDriver(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("go tool not found")
		}
		t.Skip("go tool not found; CI runs this test")
	}
	out, err := exec.Command(goTool, "list", "-deps", "github.com/mosaic-cdp/mosaic/store", "github.com/mosaic-cdp/mosaic/store/storetest").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "modernc.org/") || strings.HasPrefix(dep, "github.com/pressly/goose") {
			t.Errorf("store or storetest depends on %s; only store/sqlite may", dep)
		}
	}
}
