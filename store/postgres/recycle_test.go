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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// recycled lends the tests schemas that stores migrated already: creating
// and migrating a schema per test would cost several times more than
// putting a used one back as a fresh migration leaves it. The seed schema
// is such a fresh migration, never written to; a used schema is reset to
// its content.
var recycled struct {
	once  sync.Once
	seed  string
	reset string // SQL that resets the schema named by resetTarget to seed
	err   error

	mu   sync.Mutex
	free []string // schemas holding what seed holds
	all  []string // every schema lent, dropped by TestMain
}

// resetTarget stands for the schema to reset in recycled.reset.
const resetTarget = "{schema}"

// recycledSchema returns the URL of a connection working in a schema that
// holds what a fresh migration leaves, or nothing, the test's own until t
// ends.
func recycledSchema(t testing.TB) string {
	t.Helper()
	base, admin := testServer(t)
	recycled.once.Do(func() { recycled.err = makeSeed(base, admin) })
	if recycled.err != nil {
		t.Fatalf("make the seed schema: %v", recycled.err)
	}
	recycled.mu.Lock()
	var schema string
	if n := len(recycled.free); n > 0 {
		schema, recycled.free = recycled.free[n-1], recycled.free[:n-1]
	}
	recycled.mu.Unlock()
	if schema == "" {
		var err error
		if schema, err = createSchema(admin); err != nil {
			t.Fatal(err)
		}
		recycled.mu.Lock()
		recycled.all = append(recycled.all, schema)
		recycled.mu.Unlock()
	}
	t.Cleanup(func() { giveBack(t, admin, schema) })
	return withParam(t, base, "search_path", schema)
}

// giveBack resets a schema t used and makes it free for the next test.
func giveBack(t testing.TB, admin *pgxpool.Pool, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Nothing migrated a schema whose store failed to open; start it over.
	var migrated bool
	err := admin.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, schema+".goose_db_version").Scan(&migrated)
	if err == nil && migrated {
		_, err = admin.Exec(ctx, strings.ReplaceAll(recycled.reset, resetTarget, schema))
	} else if err == nil {
		_, err = admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE; CREATE SCHEMA "+schema)
	}
	if err != nil {
		t.Logf("schema %s not reused: reset it: %v", schema, err)
		return // TestMain drops it
	}
	recycled.mu.Lock()
	recycled.free = append(recycled.free, schema)
	recycled.mu.Unlock()
}

// makeSeed migrates the seed schema and writes the SQL that resets a
// schema to its content: every table emptied and refilled from seed's,
// every sequence set as seed's is. DELETE, not TRUNCATE: on tables this
// small it costs a fraction.
func makeSeed(base string, admin *pgxpool.Pool) error {
	seed, err := createSchema(admin)
	if err != nil {
		return err
	}
	recycled.seed = seed
	recycled.all = append(recycled.all, seed)
	ctx := context.Background()
	u, err := setParam(base, "search_path", seed)
	if err != nil {
		return err
	}
	db, err := Open(ctx, u, Options{})
	if err != nil {
		return err
	}
	db.Close()
	tables, err := deleteOrder(ctx, admin, seed)
	if err != nil {
		return err
	}
	seqs, err := names(ctx, admin, `SELECT sequencename FROM pg_sequences WHERE schemaname = $1 ORDER BY sequencename`, seed)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("BEGIN;\n")
	for _, table := range tables {
		fmt.Fprintf(&b, "DELETE FROM %s.%s;\n", resetTarget, table)
	}
	for _, table := range slices.Backward(tables) {
		fmt.Fprintf(&b, "INSERT INTO %s.%s OVERRIDING SYSTEM VALUE SELECT * FROM %s.%s;\n", resetTarget, table, seed, table)
	}
	for _, seq := range seqs {
		fmt.Fprintf(&b, "SELECT setval('%s.%s', last_value, is_called) FROM %s.%s;\n", resetTarget, seq, seed, seq)
	}
	// The event log's partitions are tables of their own, made as the log
	// is used: the seed has none, so a reset drops them.
	fmt.Fprintf(&b, `DO $$DECLARE r record; BEGIN FOR r IN SELECT i.inhrelid::regclass AS t FROM pg_inherits i
		WHERE i.inhparent = '%s.event_log'::regclass LOOP EXECUTE 'DROP TABLE ' || r.t; END LOOP; END$$;`+"\n", resetTarget)
	b.WriteString("COMMIT;\n")
	recycled.reset = b.String()
	return nil
}

