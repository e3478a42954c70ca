package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// TestEraseProfilesFenced: an erasure by a node that lost the stages'
// lease deletes nothing; the new holder's goes through.
func TestEraseProfilesFenced(t *testing.T) {
	db, _ := openTemp(t)
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	tokenA, _, err := db.AcquireLease(ctx, "stages", "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	old := db.Fenced("stages", tokenA)
	err = old.SaveProfiles(ctx, &store.ProfileCommit{Seq: 5, Batches: []store.ProfileBatch{{
		Profiles: []store.ProfileRow{{ID: 1, Data: []byte("one")}}}}})
	if err != nil {
		t.Fatalf("SaveProfiles by the holder = %v, want nil", err)
	}
	tokenB, ok, err := db.AcquireLease(ctx, "stages", "b", time.Minute)
	if err != nil || !ok {
		t.Fatalf("AcquireLease(b) after expiry = %v, %v, want true, nil", ok, err)
	}
	if n, err := old.EraseProfiles(ctx, []uint64{1}); !errors.Is(err, ErrFenced) || n != 0 {
		t.Errorf("EraseProfiles([1]) by the old holder = %d, %v; want 0, ErrFenced", n, err)
	}
	if n := countProfiles(t, db); n != 1 {
		t.Errorf("profiles after a fenced EraseProfiles = %d, want 1", n)
	}
	if n, err := db.Fenced("stages", tokenB).EraseProfiles(ctx, []uint64{1}); err != nil || n != 1 {
		t.Errorf("EraseProfiles([1]) by the new holder = %d, %v; want 1, nil", n, err)
	}
	if n := countProfiles(t, db); n != 0 {
		t.Errorf("profiles after EraseProfiles by the new holder = %d, want 0", n)
	}
}

func countProfiles(t *testing.T, db *DB) int {
	t.Helper()
	n := 0
	if err := db.LoadProfiles(t.Context(), func(uint64, []byte) error { n++; return nil }); err != nil {
		t.Fatalf("LoadProfiles() = %v, want nil", err)
	}
	return n
}
