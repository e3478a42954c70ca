package sqlite

import (
	"context"
	"database/sql"
	"math"
	"time"
)

// inTx runs fn in a write transaction and commits it if fn returns nil.
// Transactions begin IMMEDIATE: the write lock is taken at once, so a
// transaction never fails half-way for another writer.
func (db *DB) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer tx.Rollback() // a no-op after Commit
	if err := fn(tx); err != nil {
		return wrap(ctx, op, err)
	}
	return wrap(ctx, op, tx.Commit())
}

// inReadTx runs fn in a read transaction: one consistent snapshot.
func (db *DB) inReadTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer tx.Rollback() // reads only: nothing to commit
	return wrap(ctx, op, fn(tx))
}

// micros returns t as stored: unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros returns a stored time, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// seqArg returns a log position as SQLite's int64, capped: positions past
// 2^63-1 are out of the contract, and capping keeps range queries correct.
func seqArg(seq uint64) int64 {
	if seq > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(seq)
}
