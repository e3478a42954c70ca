package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// forEachBackend runs test once with the embedded database and once with
// PostgreSQL (MOSAIC_TEST_POSTGRES_URL), each in a fresh schema. Without
// PostgreSQL the second run is skipped locally and fails under CI.
func forEachBackend(t *testing.T, test func(t *testing.T, serveArgs ...string)) {
	t.Run("sqlite", func(t *testing.T) { test(t) })
	t.Run("postgres", func(t *testing.T) { test(t, "--postgres", postgresSchema(t)) })
}

// postgresSchema creates an empty schema for one test and returns a URL
// that selects it; the schema is dropped when the test ends.
func postgresSchema(t *testing.T) string {
	t.Helper()
	url := os.Getenv("MOSAIC_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("MOSAIC_TEST_POSTGRES_URL is not set under CI; make test sets it")
		}
		t.Skip("MOSAIC_TEST_POSTGRES_URL not set: skipping the PostgreSQL run (make test sets it)")
	}
	schema := fmt.Sprintf("e2e_%d_%d", os.Getpid(), time.Now().UnixNano())
	psql := func(sql string) error {
		out, err := exec.Command("psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql).CombinedOutput()
		if err != nil {
			return fmt.Errorf("psql %q: %v: %s", sql, err, out)
		}
		return nil
	}
	if err := psql("CREATE SCHEMA " + schema); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("PostgreSQL not reachable: %v", err)
	}
	t.Cleanup(func() { _ = psql("DROP SCHEMA " + schema + " CASCADE") })
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}
