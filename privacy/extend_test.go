package privacy

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

func TestExtend(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mosaic.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := t0
	r, err := NewRequests(db, nil, []byte("secret"), RequestOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	create := func(law string) string {
		t.Helper()
		req, err := r.Create(ctx, RequestInput{Type: RequestAccess, Law: law, Identifier: identity.Identifier{Type: "email", Value: "a@b.nl"}}, "dpo")
		if err != nil {
			t.Fatal(err)
		}
		return req.ID
	}
	for _, c := range []struct {
		name string
		law  string
		in   ExtendInput
		due  time.Time // zero: an error with code
		code string
	}{
		{"gdpr default two months", LawGDPR, ExtendInput{Reason: "many requests"}, t0.AddDate(0, 3, 0), ""},
		{"gdpr one month", LawGDPR, ExtendInput{Months: 1, Reason: "complex"}, t0.AddDate(0, 2, 0), ""},
		{"gdpr three months", LawGDPR, ExtendInput{Months: 3, Reason: "complex"}, time.Time{}, mosaic.EINVALID},
		{"gdpr negative", LawGDPR, ExtendInput{Months: -1, Reason: "complex"}, time.Time{}, mosaic.EINVALID},
		{"no reason", LawGDPR, ExtendInput{Months: 2, Reason: "  "}, time.Time{}, mosaic.EINVALID},
		{"ccpa 45 days", LawCCPA, ExtendInput{Reason: "complex"}, t0.AddDate(0, 0, 90), ""},
		{"ccpa with months", LawCCPA, ExtendInput{Months: 1, Reason: "complex"}, time.Time{}, mosaic.EINVALID},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := create(c.law)
			got, err := r.Extend(ctx, id, c.in)
			if c.code != "" {
				if mosaic.ErrorCode(err) != c.code {
					t.Fatalf("Extend(%+v) = %v, want %s", c.in, err, c.code)
				}
				if req, _ := r.Get(ctx, id); req.ExtendedAt != nil {
					t.Errorf("a refused extension was recorded: %+v", req)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extend(%+v) = %v", c.in, err)
			}
			if !got.DueAt.Equal(c.due) || got.ExtendedAt == nil || got.ExtensionReason != c.in.Reason {
				t.Errorf("Extend(%+v) = due %s, extended %v %q; want due %s with the reason", c.in, got.DueAt, got.ExtendedAt, got.ExtensionReason, c.due)
			}
			if _, err := r.Extend(ctx, id, c.in); mosaic.ErrorCode(err) != mosaic.ECONFLICT {
				t.Errorf("Extend a second time = %v, want ECONFLICT", err)
			}
		})
	}
	t.Run("closed request", func(t *testing.T) {
		id := create(LawGDPR)
		req, _ := r.Get(ctx, id)
		req.Status = StatusCompleted
		if err := db.UpdatePrivacyRequest(ctx, req); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Extend(ctx, id, ExtendInput{Reason: "late"}); mosaic.ErrorCode(err) != mosaic.ECONFLICT {
			t.Errorf("Extend(completed) = %v, want ECONFLICT", err)
		}
	})
	t.Run("unknown request", func(t *testing.T) {
		if _, err := r.Extend(ctx, "nope", ExtendInput{Reason: "x"}); mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
			t.Errorf("Extend(unknown) = %v, want ENOTFOUND", err)
		}
	})
}
