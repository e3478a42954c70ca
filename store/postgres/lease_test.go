package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

func TestLeaseHandover(t *testing.T) {
	db, _ := openTemp(t)
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	const name, ttl = "stage", time.Minute
	steps := []struct {
		name      string
		do        func() (int64, bool, error)
		wantToken int64
		wantOK    bool
	}{
		{"a acquires a free lease", func() (int64, bool, error) { return db.AcquireLease(ctx, name, "a", ttl) }, 1, true},
		{"b cannot take a held lease", func() (int64, bool, error) { return db.AcquireLease(ctx, name, "b", ttl) }, 0, false},
		{"a renews", func() (int64, bool, error) { ok, err := db.RenewLease(ctx, name, "a", 1, ttl); return 1, ok, err }, 1, true},
		{"a releases, b takes it with a new token", func() (int64, bool, error) {
			if err := db.ReleaseLease(ctx, name, "a", 1); err != nil {
				return 0, false, err
			}
			return db.AcquireLease(ctx, name, "b", 0) // expires at once
		}, 2, true},
		{"a's renewal fails: the lease changed hands", func() (int64, bool, error) { ok, err := db.RenewLease(ctx, name, "a", 1, ttl); return 0, ok, err }, 0, false},
		{"an expired lease is taken over", func() (int64, bool, error) { return db.AcquireLease(ctx, name, "a", ttl) }, 3, true},
		{"b's renewal with its old token fails", func() (int64, bool, error) { ok, err := db.RenewLease(ctx, name, "b", 2, ttl); return 0, ok, err }, 0, false},
	}
	for _, s := range steps {
		token, ok, err := s.do()
		if err != nil || token != s.wantToken || ok != s.wantOK {
			t.Fatalf("%s: = %d, %v, %v, want %d, %v, nil", s.name, token, ok, err, s.wantToken, s.wantOK)
		}
	}
	leases, err := db.Leases(ctx)
	if err != nil || len(leases) != 1 || leases[0].Holder != "a" || leases[0].Token != 3 {
		t.Errorf("Leases() = %+v, %v, want a holding token 3", leases, err)
	}
}

// TestFencing: a node that lost its lease writes nothing, whichever
// checkpoint it tries, and the new holder's writes go through.
func TestFencing(t *testing.T) {
	db, _ := openTemp(t)
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	tokenA, _, err := db.AcquireLease(ctx, "stages", "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	old := db.Fenced("stages", tokenA)
	if err := old.SaveDedupe(ctx, &store.DedupeCommit{Seq: 5}); err != nil {
		t.Fatalf("SaveDedupe by the holder = %v, want nil", err)
	}
	tokenB, ok, err := db.AcquireLease(ctx, "stages", "b", time.Minute)
	if err != nil || !ok {
		t.Fatalf("AcquireLease(b) after expiry = %v, %v, want true, nil", ok, err)
	}
	writes := []struct {
		name string
		do   func(*DB) error
	}{
		{"SaveDedupe", func(s *DB) error { return s.SaveDedupe(ctx, &store.DedupeCommit{Seq: 10}) }},
		{"SaveProfiles", func(s *DB) error { return s.SaveProfiles(ctx, &store.ProfileCommit{Seq: 10}) }},
		{"ResetDerived", func(s *DB) error { return s.ResetDerived(ctx) }},
	}
	for _, w := range writes {
		if err := w.do(old); !errors.Is(err, ErrFenced) {
			t.Errorf("%s by the old holder = %v, want ErrFenced", w.name, err)
		}
	}
	if seq, _, err := db.DedupeCheckpoint(ctx, time.Time{}); seq != 5 || err != nil {
		t.Errorf("DedupeCheckpoint after fenced writes = %d, %v, want 5, nil", seq, err)
	}
	if err := db.Fenced("stages", tokenB).SaveDedupe(ctx, &store.DedupeCommit{Seq: 10}); err != nil {
		t.Errorf("SaveDedupe by the new holder = %v, want nil", err)
	}
}

func TestNodes(t *testing.T) {
	db, _ := openTemp(t)
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	started := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"b", "a"} {
		if err := db.ReportNode(ctx, id, "http://"+id, started, map[string]int{"n": 1}, time.Hour); err != nil {
			t.Fatalf("ReportNode(%s) = %v", id, err)
		}
	}
	nodes, now, err := db.Nodes(ctx)
	if err != nil || len(nodes) != 2 || nodes[0].ID != "a" || nodes[1].URL != "http://b" || string(nodes[0].Status) != `{"n": 1}` {
		t.Fatalf("Nodes() = %+v, %v", nodes, err)
	}
	if nodes[0].SeenAt.After(now) || !nodes[0].StartedAt.Equal(started) {
		t.Errorf("node a seen %v, started %v; want seen by %v, started %v", nodes[0].SeenAt, nodes[0].StartedAt, now, started)
	}
}
