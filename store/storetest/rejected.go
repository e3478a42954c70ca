package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// rejected tests the quarantine: AddRejected and Rejected.
func (s suite) rejected(t *testing.T) {
	t.Run("IDs", s.rejectedIDs)
	t.Run("RoundTrip", s.rejectedRoundTrip)
	t.Run("Paging", s.rejectedPaging)
	t.Run("Isolation", s.rejectedIsolation)
	t.Run("Sources", s.rejectedSources)
}

// reject returns a quarantine entry for src with the given raw event.
func reject(src *mosaic.Source, i int, raw string) *mosaic.Rejected {
	return &mosaic.Rejected{
		SourceID: src.ID, ReceivedAt: at(time.Duration(i) * time.Millisecond), Index: i,
		Code: mosaic.EINVALIDJSON, Reason: "The event is not JSON: fix the sender.", Raw: []byte(raw),
	}
}

// keptRejected returns r as the store gives it back.
func keptRejected(r *mosaic.Rejected) *mosaic.Rejected {
	c := *r
	c.SourceID, c.Code, c.Reason = store.CleanText(c.SourceID), store.CleanText(c.Code), store.CleanText(c.Reason)
	c.ReceivedAt = kept(c.ReceivedAt)
	return &c
}

// mustReject adds entries to the quarantine or fails t.
func mustReject(t *testing.T, st store.Store, rs ...*mosaic.Rejected) {
	t.Helper()
	if err := st.AddRejected(t.Context(), rs); err != nil {
		t.Fatalf("AddRejected(%d entries) = %v, want nil", len(rs), err)
	}
}

// listRejected returns a source's whole quarantine or fails t.
func listRejected(t *testing.T, st store.Store, sourceID string) []*mosaic.Rejected {
	t.Helper()
	got, err := st.Rejected(t.Context(), sourceID, 0, 1<<20)
	if err != nil {
		t.Fatalf("Rejected(%q) = %v, want nil", sourceID, err)
	}
	return got
}

func (s suite) rejectedIDs(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	web := source("web", base)
	mustCreate(t, st, web)
	if err := st.AddRejected(t.Context(), nil); err != nil {
		t.Fatalf("AddRejected(nil) = %v, want nil", err)
	}
	var last int64
	for batch := range 3 {
		rs := []*mosaic.Rejected{reject(web, 0, "a"), reject(web, 1, "b"), reject(web, 2, "c")}
		mustReject(t, st, rs...)
		for i, r := range rs {
			if r.ID <= last {
				t.Errorf("batch %d: AddRejected set ID %d of entry %d after ID %d, want increasing positive IDs", batch, r.ID, i, last)
			}
			last = r.ID
		}
	}
}

func (s suite) rejectedRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name                 string
		raw                  []byte
		code, reason         string
		wantCode, wantReason string
	}{
		{"JSON", []byte(`{"type":"track"}`), mosaic.EMISSINGEVENT, "track needs an event name", "", ""},
		{"invalid UTF-8", []byte("{\"a\":\"\xff\xfe\xc3\x28\"}"), mosaic.EINVALIDJSON, "not UTF-8", "", ""},
		{"NUL bytes", []byte("\x00{\"a\":\x00}\x00"), mosaic.EINVALIDJSON, "NUL", "", ""},
		{"every byte value", all, mosaic.EINVALIDJSON, "binary", "", ""},
		{"empty", []byte{}, mosaic.EINVALIDJSON, "empty", "", ""},
		{"nil", nil, mosaic.EINVALIDJSON, "no body", "", ""},
		{"large", bytes.Repeat([]byte("x\x00\xff"), 20000), mosaic.ETOOLARGE, "over 32 KB", "", ""},
		{"unicode reason", []byte("{}"), mosaic.EINVALIDFIELD, "«userId» doit être un texte — 日本 🎉", "", ""},
		{"reason cleaned", []byte("{}"), "code\x00", "bad \xff\xfe byte\x00", "code", "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			web := source("web", base)
			mustCreate(t, st, web)
			in := &mosaic.Rejected{SourceID: web.ID, ReceivedAt: base, Index: 7, Code: tt.code, Reason: tt.reason, Raw: bytes.Clone(tt.raw)}
			mustReject(t, st, in)
			want := keptRejected(&mosaic.Rejected{ID: in.ID, SourceID: web.ID, ReceivedAt: base, Index: 7, Code: tt.code, Reason: tt.reason, Raw: tt.raw})
			if tt.wantCode != "" {
				want.Code, want.Reason = tt.wantCode, tt.wantReason
			}
			if in.Code != want.Code || in.Reason != want.Reason {
				t.Errorf("after AddRejected, Code, Reason = %q, %q; want %q, %q", in.Code, in.Reason, want.Code, want.Reason)
			}
			got := listRejected(t, st, web.ID)
			diff(t, "Rejected()", got, []*mosaic.Rejected{want})
			if len(got) == 1 {
				checkUTC(t, "Rejected().ReceivedAt", got[0].ReceivedAt)
			}
		})
	}
}

