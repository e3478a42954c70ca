package sqlite

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

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
		{name: "SQLite's words for a canceled context", ctx: canceled, err: io.ErrUnexpectedEOF,
			wantIs: []error{io.ErrUnexpectedEOF, context.Canceled}},
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
			if !strings.Contains(got.Error(), "do things") {
				t.Errorf("wrap() = %q, want it to name the operation", got)
			}
			if n := strings.Count(got.Error(), context.Canceled.Error()); n > 1 {
				t.Errorf("wrap() = %q, names the context error %d times, want once", got, n)
			}
			for _, target := range tt.wantIs {
				if !errors.Is(got, target) {
					t.Errorf("errors.Is(wrap(), %v) = false, want true", target)
				}
			}
		})
	}
}

func TestFileURI(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{"/data/mosaic.db", "file:/data/mosaic.db"},
		{"/data/a?b#c%d.db", "file:/data/a%3fb%23c%25d.db"},
		{"/data/../data//x.db", "file:/data/x.db"},
		{"/dossier données/bäse.db", "file:/dossier données/bäse.db"},
	}
	for _, tt := range tests {
		got, err := fileURI(tt.path)
		if err != nil || got != tt.want {
			t.Errorf("fileURI(%q) = %q, %v; want %q, nil", tt.path, got, err, tt.want)
		}
	}
}
