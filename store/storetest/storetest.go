// Package storetest is the contract suite of store.Store. Every
// implementation runs it from its own tests:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
//
// The suite checks behaviour only through the interface, so a store that
// passes it can replace another without the rest of Mosaic noticing.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// Run runs the contract suite against the stores open returns. open must
// return a new, empty store on each call and may be called from parallel
// subtests; it should fail t if it cannot. Run closes every store it opens and
// fails if Close does.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	s := suite{open: open}
	t.Run("Sources", s.sources)
	t.Run("Settings", s.settings)
	t.Run("Rejected", s.rejected)
	t.Run("Stats", s.stats)
	t.Run("Dedupe", s.dedupe)
	t.Run("Concurrency", s.concurrency)
	t.Run("Reset", s.reset)
	t.Run("Context", s.canceled)
	t.Run("Outbox", s.outbox)
	t.Run("Segments", s.segments)
	t.Run("SegmentsMany", s.segmentsMany)
	t.Run("Schema", s.schema)
	t.Run("Predict", s.predict)
	t.Run("Consent", s.consent)
	t.Run("Audit", s.audit)
	t.Run("Tokens", s.tokens)
	t.Run("Privacy", s.privacy)
	t.Run("Deletions", s.deletions)
	t.Run("Users", s.users)
	t.Run("Purposes", s.purposes)
	t.Run("Logins", s.logins)
	t.Run("TimelineSeqs", s.timelineSeqs)
	t.Run("AudienceTimeline", s.audienceTimeline)
	t.Run("EraseProfiles", s.eraseProfiles)
	t.Run("EraseExtras", s.eraseExtras)
	t.Run("Profiles", func(t *testing.T) {
		RunProfiles(t, func(t *testing.T) interface {
			store.ProfileStore
			Close() error
		} {
			return open(t)
		})
	})
}

// suite carries the opener to the test groups.
type suite struct {
	open func(t *testing.T) store.Store
}

// newStore opens a fresh store that is closed when t ends.
func (s suite) newStore(t *testing.T) store.Store {
	t.Helper()
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
	})
	return st
}

// base is the suite's reference time. It has nanoseconds and a zone other
// than UTC on purpose: stores keep microseconds and answer in UTC.
var base = time.Date(2026, time.March, 1, 12, 0, 0, 123456789, time.FixedZone("UTC+1", 3600))

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// kept returns t as a store gives it back: to the microsecond, in UTC.
func kept(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// equateEmpty makes nil and empty slices and maps compare equal: the
// contract does not distinguish them.
var equateEmpty = cmpopts.EquateEmpty()

// source returns a source whose ID and write key derive from name.
func source(name string, created time.Time) *mosaic.Source {
	return &mosaic.Source{ID: "src_" + name, Name: name, WriteKey: "wk_" + name, CreatedAt: created}
}

// keptSource returns src as the store gives it back.
func keptSource(src *mosaic.Source) *mosaic.Source {
	c := *src
	c.ID, c.Name, c.WriteKey = store.CleanText(c.ID), store.CleanText(c.Name), store.CleanText(c.WriteKey)
	c.CreatedAt = kept(c.CreatedAt)
	return &c
}

// mustCreate creates sources or fails t.
func mustCreate(t *testing.T, st store.Store, srcs ...*mosaic.Source) {
	t.Helper()
	for _, src := range srcs {
		if err := st.CreateSource(t.Context(), src); err != nil {
			t.Fatalf("CreateSource(%q) = %v, want nil", src.ID, err)
		}
	}
}

// checkCode fails t unless err carries code, "" meaning no error. Errors
// with a code other than EINTERNAL must be a *mosaic.Error with a message a
// user can read.
func checkCode(t *testing.T, op string, err error, code string) {
	t.Helper()
	if got := mosaic.ErrorCode(err); got != code {
		t.Errorf("%s error = %v (code %q), want code %q", op, err, got, code)
		return
	}
	if code == "" || code == mosaic.EINTERNAL {
		return
	}
	var e *mosaic.Error
	if !errors.As(err, &e) || e.Message == "" {
		t.Errorf("%s error = %#v, want a *mosaic.Error with a message", op, err)
	}
}

// checkUTC fails t unless tm is in UTC, as every time a store returns.
func checkUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, tm.Location())
	}
}

// diff fails t with a readable diff unless got equals want.
func diff(t *testing.T, op string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, equateEmpty); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", op, d)
	}
}
