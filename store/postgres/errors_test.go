package postgres

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mosaic-cdp/mosaic"
)

func TestWrap(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	userErr := mosaic.Errorf(mosaic.ENOTFOUND, "Source %q not found.", "s1")
	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		wantNil  bool
		wantSame bool    // returned unchanged
		wantIs   []error // errors.Is must hold for each
	}{
		{name: "nil", ctx: context.Background(), err: nil, wantNil: true},
		{name: "user error passes through", ctx: context.Background(), err: userErr, wantSame: true},
		{name: "internal error", ctx: context.Background(), err: io.ErrUnexpectedEOF, wantIs: []error{io.ErrUnexpectedEOF}},
		{name: "the server's words for a canceled statement", ctx: canceled, err: &pgconn.PgError{Code: "57014"},
			wantIs: []error{context.Canceled}},
		{name: "context error not wrapped twice", ctx: canceled, err: context.Canceled, wantIs: []error{context.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(tt.ctx, "do things", tt.err)
			switch {
			case tt.wantNil:
				if got != nil {
					t.Errorf("wrap(nil) = %v, want nil", got)
				}
				return
			case tt.wantSame:
				if got != tt.err {
					t.Errorf("wrap(%v) = %v, want it unchanged", tt.err, got)
				}
				return
			}
			if !strings.HasPrefix(got.Error(), "postgres: do things: ") {
				t.Errorf("wrap() = %q, want it to name the store and the operation", got)
			}
			if n := strings.Count(got.Error(), context.Canceled.Error()); n > 1 {
				t.Errorf("wrap() = %q, names the context error %d times, want once", got, n)
			}
			for _, target := range append(tt.wantIs, tt.err) {
				if !errors.Is(got, target) {
					t.Errorf("errors.Is(wrap(), %v) = false, want true", target)
				}
			}
		})
	}
}

func TestViolatedUnique(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unique violation", &pgconn.PgError{Code: uniqueViolation, ConstraintName: "sources_active_name"}, "sources_active_name"},
		{"wrapped", errors.Join(io.EOF, &pgconn.PgError{Code: uniqueViolation, ConstraintName: "sources_pkey"}), "sources_pkey"},
		{"other server error", &pgconn.PgError{Code: "23503", ConstraintName: "rejected_source_id_fkey"}, ""},
		{"not a server error", io.EOF, ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := violatedUnique(tt.err); got != tt.want {
				t.Errorf("violatedUnique(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
