package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// urlEnv names the environment variable that gives the test server's URL.
// The user needs the right to create schemas in the URL's database.
const urlEnv = "MOSAIC_TEST_POSTGRES_URL"

// server is the PostgreSQL server the tests use, connected once.
var server struct {
	once  sync.Once
	admin *pgxpool.Pool // creates and drops the tests' schemas
	url   string
	err   error // why there is no server
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server.admin != nil {
		if err := dropRecycled(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		server.admin.Close()
	}
	os.Exit(code)
}

// testServer returns the test server's URL and a pool to administer it. If
// there is none, it skips t, or fails t when CI is set: a suite that never
// runs in CI is worse than none.
func testServer(t testing.TB) (string, *pgxpool.Pool) {
	t.Helper()
	server.once.Do(connectServer)
	if server.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL tests cannot run in CI: %v", server.err)
		}
		t.Skipf("skipping PostgreSQL tests: %v", server.err)
	}
	return server.url, server.admin
}

// connectServer connects to the server urlEnv names and records why it
// cannot.
func connectServer() {
	server.url = os.Getenv(urlEnv)
	if server.url == "" {
		server.err = fmt.Errorf("%s is not set; set it to a server's URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", urlEnv)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, server.url)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		server.err = fmt.Errorf("cannot reach the server %s names: %w; start it (make test-env does)", urlEnv, err)
		return
	}
	server.admin = pool
}

// newSchema creates an empty schema, dropped with everything in it when t
// ends, and returns the URL of a connection working in it.
func newSchema(t testing.TB) string {
	t.Helper()
	base, admin := testServer(t)
	schema, err := createSchema(admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t's context has ended by now; the drop must still run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("DROP SCHEMA %s: %v", schema, err)
		}
	})
	return withParam(t, base, "search_path", schema)
}

// createSchema creates a schema with a new name.
func createSchema(admin *pgxpool.Pool) (string, error) {
	suffix := make([]byte, 8)
	rand.Read(suffix)
	schema := "mosaic_test_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("CREATE SCHEMA %s: %w", schema, err)
	}
	return schema, nil
}

// withParam returns the connection string s with a run-time parameter set,
// or fails t.
func withParam(t testing.TB, s, key, value string) string {
	t.Helper()
	u, err := setParam(s, key, value)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// setParam returns the connection string s with a run-time parameter set,
// whether s is a URL or key=value pairs.
func setParam(s, key, value string) (string, error) {
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return s + " " + key + "=" + value, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", urlEnv, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// withDatabase returns the connection string s naming another database.
func withDatabase(t testing.TB, s, name string) string {
	t.Helper()
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return s + " dbname=" + name
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %s: %v", urlEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// openTemp opens a store that holds nothing, in a schema of its own until
// t ends; the caller closes the store.
func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	u := recycledSchema(t)
	db, err := Open(context.Background(), u, Options{})
	if err != nil {
		t.Fatalf("Open() = %v, want nil", err)
	}
	return db, u
}

// reopen opens the store at u again and closes it when t ends.
func reopen(t *testing.T, u string) *DB {
	t.Helper()
	db, err := Open(t.Context(), u, Options{})
	if err != nil {
		t.Fatalf("Open() again = %v, want nil", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryInts returns the single int64 column of a query's rows.
func queryInts(t *testing.T, db *DB, sql string, args ...any) []int64 {
	t.Helper()
	rows, err := db.pool.Query(t.Context(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return got
}
