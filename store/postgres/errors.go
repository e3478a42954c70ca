package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mosaic-cdp/mosaic"
)

// PostgreSQL's SQLSTATEs the store tells apart.
const (
	uniqueViolation = "23505" // a UNIQUE or PRIMARY KEY violation
	undefinedTable  = "42P01" // no such table
)

// wrap adds the operation to an internal error. A *mosaic.Error passes
// through unchanged: its message is meant for the user. When ctx has ended,
// the result also wraps ctx.Err(), since a statement the server canceled
// comes back as a server error of its own.
func wrap(ctx context.Context, op string, err error) error {
	var me *mosaic.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		return err
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("postgres: %s: %w (%w)", op, err, ctx.Err())
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// violatedUnique returns the name of the unique index or constraint err
// reports as violated, or "" if err is not a unique violation.
func violatedUnique(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == uniqueViolation {
		return pe.ConstraintName
	}
	return ""
}
