package privacy

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

func openCatalogStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "mosaic.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func names(list []Purpose) string { return FormatPurposes(list) }

// TestSeedPurposes: the flag seeds the stored purposes, replaces them when
// its value changes, and otherwise leaves runtime changes alone.
func TestSeedPurposes(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	defaults := FormatPurposes(DefaultPurposes())
	type step struct {
		flag  string
		add   string // a purpose added through the catalog after the step
		want  string
		wantE bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"no flag seeds the defaults", []step{{flag: "", want: defaults}}},
		{"flag seeds its list", []step{{flag: "necessary:granted, analytics", want: "necessary:granted,analytics"}}},
		{"runtime additions survive a restart without the flag", []step{
			{flag: "", add: "support_chat", want: defaults},
			{flag: "", want: defaults + ",support_chat"},
		}},
		{"runtime additions survive a restart with the same flag", []step{
			{flag: "necessary:granted,analytics", add: "support_chat", want: "necessary:granted,analytics"},
			{flag: " necessary:granted , analytics", want: "necessary:granted,analytics,support_chat"},
		}},
		{"a changed flag replaces the list", []step{
			{flag: "necessary:granted,analytics", add: "support_chat", want: "necessary:granted,analytics"},
			{flag: "necessary:granted,marketing", want: "necessary:granted,marketing"},
			{flag: "", want: "necessary:granted,marketing"},
		}},
		{"a bad flag changes nothing", []step{
			{flag: "necessary:granted,analytics", want: "necessary:granted,analytics"},
			{flag: "Analytics", wantE: true},
			{flag: "", want: "necessary:granted,analytics"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openCatalogStore(t)
			for i, s := range tt.steps {
				got, err := SeedPurposes(ctx, db, s.flag, now)
				if (err != nil) != s.wantE {
					t.Fatalf("step %d: SeedPurposes(%q) error = %v, want error %v", i, s.flag, err, s.wantE)
				}
				if err != nil {
					continue
				}
				if names(got) != s.want {
					t.Errorf("step %d: SeedPurposes(%q) = %s, want %s", i, s.flag, names(got), s.want)
				}
				if stored, _ := StoredPurposes(ctx, db); names(stored) != s.want {
					t.Errorf("step %d: stored = %s, want %s", i, names(stored), s.want)
				}
				if s.add != "" {
					cfg, _ := NewConfig(got, nil)
					if err := NewCatalog(db, NewObserver(cfg, db), false, nil).Add(ctx, Purpose{Name: s.add}); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

// TestCatalog: purposes added and removed through one node's catalog are
// in force there at once, and on another node after Refresh; the rules
// on names and on what can be removed hold.
func TestCatalog(t *testing.T) {
	ctx := context.Background()
	db := openCatalogStore(t)
	list, err := SeedPurposes(ctx, db, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	node := func() (*Catalog, *Observer) {
		cfg, err := NewPurposeConfig(list, false)
		if err != nil {
			t.Fatal(err)
		}
		obs := NewObserver(cfg, db)
		return NewCatalog(db, obs, false, nil), obs
	}
	a, obsA := node()
	b, obsB := node()
	if err := a.Add(ctx, Purpose{Name: "support_chat", Description: "Chat with support."}); err != nil {
		t.Fatal(err)
	}
	if !obsA.config().purposes.Has("support_chat") {
		t.Errorf("node A after Add: support_chat not in force")
	}
	if obsB.config().purposes.Has("support_chat") {
		t.Errorf("node B before Refresh: support_chat in force already")
	}
	if err := b.Refresh(ctx); err != nil || !obsB.config().purposes.Has("support_chat") {
		t.Errorf("node B after Refresh = %v: want support_chat in force", err)
	}
	tests := []struct {
		name string
		op   func() error
		code string
	}{
		{"add existing", func() error { return a.Add(ctx, Purpose{Name: "analytics"}) }, mosaic.ECONFLICT},
		{"add bad name", func() error { return a.Add(ctx, Purpose{Name: "Support Chat"}) }, mosaic.EINVALID},
		{"add empty name", func() error { return a.Add(ctx, Purpose{}) }, mosaic.EINVALID},
		{"add control in description", func() error { return a.Add(ctx, Purpose{Name: "x", Description: "a\nb"}) }, mosaic.EINVALID},
		{"remove necessary", func() error { return a.Remove(ctx, Necessary) }, mosaic.ECONFLICT},
		{"remove unknown", func() error { return a.Remove(ctx, "nope") }, mosaic.ENOTFOUND},
		{"remove a built-in", func() error { return a.Remove(ctx, Advertising) }, ""},
		{"remove added", func() error { return b.Remove(ctx, "support_chat") }, ""},
	}
	for _, tt := range tests {
		if err := tt.op(); mosaic.ErrorCode(err) != tt.code {
			t.Errorf("%s = %v, want code %q", tt.name, err, tt.code)
		}
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if ps := obsA.config().purposes; ps.Has("support_chat") || ps.Has(Advertising) || !ps.Has(Analytics) {
		t.Errorf("node A purposes = %s, want support_chat and advertising gone", ps.names())
	}
	// The last purpose cannot go.
	if err := db.ReplacePurposes(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(ctx, Purpose{Name: "only"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Remove(ctx, "only"); mosaic.ErrorCode(err) != mosaic.ECONFLICT {
		t.Errorf("Remove(last purpose) = %v, want ECONFLICT", err)
	}
}

// TestRuntimePurposeDecisions: a purpose added at runtime is accepted by
// the consent API's check and its decisions are recorded; after removal,
// it is refused again and never granted.
func TestRuntimePurposeDecisions(t *testing.T) {
	ctx := context.Background()
	db := openCatalogStore(t)
	list, err := SeedPurposes(ctx, db, "necessary:granted,marketing", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := NewPurposeConfig(list, false)
	obs := NewObserver(cfg, db)
	svc := NewService(obs, nil, nil, nil)
	cat := NewCatalog(db, obs, false, nil)
	req := SetRequest{Purposes: map[string]bool{"support_chat": true}}
	if err := svc.checkSet(&req); mosaic.ErrorCode(err) != mosaic.EINVALID {
		t.Errorf("checkSet(support_chat) before Add = %v, want EINVALID", err)
	}
	if err := cat.Add(ctx, Purpose{Name: "support_chat"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.checkSet(&req); err != nil {
		t.Errorf("checkSet(support_chat) after Add = %v, want nil", err)
	}
	rec := APIRecord{Purposes: map[string]bool{"support_chat": true}}
	ds := svc.Config().apiDecisions(&rec, func(p string, g bool, src, sig string) Decision { return Decision{Purpose: p, Granted: g} })
	if len(ds) != 1 || !ds[0].Granted {
		t.Errorf("decisions for support_chat after Add = %+v, want one grant", ds)
	}
	if err := cat.Remove(ctx, "support_chat"); err != nil {
		t.Fatal(err)
	}
	if err := svc.checkSet(&req); mosaic.ErrorCode(err) != mosaic.EINVALID {
		t.Errorf("checkSet(support_chat) after Remove = %v, want EINVALID", err)
	}
	if (State{"support_chat": {Granted: true}}).Granted(svc.Config().Purposes(), "support_chat") {
		t.Errorf("a removed purpose is granted, want never")
	}
}
