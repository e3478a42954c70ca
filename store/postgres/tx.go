package postgres

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// readSnapshot is the mode of transactions that read several tables and
// must see them as of one moment.
var readSnapshot = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// inTx runs fn in a transaction with opts and commits it if fn returns nil.
func (db *DB) inTx(ctx context.Context, op string, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return wrap(ctx, op, err)
	}
	// A no-op after Commit. Its context is not ctx: a canceled ctx must
	// still let the rollback reach the server.
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return wrap(ctx, op, err)
	}
	return wrap(ctx, op, tx.Commit(ctx))
}

// sendBatch sends b's statements in one round trip, runs the callbacks
// they were queued with, and returns the first error.
func sendBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	return tx.SendBatch(ctx, b).Close()
}

// utc returns a time read from the database as the contract gives it back:
// in UTC. pgx reads timestamptz in the local zone.
func utc(t time.Time) time.Time { return t.UTC() }

// seqArg returns a log position as PostgreSQL's bigint, capped: positions
// past 2^63-1 are out of the contract, and capping keeps range queries
// correct.
func seqArg(seq uint64) int64 {
	if seq > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(seq)
}
