package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// purposes checks the stored consent purposes.
func (s suite) purposes(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	if got, err := st.Purposes(ctx); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Purposes(new store) = %v, %v, want empty and not nil", got, err)
	}
	necessary := &store.Purpose{Name: "necessary", Description: "Strictly necessary.", Granted: true, CreatedAt: kept(at(0))}
	analytics := &store.Purpose{Name: "analytics", CreatedAt: kept(at(0))}
	if err := st.ReplacePurposes(ctx, []*store.Purpose{necessary, analytics}); err != nil {
		t.Fatal(err)
	}
	chat := &store.Purpose{Name: "support_chat", Description: "Chat with support.\x00", CreatedAt: kept(at(time.Minute))}
	if err := st.AddPurpose(ctx, chat); err != nil {
		t.Fatal(err)
	}
	if chat.Description != "Chat with support." {
		t.Errorf("AddPurpose set Description = %q, want it cleaned", chat.Description)
	}
	want := []*store.Purpose{necessary, analytics, chat}
	if got, err := st.Purposes(ctx); err != nil || !cmp.Equal(got, want) {
		t.Errorf("Purposes = %v, %v, want %v in the order added", got, err, cmp.Diff(want, got))
	}
	checkCode(t, "AddPurpose(existing)", st.AddPurpose(ctx, &store.Purpose{Name: "analytics", CreatedAt: at(0)}), mosaic.ECONFLICT)
	checkCode(t, "AddPurpose(no name)", st.AddPurpose(ctx, &store.Purpose{CreatedAt: at(0)}), mosaic.EINVALID)
	checkCode(t, "DeletePurpose(unknown)", st.DeletePurpose(ctx, "nope"), mosaic.ENOTFOUND)
	if err := st.DeletePurpose(ctx, "analytics"); err != nil {
		t.Fatal(err)
	}
	// A purpose added after a deletion still goes last.
	ads := &store.Purpose{Name: "advertising", CreatedAt: kept(at(2 * time.Minute))}
	if err := st.AddPurpose(ctx, ads); err != nil {
		t.Fatal(err)
	}
	want = []*store.Purpose{necessary, chat, ads}
	if got, _ := st.Purposes(ctx); !cmp.Equal(got, want) {
		t.Errorf("Purposes after delete and add = %v", cmp.Diff(want, got))
	}
	// Replace is all or nothing.
	checkCode(t, "ReplacePurposes(repeated)", st.ReplacePurposes(ctx, []*store.Purpose{analytics, analytics}), mosaic.EINVALID)
	checkCode(t, "ReplacePurposes(no name)", st.ReplacePurposes(ctx, []*store.Purpose{analytics, {}}), mosaic.EINVALID)
	if got, _ := st.Purposes(ctx); !cmp.Equal(got, want) {
		t.Errorf("Purposes after refused replaces = %v, want unchanged", cmp.Diff(want, got))
	}
	if err := st.ReplacePurposes(ctx, []*store.Purpose{ads, necessary}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Purposes(ctx); !cmp.Equal(got, []*store.Purpose{ads, necessary}) {
		t.Errorf("Purposes after replace = %v, want advertising, necessary", got)
	}
	if err := st.ResetDerived(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Purposes(ctx); len(got) != 2 {
		t.Errorf("Purposes after ResetDerived = %v, want kept: they are configuration", got)
	}
}

// logins checks the attempts the login limiter counts.
func (s suite) logins(t *testing.T) {
	ctx := context.Background()
	st := s.newStore(t)
	window := 15 * time.Minute
	begin := func(key string, now time.Time) (int64, int) {
		t.Helper()
		id, n, err := st.BeginLogin(ctx, key, now, now.Add(-window))
		if err != nil {
			t.Fatalf("BeginLogin(%s) = %v", key, err)
		}
		return id, n
	}
	tests := []struct {
		name   string
		key    string
		at     time.Duration
		forget bool // the attempt was no failure
		want   int
	}{
		{"first", "a", 0, false, 1},
		{"second", "a", time.Minute, false, 2},
		{"other key counts apart", "b", time.Minute, false, 1},
		{"a success is forgotten", "a", 2 * time.Minute, true, 3},
		{"forgotten not counted", "a", 3 * time.Minute, false, 3},
		{"first aged out", "a", window + 30*time.Second, false, 3},
		{"all aged out", "a", 2*window + 31*time.Second, false, 1},
	}
	ids := map[int64]bool{}
	for _, tt := range tests {
		id, n := begin(tt.key, at(tt.at))
		if n != tt.want {
			t.Errorf("%s: BeginLogin(%s, +%s) counts %d attempts, want %d", tt.name, tt.key, tt.at, n, tt.want)
		}
		if id <= 0 || ids[id] {
			t.Errorf("%s: BeginLogin ID = %d, want a new positive ID", tt.name, id)
		}
		ids[id] = true
		if tt.forget {
			if err := st.ForgetLogin(ctx, id); err != nil {
				t.Fatal(err)
			}
			if err := st.ForgetLogin(ctx, id); err != nil {
				t.Errorf("ForgetLogin twice = %v, want nil", err)
			}
		}
	}

	// Attempts begun at once each see the others: the counts are 1..n,
	// every one once, so a limit of n-1 lets exactly n-1 through.
	const n = 8
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	now := at(time.Hour)
	for range n {
		wg.Go(func() {
			_, c, err := st.BeginLogin(ctx, "c", now, now.Add(-window))
			if err != nil {
				t.Errorf("concurrent BeginLogin = %v", err)
				return
			}
			mu.Lock()
			seen[c] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	for i := 1; i <= n; i++ {
		if !seen[i] {
			t.Errorf("concurrent BeginLogin counts = %v, want each of 1..%d once", seen, n)
			break
		}
	}
}
