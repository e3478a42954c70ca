package storetest

import (
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// schema tests the schema stage's fields and position and the violation
// counts.
func (s suite) schema(t *testing.T) {
	t.Run("MergeAndReplay", s.schemaMerge)
	t.Run("QueryAndPages", s.schemaQuery)
	t.Run("Reset", s.schemaReset)
	t.Run("Violations", s.violations)
}

func field(src, kind, event, name string, types uint32, count int64, first, last time.Duration) store.SchemaField {
	return store.SchemaField{SourceID: src, Kind: kind, Event: event, Name: name, Types: types, Count: count,
		FirstSeen: at(first), LastSeen: at(last)}
}

// keptField returns f as the store gives it back.
func keptField(f store.SchemaField) store.SchemaField {
	f.FirstSeen, f.LastSeen = kept(f.FirstSeen), kept(f.LastSeen)
	return f
}

func mustSaveSchema(t *testing.T, st store.Store, seq uint64, fields ...store.SchemaField) {
	t.Helper()
	if err := st.SaveSchema(t.Context(), &store.SchemaCommit{Seq: seq, Fields: fields}); err != nil {
		t.Fatalf("SaveSchema(seq %d) = %v, want nil", seq, err)
	}
}

func allFields(t *testing.T, st store.Store, q store.SchemaQuery) []store.SchemaField {
	t.Helper()
	q.Limit = 1000
	got, err := st.SchemaFields(t.Context(), q)
	if err != nil {
		t.Fatalf("SchemaFields(%+v) = %v, want nil", q, err)
	}
	return got
}

func (s suite) schemaMerge(t *testing.T) {
	st := s.newStore(t)
	if seq, err := st.SchemaPosition(t.Context()); err != nil || seq != 0 {
		t.Fatalf("SchemaPosition() of a new store = %d, %v, want 0, nil", seq, err)
	}
	mustSaveSchema(t, st, 10,
		field("src_web", store.SchemaEvent, "Order Completed", "", 0, 2, time.Hour, 2*time.Hour),
		field("src_web", store.SchemaProperty, "Order Completed", "total", 1, 2, time.Hour, 2*time.Hour))
	mustSaveSchema(t, st, 20,
		field("src_web", store.SchemaEvent, "Order Completed", "", 0, 1, 0, time.Hour),
		field("src_web", store.SchemaProperty, "Order Completed", "total", 4, 1, 3*time.Hour, 3*time.Hour),
		// Equal once cleaned: merged with each other.
		field("src_web", store.SchemaTrait, "", "na\x00me", 1, 1, time.Hour, time.Hour),
		field("src_web", store.SchemaTrait, "", "name", 2, 1, 2*time.Hour, 2*time.Hour))
	// A replay of a saved position adds nothing.
	mustSaveSchema(t, st, 20, field("src_web", store.SchemaEvent, "Order Completed", "", 0, 5, 0, 0))
	mustSaveSchema(t, st, 15, field("src_web", store.SchemaEvent, "Order Completed", "", 0, 5, 0, 0))
	if seq, err := st.SchemaPosition(t.Context()); err != nil || seq != 20 {
		t.Errorf("SchemaPosition() = %d, %v, want 20, nil", seq, err)
	}
	want := []store.SchemaField{
		keptField(field("src_web", store.SchemaEvent, "Order Completed", "", 0, 3, 0, 2*time.Hour)),
		keptField(field("src_web", store.SchemaProperty, "Order Completed", "total", 5, 3, time.Hour, 3*time.Hour)),
		keptField(field("src_web", store.SchemaTrait, "", "name", 3, 2, time.Hour, 2*time.Hour)),
	}
	got := allFields(t, st, store.SchemaQuery{})
	diff(t, "SchemaFields(all)", got, want)
	for _, f := range got {
		checkUTC(t, "FirstSeen", f.FirstSeen)
		checkUTC(t, "LastSeen", f.LastSeen)
	}
}

func (s suite) schemaQuery(t *testing.T) {
	st := s.newStore(t)
	fields := []store.SchemaField{ // in key order: byte order, upper case before lower case
		field("src_app", store.SchemaEvent, "Signed Up", "", 0, 1, 0, 0),
		field("src_web", store.SchemaEvent, "Order Completed", "", 0, 1, 0, 5*time.Hour),
		field("src_web", store.SchemaEvent, "Viewed", "", 0, 1, 0, time.Hour),
		field("src_web", store.SchemaProperty, "Order Completed", "Zeta", 1, 1, 0, 5*time.Hour),
		field("src_web", store.SchemaProperty, "Order Completed", "alpha", 1, 1, 0, 0),
		field("src_web", store.SchemaProperty, "Order Completed", "alpha.beta", 1, 1, 0, 0),
		field("src_web", store.SchemaProperty, "Order Completed", "é", 1, 1, 0, 0),
		field("src_web", store.SchemaProperty, "Viewed", "url", 1, 1, 0, 0),
		field("src_web", store.SchemaTrait, "", "email", 1, 1, 0, 0),
	}
	mustSaveSchema(t, st, 1, fields...)
	want := make([]store.SchemaField, len(fields))
	for i, f := range fields {
		want[i] = keptField(f)
	}
	diff(t, "SchemaFields(all)", allFields(t, st, store.SchemaQuery{}), want)

	t.Run("Filters", func(t *testing.T) {
		tests := []struct {
			name string
			q    store.SchemaQuery
			want []store.SchemaField
		}{
			{"source", store.SchemaQuery{SourceID: "src_app"}, want[:1]},
			{"kind", store.SchemaQuery{SourceID: "src_web", Kind: store.SchemaEvent}, want[1:3]},
			{"event", store.SchemaQuery{Kind: store.SchemaProperty, Event: "Order Completed"}, want[3:7]},
			{"seen since", store.SchemaQuery{SeenSince: at(time.Hour)}, []store.SchemaField{want[1], want[2], want[3]}},
			{"unknown source", store.SchemaQuery{SourceID: "src_none"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				diff(t, "SchemaFields", allFields(t, st, tt.q), tt.want)
			})
		}
	})

	t.Run("Pages", func(t *testing.T) {
		var got []store.SchemaField
		q := store.SchemaQuery{Limit: 2}
		for range len(fields) {
			page, err := st.SchemaFields(t.Context(), q)
			if err != nil {
				t.Fatalf("SchemaFields(%+v) = %v, want nil", q, err)
			}
			if len(page) > 2 {
				t.Fatalf("len(SchemaFields(limit 2)) = %d, want at most 2", len(page))
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			k := page[len(page)-1].Key()
			q.After = &k
		}
		diff(t, "SchemaFields pages", got, want)
		if page, err := st.SchemaFields(t.Context(), store.SchemaQuery{}); err != nil || len(page) != 0 {
			t.Errorf("SchemaFields(limit 0) = %d fields, %v, want 0, nil", len(page), err)
		}
	})
}

func (s suite) schemaReset(t *testing.T) {
	st := s.newStore(t)
	mustCreate(t, st, source("web", base))
	mustSaveSchema(t, st, 7, field("src_web", store.SchemaEvent, "Viewed", "", 0, 1, 0, 0))
	mustAddViolations(t, st, violation("src_web", "Viewed", "", "unplanned", 1, 0))
	if err := st.ResetDerived(t.Context()); err != nil {
		t.Fatalf("ResetDerived() = %v, want nil", err)
	}
	if seq, err := st.SchemaPosition(t.Context()); err != nil || seq != 0 {
		t.Errorf("SchemaPosition() after ResetDerived = %d, %v, want 0, nil", seq, err)
	}
	diff(t, "SchemaFields after ResetDerived", allFields(t, st, store.SchemaQuery{}), []store.SchemaField(nil))
	if got := mustViolations(t, st, "src_web"); len(got) != 1 {
		t.Errorf("len(Violations) after ResetDerived = %d, want 1: they are not derived from the log", len(got))
	}
	// A replay from the start counts again.
	mustSaveSchema(t, st, 7, field("src_web", store.SchemaEvent, "Viewed", "", 0, 1, 0, 0))
	if got := allFields(t, st, store.SchemaQuery{}); len(got) != 1 || got[0].Count != 1 {
		t.Errorf("SchemaFields after a replay = %+v, want one field with count 1", got)
	}
}

func violation(src, event, prop, kw string, count int64, seen time.Duration) store.ViolationCount {
	return store.ViolationCount{SourceID: src, Event: event, Property: prop, Keyword: kw, Message: kw + " message",
		Count: count, FirstSeen: at(seen), LastSeen: at(seen), Example: []byte(`{"event":"` + event + `"}`)}
}

func mustAddViolations(t *testing.T, st store.Store, rows ...store.ViolationCount) {
	t.Helper()
	if err := st.AddViolations(t.Context(), rows); err != nil {
		t.Fatalf("AddViolations() = %v, want nil", err)
	}
}

func mustViolations(t *testing.T, st store.Store, src string) []store.ViolationCount {
	t.Helper()
	got, err := st.Violations(t.Context(), src)
	if err != nil {
		t.Fatalf("Violations(%s) = %v, want nil", src, err)
	}
	return got
}

func (s suite) violations(t *testing.T) {
	st := s.newStore(t)
	mustCreate(t, st, source("web", base), source("app", base))
	first := violation("src_web", "Order Completed", "total", "type", 2, time.Hour)
	first.Example = []byte("\x00not json, kept byte for byte\xff")
	mustAddViolations(t, st, first, violation("src_web", "Order Completed", "", "required", 1, 0),
		violation("src_app", "Signed Up", "", "unplanned", 1, 0))
	later := violation("src_web", "Order Completed", "total", "type", 3, 3*time.Hour)
	later.Message = "newer message"
	earlier := violation("src_web", "Order Completed", "total", "type", 1, 0)
	mustAddViolations(t, st, later)
	mustAddViolations(t, st, earlier)

	wantTotal := store.ViolationCount{SourceID: "src_web", Event: "Order Completed", Property: "total", Keyword: "type",
		Message: "type message", Count: 6, FirstSeen: kept(at(0)), LastSeen: kept(at(3 * time.Hour)), Example: first.Example}
	req := violation("src_web", "Order Completed", "", "required", 1, 0)
	req.FirstSeen, req.LastSeen = kept(req.FirstSeen), kept(req.LastSeen)
	diff(t, "Violations(src_web)", mustViolations(t, st, "src_web"), []store.ViolationCount{req, wantTotal})
	if got := mustViolations(t, st, "src_none"); len(got) != 0 {
		t.Errorf("Violations(unknown source) = %+v, want none", got)
	}

	err := st.AddViolations(t.Context(), []store.ViolationCount{
		violation("src_app", "Signed Up", "", "unplanned", 5, 0), violation("src_none", "x", "", "unplanned", 1, 0)})
	checkCode(t, "AddViolations(unknown source)", err, mosaic.ENOTFOUND)
	if got := mustViolations(t, st, "src_app"); len(got) != 1 || got[0].Count != 1 {
		t.Errorf("Violations(src_app) after a failed AddViolations = %+v, want count 1: all or none", got)
	}
}
