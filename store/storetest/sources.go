package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// sources tests CreateSource, Source, SourceByWriteKey, Sources and
// DeleteSource.
func (s suite) sources(t *testing.T) {
	t.Run("CreateAndGet", s.sourceCreateAndGet)
	t.Run("ListOrder", s.sourceListOrder)
	t.Run("Delete", s.sourceDelete)
	t.Run("Conflicts", s.sourceConflicts)
	t.Run("Invalid", s.sourceInvalid)
	t.Run("NotFound", s.sourceNotFound)
}

func (s suite) sourceCreateAndGet(t *testing.T) {
	tests := []struct {
		name string
		src  mosaic.Source
		want mosaic.Source // CreatedAt as given; the test applies kept
	}{
		{
			name: "plain",
			src:  mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk1", CreatedAt: base},
			want: mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk1", CreatedAt: base},
		},
		{
			name: "unicode name",
			src:  mosaic.Source{ID: "s1", Name: "Boutique Zürich 日本 🎉", WriteKey: "wk1", CreatedAt: base},
			want: mosaic.Source{ID: "s1", Name: "Boutique Zürich 日本 🎉", WriteKey: "wk1", CreatedAt: base},
		},
		{
			name: "invalid UTF-8 and NUL are cleaned",
			src:  mosaic.Source{ID: "s1", Name: "bad\xff\xfename\x00!", WriteKey: "wk1", CreatedAt: base},
			want: mosaic.Source{ID: "s1", Name: "bad\uFFFDname!", WriteKey: "wk1", CreatedAt: base},
		},
		{
			name: "long name",
			src:  mosaic.Source{ID: "s1", Name: strings.Repeat("ab", 2000), WriteKey: "wk1", CreatedAt: base},
			want: mosaic.Source{ID: "s1", Name: strings.Repeat("ab", 2000), WriteKey: "wk1", CreatedAt: base},
		},
		{
			name: "before 1970",
			src:  mosaic.Source{ID: "s1", Name: "old", WriteKey: "wk1", CreatedAt: time.Date(1969, 7, 20, 20, 17, 40, 999999999, time.UTC)},
			want: mosaic.Source{ID: "s1", Name: "old", WriteKey: "wk1", CreatedAt: time.Date(1969, 7, 20, 20, 17, 40, 999999999, time.UTC)},
		},
		{
			name: "far future",
			src:  mosaic.Source{ID: "s1", Name: "future", WriteKey: "wk1", CreatedAt: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
			want: mosaic.Source{ID: "s1", Name: "future", WriteKey: "wk1", CreatedAt: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			src := tt.src
			mustCreate(t, st, &src)
			want := keptSource(&tt.want)
			if src.Name != want.Name {
				t.Errorf("after CreateSource, src.Name = %q, want %q", src.Name, want.Name)
			}
			checkStoredSource(t, st, want)
		})
	}
}

// checkStoredSource fails t unless want can be read back every way.
func checkStoredSource(t *testing.T, st store.Store, want *mosaic.Source) {
	t.Helper()
	ctx := t.Context()
	got, err := st.Source(ctx, want.ID)
	if err != nil {
		t.Fatalf("Source(%q) = %v, want nil", want.ID, err)
	}
	diff(t, "Source("+want.ID+")", got, want)
	checkUTC(t, "Source().CreatedAt", got.CreatedAt)
	got, err = st.SourceByWriteKey(ctx, want.WriteKey)
	if err != nil {
		t.Fatalf("SourceByWriteKey(%q) = %v, want nil", want.WriteKey, err)
	}
	diff(t, "SourceByWriteKey("+want.WriteKey+")", got, want)
	list, err := st.Sources(ctx)
	if err != nil {
		t.Fatalf("Sources() = %v, want nil", err)
	}
	diff(t, "Sources()", list, []*mosaic.Source{want})
}

func (s suite) sourceListOrder(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	ctx := t.Context()
	if list, err := st.Sources(ctx); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("Sources() on an empty store = %#v, %v; want an empty slice, nil", list, err)
	}
	a, b, c := source("a", at(time.Hour)), source("b", at(2*time.Hour)), source("c", at(3*time.Hour))
	d := source("d", at(time.Hour)) // same time as a: ID breaks the tie
	gone := source("gone", at(0))
	mustCreate(t, st, c, d, gone, b, a)
	if err := st.DeleteSource(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteSource(%q) = %v, want nil", gone.ID, err)
	}
	got, err := st.Sources(ctx)
	if err != nil {
		t.Fatalf("Sources() = %v, want nil", err)
	}
	diff(t, "Sources()", got, []*mosaic.Source{keptSource(a), keptSource(d), keptSource(b), keptSource(c)})
}

