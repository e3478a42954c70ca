package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/mosaic-cdp/mosaic"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// wrap adds the operation to an internal error. A *mosaic.Error passes
// through unchanged: its message is meant for the user. When ctx has ended,
// the result also wraps ctx.Err(), since SQLite reports an interrupted
// statement in its own words.
func wrap(ctx context.Context, op string, err error) error {
	var me *mosaic.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		return err
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("sqlite: %s: %w (%w)", op, err, ctx.Err())
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// isConstraint reports whether err is SQLite refusing a write for one of the
// given extended constraint codes.
func isConstraint(err error, codes ...int) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Code() == c {
			return true
		}
	}
	return false
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}