// deleteOrder lists a schema's tables so that each comes before the tables
// its foreign keys reference: deleting in this order, and inserting in the
// reverse, never breaks a key.
func deleteOrder(ctx context.Context, admin *pgxpool.Pool, schema string) ([]string, error) {
	rows, err := admin.Query(ctx, `SELECT c.relname, coalesce(array_agg(p.relname) FILTER (WHERE p.oid IS NOT NULL AND p.oid <> c.oid), '{}')
		FROM pg_class c LEFT JOIN pg_constraint f ON f.conrelid = c.oid AND f.contype = 'f'
		LEFT JOIN pg_class p ON p.oid = f.confrelid
		WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p') GROUP BY c.relname ORDER BY c.relname`, schema)
	if err != nil {
		return nil, err
	}
	references := map[string][]string{} // table → tables it references
	var left []string
	var name string
	var refs []string
	_, err = pgx.ForEachRow(rows, []any{&name, &refs}, func() error {
		references[name] = refs
		left = append(left, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var order []string
	for len(left) > 0 {
		// Next: a table no remaining table references.
		i := slices.IndexFunc(left, func(table string) bool {
			return !slices.ContainsFunc(left, func(other string) bool { return slices.Contains(references[other], table) })
		})
		if i < 0 {
			return nil, fmt.Errorf("foreign keys of schema %s form a cycle among %v", schema, left)
		}
		order = append(order, left[i])
		left = slices.Delete(left, i, i+1)
	}
	return order, nil
}

// names returns the single text column of a query's rows.
func names(ctx context.Context, admin *pgxpool.Pool, sql string, args ...any) ([]string, error) {
	rows, err := admin.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// dropRecycled drops every schema recycledSchema lent.
func dropRecycled() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, schema := range recycled.all {
		if _, err := server.admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			errs = append(errs, fmt.Errorf("drop test schema %s: %w", schema, err))
		}
	}
	return errors.Join(errs...)
}

// TestRecycledSchemaIsFresh checks that a schema given back holds exactly
// what the seed schema holds, a fresh migration, whatever the test wrote.
func TestRecycledSchemaIsFresh(t *testing.T) {
	var schema string
	t.Run("use", func(t *testing.T) {
		db, u := openTemp(t)
		defer db.Close()
		schema = runtimeParam(t, u, "search_path")
		writeEverything(t, db)
	})
	_, admin := testServer(t)
	tables, err := names(t.Context(), admin, `SELECT tablename FROM pg_tables WHERE schemaname = $1`, recycled.seed)
	if err != nil || len(tables) == 0 {
		t.Fatalf("list the seed's tables = %v, %v; want some, nil", tables, err)
	}
	for _, table := range tables {
		var differ int
		err := admin.QueryRow(t.Context(), fmt.Sprintf(`SELECT count(*) FROM (
			(TABLE %[1]s.%[3]s EXCEPT ALL TABLE %[2]s.%[3]s) UNION ALL (TABLE %[2]s.%[3]s EXCEPT ALL TABLE %[1]s.%[3]s)) d`,
			schema, recycled.seed, table)).Scan(&differ)
		if err != nil || differ != 0 {
			t.Errorf("rows of %s differing from the seed's after a reset = %d, %v; want 0, nil", table, differ, err)
		}
	}
	var seqsDiffer int
	err = admin.QueryRow(t.Context(), `SELECT count(*) FROM pg_sequences a FULL JOIN pg_sequences b
		ON b.schemaname = $2 AND a.sequencename = b.sequencename
		WHERE (a.schemaname = $1 OR a.schemaname IS NULL) AND (b.schemaname = $2 OR b.schemaname IS NULL)
		AND (a.last_value IS DISTINCT FROM b.last_value OR a.sequencename IS NULL OR b.sequencename IS NULL)`,
		schema, recycled.seed).Scan(&seqsDiffer)
	if err != nil || seqsDiffer != 0 {
		t.Errorf("sequences differing from the seed's after a reset = %d, %v; want 0, nil", seqsDiffer, err)
	}
}

// writeEverything writes to every table of the store.
func writeEverything(t *testing.T, db *DB) {
	t.Helper()
	ctx := t.Context()
	steps := []error{
		db.CreateSource(ctx, &mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk1"}),
		db.PutSetting(ctx, "k", "v"),
		db.AddRejected(ctx, []*mosaic.Rejected{{SourceID: "s1", Raw: []byte("x")}}),
		db.SaveDedupe(ctx, &store.DedupeCommit{Seq: 9, Chunk: store.DedupeChunk{Keys: []byte("k")}, Duplicates: []uint64{3},
			Counts: map[string]store.Increment{"s1": {Stored: 1}}}),
		db.SaveProfiles(ctx, &store.ProfileCommit{Seq: 9, Graph: []byte("g"), Batches: []store.ProfileBatch{{
			Timeline: []store.TimelineRow{{ProfileID: 1, Seq: 3}},
			Traits:   []store.TraitRow{{ProfileID: 1, Name: "email", Value: []byte(`"a"`), Seq: 3}},
			Profiles: []store.ProfileRow{{ID: 1, Data: []byte("p")}},
		}}, Decisions: []store.DecisionRow{{ProfileID: 1, Seq: 3, Kind: "merge", Data: []byte("{}")}}}),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("write step %d = %v, want nil", i, err)
		}
	}
}

// runtimeParam returns a run-time parameter a connection string sets.
func runtimeParam(t *testing.T, connString, key string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		t.Fatalf("parse %s: %v", urlEnv, err)
	}
	return cfg.RuntimeParams[key]
}