func (s suite) rejectedPaging(t *testing.T) {
	tests := []struct {
		name    string
		after   int // index into the five entries whose ID to page after; -1 for 0
		limit   int
		wantIdx []int
	}{
		{"all", -1, 10, []int{0, 1, 2, 3, 4}},
		{"exact limit", -1, 5, []int{0, 1, 2, 3, 4}},
		{"first page", -1, 2, []int{0, 1}},
		{"middle page", 1, 2, []int{2, 3}},
		{"last page", 3, 2, []int{4}},
		{"after the last", 4, 10, nil},
		{"zero limit", -1, 0, nil},
		{"negative limit", -1, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			web, app := source("web", base), source("app", base)
			mustCreate(t, st, web, app)
			var rs []*mosaic.Rejected
			for i := range 5 {
				// Entries of another source in between: IDs of one source
				// need not be contiguous.
				mustReject(t, st, reject(app, i, "other"))
				r := reject(web, i, strings.Repeat("x", i))
				mustReject(t, st, r)
				rs = append(rs, r)
			}
			var after int64
			if tt.after >= 0 {
				after = rs[tt.after].ID
			}
			got, err := st.Rejected(t.Context(), web.ID, after, tt.limit)
			if err != nil {
				t.Fatalf("Rejected(after %d, limit %d) = %v, want nil", after, tt.limit, err)
			}
			if got == nil {
				t.Errorf("Rejected(after %d, limit %d) = nil, want an empty slice", after, tt.limit)
			}
			var want []*mosaic.Rejected
			for _, i := range tt.wantIdx {
				want = append(want, keptRejected(rs[i]))
			}
			diff(t, "Rejected()", got, want)
		})
	}
}

func (s suite) rejectedIsolation(t *testing.T) {
	t.Parallel()
	st := s.newStore(t)
	web, app, other := source("web", base), source("app", base), source("other", base)
	mustCreate(t, st, web, app, other)
	batch := []*mosaic.Rejected{reject(web, 0, "w0"), reject(app, 1, "a1"), reject(web, 2, "w2")}
	mustReject(t, st, batch...)
	mustReject(t, st, reject(app, 0, "a0"))
	tests := []struct {
		sourceID string
		wantRaw  []string
	}{
		{web.ID, []string{"w0", "w2"}},
		{app.ID, []string{"a1", "a0"}},
		{other.ID, nil},
		{"unknown", nil},
	}
	for _, tt := range tests {
		var raws []string
		for _, r := range listRejected(t, st, tt.sourceID) {
			if r.SourceID != tt.sourceID {
				t.Errorf("Rejected(%q) listed an entry of %q", tt.sourceID, r.SourceID)
			}
			raws = append(raws, string(r.Raw))
		}
		diff(t, "Raw of Rejected("+tt.sourceID+")", raws, tt.wantRaw)
	}
}

func (s suite) rejectedSources(t *testing.T) {
	tests := []struct {
		name      string
		batch     func(web, gone *mosaic.Source) []*mosaic.Rejected
		wantCode  string
		wantStats map[string]int64 // source ID → Rejected
	}{
		{"deleted source accepted", func(web, gone *mosaic.Source) []*mosaic.Rejected {
			return []*mosaic.Rejected{reject(gone, 0, "late")}
		}, "", map[string]int64{"src_web": 0, "src_gone": 1}},
		{"unknown source", func(web, gone *mosaic.Source) []*mosaic.Rejected {
			return []*mosaic.Rejected{{SourceID: "nope", ReceivedAt: base, Raw: []byte("x")}}
		}, mosaic.ENOTFOUND, map[string]int64{"src_web": 0, "nope": 0}},
		{"unknown source stores nothing of the batch", func(web, gone *mosaic.Source) []*mosaic.Rejected {
			return []*mosaic.Rejected{reject(web, 0, "ok"), {SourceID: "nope", ReceivedAt: base, Raw: []byte("x")}}
		}, mosaic.ENOTFOUND, map[string]int64{"src_web": 0, "nope": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := s.newStore(t)
			web, gone := source("web", base), source("gone", base)
			mustCreate(t, st, web, gone)
			if err := st.DeleteSource(t.Context(), gone.ID); err != nil {
				t.Fatalf("DeleteSource = %v, want nil", err)
			}
			checkCode(t, "AddRejected", st.AddRejected(t.Context(), tt.batch(web, gone)), tt.wantCode)
			for id, want := range tt.wantStats {
				if n := int64(len(listRejected(t, st, id))); n != want {
					t.Errorf("len(Rejected(%q)) = %d, want %d", id, n, want)
				}
				if got := mustStats(t, st, id); got.Rejected != want {
					t.Errorf("Stats(%q).Rejected = %d, want %d", id, got.Rejected, want)
				}
			}
		})
	}
}