func (s suite) sourceDelete(t *testing.T) {
	lookups := []struct {
		name string
		call func(st store.Store, t *testing.T, src *mosaic.Source) error
	}{
		{"Source", func(st store.Store, t *testing.T, src *mosaic.Source) error {
			_, err := st.Source(t.Context(), src.ID)
			return err
		}},
		{"SourceByWriteKey", func(st store.Store, t *testing.T, src *mosaic.Source) error {
			_, err := st.SourceByWriteKey(t.Context(), src.WriteKey)
			return err
		}},
		{"DeleteSource again", func(st store.Store, t *testing.T, src *mosaic.Source) error {
			return st.DeleteSource(t.Context(), src.ID)
		}},
	}
	for _, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			gone, other := source("gone", at(0)), source("other", at(time.Second))
			mustCreate(t, st, gone, other)
			if err := st.DeleteSource(t.Context(), gone.ID); err != nil {
				t.Fatalf("DeleteSource(%q) = %v, want nil", gone.ID, err)
			}
			checkCode(t, tt.name+" of a deleted source", tt.call(st, t, gone), mosaic.ENOTFOUND)
			checkStoredSource(t, st, keptSource(other))
		})
	}
}

func (s suite) sourceConflicts(t *testing.T) {
	tests := []struct {
		name       string
		deleteWeb  bool // delete the first source before creating the second
		second     mosaic.Source
		wantCode   string
		wantActive []string // IDs listed by Sources afterwards
	}{
		{"same name", false, mosaic.Source{ID: "s2", Name: "web", WriteKey: "wk2"}, mosaic.ECONFLICT, []string{"s1"}},
		{"same write key", false, mosaic.Source{ID: "s2", Name: "app", WriteKey: "wk1"}, mosaic.ECONFLICT, []string{"s1"}},
		{"same ID", false, mosaic.Source{ID: "s1", Name: "app", WriteKey: "wk2"}, mosaic.ECONFLICT, []string{"s1"}},
		{"same name once cleaned", false, mosaic.Source{ID: "s2", Name: "w\x00eb", WriteKey: "wk2"}, mosaic.ECONFLICT, []string{"s1"}},
		{"name differing in case", false, mosaic.Source{ID: "s2", Name: "Web", WriteKey: "wk2"}, "", []string{"s1", "s2"}},
		{"name of a deleted source", true, mosaic.Source{ID: "s2", Name: "web", WriteKey: "wk2"}, "", []string{"s2"}},
		{"write key of a deleted source", true, mosaic.Source{ID: "s2", Name: "app", WriteKey: "wk1"}, "", []string{"s2"}},
		{"ID of a deleted source", true, mosaic.Source{ID: "s1", Name: "app", WriteKey: "wk2"}, mosaic.ECONFLICT, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			ctx := t.Context()
			mustCreate(t, st, &mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk1", CreatedAt: at(0)})
			if tt.deleteWeb {
				if err := st.DeleteSource(ctx, "s1"); err != nil {
					t.Fatalf("DeleteSource(s1) = %v, want nil", err)
				}
			}
			second := tt.second
			second.CreatedAt = at(time.Second)
			checkCode(t, "CreateSource(second)", st.CreateSource(ctx, &second), tt.wantCode)
			list, err := st.Sources(ctx)
			if err != nil {
				t.Fatalf("Sources() = %v, want nil", err)
			}
			var ids []string
			for _, src := range list {
				ids = append(ids, src.ID)
			}
			diff(t, "IDs of Sources()", ids, tt.wantActive)
		})
	}
}

func (s suite) sourceInvalid(t *testing.T) {
	tests := []struct {
		name string
		src  mosaic.Source
	}{
		{"empty ID", mosaic.Source{Name: "web", WriteKey: "wk1", CreatedAt: base}},
		{"empty write key", mosaic.Source{ID: "s1", Name: "web", CreatedAt: base}},
		{"write key empty once cleaned", mosaic.Source{ID: "s1", Name: "web", WriteKey: "\x00", CreatedAt: base}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			src := tt.src
			checkCode(t, "CreateSource", st.CreateSource(t.Context(), &src), mosaic.EINVALID)
			if list, err := st.Sources(t.Context()); err != nil || len(list) != 0 {
				t.Errorf("Sources() = %v, %v; want none, nil", list, err)
			}
		})
	}
}

func (s suite) sourceNotFound(t *testing.T) {
	tests := []struct {
		name string
		call func(st store.Store, t *testing.T) error
	}{
		{"Source unknown", func(st store.Store, t *testing.T) error { _, err := st.Source(t.Context(), "nope"); return err }},
		{"Source empty", func(st store.Store, t *testing.T) error { _, err := st.Source(t.Context(), ""); return err }},
		{"SourceByWriteKey unknown", func(st store.Store, t *testing.T) error {
			_, err := st.SourceByWriteKey(t.Context(), "nope")
			return err
		}},
		{"SourceByWriteKey empty", func(st store.Store, t *testing.T) error {
			_, err := st.SourceByWriteKey(t.Context(), "")
			return err
		}},
		{"SourceByWriteKey is not an ID", func(st store.Store, t *testing.T) error {
			_, err := st.SourceByWriteKey(t.Context(), "src_web")
			return err
		}},
		{"DeleteSource unknown", func(st store.Store, t *testing.T) error { return st.DeleteSource(t.Context(), "nope") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			mustCreate(t, st, source("web", base))
			checkCode(t, tt.name, tt.call(st, t), mosaic.ENOTFOUND)
		})
	}
}
