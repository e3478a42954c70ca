package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openTemp(t)
		return db
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	db, u := openTemp(t)
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

	db = reopen(t, u)
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

// appliedVersions lists the applied migrations in order.
func appliedVersions(t *testing.T, db *DB) []int64 {
	t.Helper()
	return queryInts(t, db, `SELECT version_id FROM goose_db_version WHERE is_applied ORDER BY id`)
}

// latestVersion returns the version of the newest embedded migration.
func latestVersion(t *testing.T, db *DB) int64 {
	t.Helper()
	v := migrationVersions(t, db)
	return v[len(v)-1]
}

// migrationVersions returns the versions of the embedded migrations, in
// order; numbers may be skipped.
func migrationVersions(t *testing.T, db *DB) []int64 {
	t.Helper()
	conn := stdlib.OpenDBFromPool(db.pool)
	defer conn.Close()
	p, err := newMigrator(conn)
	if err != nil {
		t.Fatalf("newMigrator() = %v, want nil", err)
	}
	var out []int64
	for _, s := range p.ListSources() {
		out = append(out, s.Version)
	}
	return out
}

func TestMigrationsIdempotent(t *testing.T) {
	db, u := openTemp(t)
	before := appliedVersions(t, db)
	if err := migrate(t.Context(), db.pool); err != nil {
		t.Fatalf("migrate() on a migrated schema = %v, want nil", err)
	}
	db.Close()
	db = reopen(t, u)
	if d := cmp.Diff(before, appliedVersions(t, db)); d != "" {
		t.Errorf("applied migrations changed on reopen (-before +after):\n%s", d)
	}
	if got, want := before[len(before)-1], latestVersion(t, db); got != want {
		t.Errorf("schema version = %d, want the latest migration %d", got, want)
	}
}

