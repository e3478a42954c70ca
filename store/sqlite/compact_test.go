package sqlite

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// Deleted rows leave no trace in the files without a VACUUM: the writer
// zeroes what it deletes within pages in use, Compact wipes the free
// pages and truncates the WAL. A new database is marked as such, so
// Compact does not VACUUM it.
func TestCompactZeroesDeleted(t *testing.T) {
	db, path := openTemp(t)
	ctx := t.Context()
	if v, err := db.Setting(ctx, secureDeleteKey); err != nil || v == "" {
		t.Fatalf("a new database is not marked as zeroing deleted data: %q, %v", v, err)
	}
	var secure int
	if err := db.write.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&secure); err != nil || secure != 2 {
		t.Fatalf("PRAGMA secure_delete = %d, %v; want 2 (fast)", secure, err)
	}
	const needle = "needle-secret-7731"
	c := &store.ForwardCommit{Seq: 1, Consent: []store.ConsentSignal{
		{ProfileKey: needle, Categories: []byte(`{"marketing":true}`), Time: time.Unix(1, 0), Seq: 1},
		{ProfileKey: "kept-key", Categories: []byte(`{"marketing":true}`), Time: time.Unix(1, 0), Seq: 1},
	}}
	if err := db.SaveForward(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	if !filesHold(t, filepath.Dir(path), needle) {
		t.Fatal("the needle is in no file before its deletion: the check would prove nothing")
	}
	if n, err := db.RemoveConsentSignals(ctx, []string{needle}); err != nil || n != 1 {
		t.Fatalf("RemoveConsentSignals = %d, %v", n, err)
	}
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if filesHold(t, filepath.Dir(path), needle) {
		t.Error("a deleted row is still in the database's files after Compact")
	}
	if !filesHold(t, filepath.Dir(path), "kept-key") {
		t.Error("the row kept is in no file: the search is broken")
	}
}

func filesHold(t *testing.T, dir, s string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(s)) {
			found = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// A large value that is replaced leaves its pages on the free list with
// their content; Compact wipes them.
func TestCompactWipesFreePages(t *testing.T) {
	db, path := openTemp(t)
	ctx := t.Context()
	const needle = "needle-profile-5501"
	big := bytes.Repeat([]byte(needle+" "), 20000) // 400 KB: overflow pages
	save := func(seq uint64, data []byte) {
		t.Helper()
		c := &store.ProfileCommit{Seq: seq, Batches: []store.ProfileBatch{{Profiles: []store.ProfileRow{{ID: 1, Data: data}}}}}
		if err := db.SaveProfiles(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	save(1, big)
	save(2, bytes.Repeat([]byte("x"), len(big)/4))
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var free int
	if err := db.write.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil || free == 0 {
		t.Fatalf("freelist_count = %d, %v; the test needs free pages", free, err)
	}
	if !filesHold(t, filepath.Dir(path), needle) {
		t.Fatal("the replaced profile is in no file: the check would prove nothing")
	}
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if filesHold(t, filepath.Dir(path), needle) {
		t.Error("a replaced profile is still in the database's free pages after Compact")
	}
}

// The identity graph snapshot lives in a file beside the database; a
// replaced one, and one a reset drops, is wiped and removed, and a restart
// reads the one the database names.
func TestGraphSnapshotFiles(t *testing.T) {
	db, path := openTemp(t)
	ctx := t.Context()
	dir := filepath.Dir(path)
	const needle = "needle-graph-7103"
	first := bytes.Repeat([]byte(needle+" "), 1000)
	if err := db.SaveProfiles(ctx, &store.ProfileCommit{Seq: 3, Graph: first}); err != nil {
		t.Fatal(err)
	}
	if !filesHold(t, dir, needle) {
		t.Fatal("the snapshot is in no file")
	}
	second := []byte("the second snapshot")
	if err := db.SaveProfiles(ctx, &store.ProfileCommit{Seq: 8, Graph: second}); err != nil {
		t.Fatal(err)
	}
	if filesHold(t, dir, needle) {
		t.Error("the replaced snapshot is still on disk")
	}
	// A replayed commit at an older position leaves the named snapshot.
	if err := db.SaveProfiles(ctx, &store.ProfileCommit{Seq: 5, Graph: first}); err != nil {
		t.Fatal(err)
	}
	if filesHold(t, dir, needle) {
		t.Error("the snapshot of a commit that was not taken is still on disk")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seq, graph, graphSeq, err := db.ProfileCheckpoint(ctx)
	if err != nil || seq != 8 || graphSeq != 8 || string(graph) != string(second) {
		t.Fatalf("ProfileCheckpoint() after a restart = %d, %q, %d, %v; want 8, %q, 8, nil", seq, graph, graphSeq, err, second)
	}
	if err := db.ResetDerived(ctx); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".graph-") {
			t.Errorf("%s is left after ResetDerived", e.Name())
		}
	}
	if _, graph, graphSeq, err := db.ProfileCheckpoint(ctx); err != nil || graph != nil || graphSeq != 0 {
		t.Errorf("ProfileCheckpoint() after ResetDerived = _, %q, %d, %v; want no graph", graph, graphSeq, err)
	}
}