// TestUpToDate checks the check that lets a node skip the migration lock:
// only a schema with exactly this build's migrations applied passes it.
func TestUpToDate(t *testing.T) {
	tests := []struct {
		name   string
		change string // SQL run on a migrated schema
		want   bool
	}{
		{"migrated", "", true},
		{"no version table", "DROP TABLE goose_db_version", false},
		{"a migration missing", "DELETE FROM goose_db_version WHERE version_id = 1", false},
		{"a newer migration", "INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)", false},
		{"a migration rolled back", "INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, false)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTemp(t)
			defer db.Close()
			if tt.change != "" {
				if _, err := db.pool.Exec(t.Context(), tt.change); err != nil {
					t.Fatalf("%s: %v", tt.change, err)
				}
			}
			conn := stdlib.OpenDBFromPool(db.pool)
			defer conn.Close()
			p, err := newMigrator(conn)
			if err != nil {
				t.Fatalf("newMigrator() = %v, want nil", err)
			}
			got, err := upToDate(t.Context(), db.pool, p.ListSources())
			if err != nil || got != tt.want {
				t.Errorf("upToDate() = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

// TestConcurrentOpen starts several nodes on one empty schema at once, as a
// cluster's first start does: all open, and each migration runs once.
func TestConcurrentOpen(t *testing.T) {
	const nodes = 4
	u := newSchema(t)
	dbs := make([]*DB, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { dbs[i], errs[i] = Open(t.Context(), u, Options{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Open() = %v, want nil", i, err)
		}
		defer dbs[i].Close()
	}
	versions := appliedVersions(t, dbs[0])
	want := append([]int64{0}, migrationVersions(t, dbs[0])...) // goose records version 0 when it creates its table
	if d := cmp.Diff(want, versions); d != "" {
		t.Errorf("applied migrations after %d concurrent opens (-want +got):\n%s", nodes, d)
	}
	for i, db := range dbs {
		if err := db.PutSetting(t.Context(), "node", fmt.Sprint(i)); err != nil {
			t.Errorf("node %d: PutSetting() = %v, want nil", i, err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	db, u := openTemp(t)
	if _, err := db.pool.Exec(t.Context(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
		t.Fatalf("record a future migration: %v", err)
	}
	db.Close()
	db, err := Open(t.Context(), u, Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open() of a schema newer than the build = nil error, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open() error = %q, want it to say the schema is newer", err)
	}
}

func TestOpenErrors(t *testing.T) {
	base, _ := testServer(t)
	tests := []struct {
		name    string
		url     func(t *testing.T) string
		wantMsg string // part of the error's text
	}{
		{"empty URL", func(t *testing.T) string { return "" }, "empty URL"},
		{"malformed URL", func(t *testing.T) string { return "postgres://[::1" }, "URL"},
		{"nothing listening", func(t *testing.T) string {
			return "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5"
		}, "server runs"},
		{"unknown database", func(t *testing.T) string { return withDatabase(t, base, "mosaic_no_such_db") }, "database"},
		{"one connection", func(t *testing.T) string { return withParam(t, base, "pool_max_conns", "1") }, "at least 2"},
		{"missing schema", func(t *testing.T) string { return withParam(t, base, "search_path", "mosaic_no_such_schema") }, "search_path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(t.Context(), tt.url(t), Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open() = nil error, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Open() error = %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestOpenWaitsNoLongerThanContext(t *testing.T) {
	u := newSchema(t)
	// Another node holds the schema's migration lock and never lets go.
	other, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatalf("connect as another node: %v", err)
	}
	defer other.Close(context.Background()) // ending the session frees its lock
	if _, err := other.Exec(t.Context(), `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		t.Fatalf("take the migration lock: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	opened := make(chan error, 1)
	go func() {
		db, err := Open(ctx, u, Options{})
		if err == nil {
			db.Close()
		}
		opened <- err
	}()
	waitForLockWaiter(t, other, opened)
	cancel()
	err = <-opened
	if err == nil {
		t.Fatal("Open() canceled while another node migrates = nil error, want an error")
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "migration lock") {
		t.Errorf("Open() error = %q, want it to wrap context.Canceled and say it waited for the migration lock", err)
	}
}

// waitForLockWaiter returns once a session waits for the advisory lock
// conn holds; it fails t if Open reports on opened first.
func waitForLockWaiter(t *testing.T, conn *pgx.Conn, opened <-chan error) {
	t.Helper()
	for {
		select {
		case err := <-opened:
			t.Fatalf("Open() = %v before it waited for the migration lock", err)
		default:
		}
		var waiting bool
		err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_locks w JOIN pg_locks h
			ON h.locktype = 'advisory' AND h.objid = w.objid AND h.classid = w.classid
			WHERE w.locktype = 'advisory' AND NOT w.granted AND h.pid = pg_backend_pid())`).Scan(&waiting)
		if err != nil {
			t.Fatalf("look for a session waiting for the lock: %v", err)
		}
		if waiting {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPingReadOnly(t *testing.T) {
	db, u := openTemp(t)
	defer db.Close()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() = %v, want nil", err)
	}
	ro, err := Open(t.Context(), withParam(t, u, "default_transaction_read_only", "on"), Options{})
	if err != nil {
		t.Fatalf("Open() read-only = %v, want nil: a migrated schema needs no writes", err)
	}
	defer ro.Close()
	if err := ro.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Ping() of a read-only database = %v, want an error saying it is read-only", err)
	}
}

func TestDeleteStampsNow(t *testing.T) {
	u := recycledSchema(t)
	deleted := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	db, err := Open(t.Context(), u, Options{Now: func() time.Time { return deleted }})
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
	var got time.Time
	if err := db.pool.QueryRow(t.Context(), `SELECT deleted_at FROM sources WHERE id = 's1'`).Scan(&got); err != nil {
		t.Fatalf("read deleted_at: %v", err)
	}
	if !got.Equal(deleted) {
		t.Errorf("deleted_at = %v, want %v from Options.Now", got, deleted)
	}
}

func TestMaxConns(t *testing.T) {
	u := recycledSchema(t)
	db, err := Open(t.Context(), u, Options{MaxConns: 3})
	if err != nil {
		t.Fatalf("Open() = %v, want nil", err)
	}
	defer db.Close()
	if got := db.pool.Config().MaxConns; got != 3 {
		t.Errorf("pool MaxConns = %d, want 3 from Options", got)
	}
}

// TestCountsOfIDsThatCleanAlike saves counters under two IDs that clean to
// the same text: they add up in one row instead of failing the commit.
func TestCountsOfIDsThatCleanAlike(t *testing.T) {
	db, _ := openTemp(t)
	defer db.Close()
	err := db.SaveDedupe(t.Context(), &store.DedupeCommit{Seq: 1, Counts: map[string]store.Increment{
		"web": {Stored: 1}, "w\x00eb": {Stored: 2, Duplicates: 1}, "app": {Stored: 4},
	}})
	if err != nil {
		t.Fatalf("SaveDedupe() = %v, want nil", err)
	}
	got, err := db.Stats(t.Context(), "web")
	check(t, "Stats(web)", got, &mosaic.SourceStats{SourceID: "web", Received: 4, Stored: 3, Duplicates: 1}, err)
}

// distributionKeys names, for each table, the column a sharded PostgreSQL
// (Citus) would distribute it by; "" marks a small reference table copied
// to every node. A new table must be added here, with its key in its
// primary key, so the schema stays ready to shard.
var distributionKeys = map[string]string{
	"sources":          "",
	"settings":         "",
	"rejected":         "source_id",
	"source_counts":    "source_id",
	"dedupe_state":     "", // one row
	"dedupe_chunks":    "seq",
	"duplicates":       "seq",
	"goose_db_version": "",
	// The profile stage's tables, colocated by profile ID.
	"profile_state":      "", // one row
	"profiles":           "id",
	"profile_timeline":   "profile_id",
	"profile_chunks":     "profile_id",
	"trait_history":      "profile_id",
	"identity_decisions": "profile_id",
	// Activation: the outbox by destination, consent by profile.
	"destinations":            "",
	"outbox":                  "destination_id",
	"outbox_holds":            "destination_id",
	"forward_state":           "", // one row
	"audience_delivery_state": "", // one row
	"consent_signals":         "profile_key",
	// Audiences: definitions are reference tables; state by profile;
	// the change list is read in order, by its own id.
	"segment_definitions": "",
	"segment_state":       "", // one row
	"segment_profiles":    "id",
	"audience_changes":    "id",
	// The event log is one sequence with one serial point: it stays on the
	// coordinator, partitioned by time (docs/scaling.md).
	"event_log":            "",
	"event_log_head":       "", // one row
	"event_log_partitions": "",
	// Coordination of the nodes: small reference tables.
	"leases":        "",
	"cluster_nodes": "",
	// The schema stage's tables and the violation counts, by source.
	"schema_state":    "", // one row
	"schema_fields":   "source_id",
	"plan_violations": "source_id",
	// Predictions: per-profile tables by profile ID, the rest small.
	"predict_state":     "", // one row
	"predict_activity":  "profile_id",
	"predicted_traits":  "profile_id",
	"prediction_models": "", // one row per model
	// Privacy: consent colocated with its profile; the rest are small
	// reference tables (the audit log is one chain, appended serially).
	"consent_position": "", // one row
	"consent_state":    "profile_id",
	"consent_history":  "profile_id",
	"audit_head":       "", // one row
	"audit_log":        "",
	"api_tokens":       "",
	"privacy_requests": "",
	"deletion_notices": "", // few, small: reference tables
	"users":            "",
	"sessions":         "",
	"purposes":         "",
	"login_attempts":   "", // swept as they age out of the window
	"suppressions":     "",
	"source_retention": "source_id",
}

func TestTablesCarryTheirDistributionKey(t *testing.T) {
	db, _ := openTemp(t)
	defer db.Close()
	rows, err := db.pool.Query(t.Context(), `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() ORDER BY table_name`)
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	for _, table := range tables {
		key, ok := distributionKeys[table]
		if !ok {
			t.Errorf("table %s has no entry in distributionKeys: say which column would shard it", table)
			continue
		}
		if key == "" {
			continue
		}
		if pk := primaryKey(t, db, table); !slices.Contains(pk, key) {
			t.Errorf("primary key of %s = %v, want it to include its distribution key %s", table, pk, key)
		}
	}
}

// primaryKey returns the columns of a table's primary key.
func primaryKey(t *testing.T, db *DB, table string) []string {
	t.Helper()
	rows, err := db.pool.Query(t.Context(), `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = to_regclass($1) AND i.indisprimary`, table)
	if err != nil {
		t.Fatalf("primary key of %s: %v", table, err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("primary key of %s: %v", table, err)
	}
	return cols
}

// TestPagingWhileWriting pages through a source's quarantine while several
// writers add to it: a reader that resumes after the last ID it saw must
// never miss an entry, so IDs of one source must become visible in
// increasing order.
func TestPagingWhileWriting(t *testing.T) {
	const writers, batches, perBatch = 4, 25, 4
	db, _ := openTemp(t)
	defer db.Close()
	ctx := t.Context()
	if err := db.CreateSource(ctx, &mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk1"}); err != nil {
		t.Fatalf("CreateSource() = %v, want nil", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				batch := make([]*mosaic.Rejected, perBatch)
				for i := range batch {
					batch[i] = &mosaic.Rejected{SourceID: "s1", Index: i, Raw: fmt.Appendf(nil, "w%d-b%d-%d", w, b, i)}
				}
				if err := db.AddRejected(ctx, batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(errs); close(done) }()
	seen, after := 0, int64(0)
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true // one more pass reads what the last writers added
		default:
		}
		page, err := db.Rejected(ctx, "s1", after, 7)
		if err != nil {
			t.Fatalf("Rejected(after %d) = %v, want nil", after, err)
		}
		for len(page) > 0 {
			seen += len(page)
			after = page[len(page)-1].ID
			if page, err = db.Rejected(ctx, "s1", after, 7); err != nil {
				t.Fatalf("Rejected(after %d) = %v, want nil", after, err)
			}
		}
	}
	for err := range errs {
		t.Fatalf("AddRejected() = %v, want nil", err)
	}
	if want := writers * batches * perBatch; seen != want {
		t.Errorf("a reader paging during the writes saw %d entries, want all %d", seen, want)
	}
}
