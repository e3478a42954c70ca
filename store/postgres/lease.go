package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrFenced is returned by the checkpoint writes of a store made with
// Fenced when its lease has passed to another holder since: the node lost
// the lease and must stop the stage. Nothing of the write was saved.
var ErrFenced = errors.New("postgres: the lease of this stage passed to another node; this node's write was refused")

// Lease is the state of one lease.
type Lease struct {
	Name       string    `json:"name"`
	Holder     string    `json:"holder"`
	Token      int64     `json:"token"`
	AcquiredAt time.Time `json:"acquired_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// AcquireLease takes the lease name for holder for ttl if it is free: never
// taken, expired, or released. Each acquisition gets a new, higher token,
// even by the same holder. It returns false when another holder has it.
// Times are the database server's, so the nodes' clocks need not agree.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (token int64, ok bool, err error) {
	err = db.pool.QueryRow(ctx, `INSERT INTO leases (name, holder, token, acquired_at, expires_at)
		VALUES ($1, $2, 1, now(), now() + $3::interval)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = leases.token + 1,
			acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
		WHERE leases.expires_at < now()
		RETURNING token`, name, holder, ttl).Scan(&token)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, wrap(ctx, "acquire lease "+name, err)
	}
	return token, true, nil
}

// RenewLease extends holder's lease by ttl from now if it still has token.
// It returns false when the lease changed hands: the holder must stop at
// once (its writes are fenced anyway).
func (db *DB) RenewLease(ctx context.Context, name, holder string, token int64, ttl time.Duration) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE leases SET expires_at = now() + $4::interval
		WHERE name = $1 AND holder = $2 AND token = $3`, name, holder, token, ttl)
	if err != nil {
		return false, wrap(ctx, "renew lease "+name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseLease gives the lease up, so another node takes it at its next try
// instead of after the lease time. A lease that changed hands is left alone.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string, token int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE leases SET expires_at = '-infinity'
		WHERE name = $1 AND holder = $2 AND token = $3`, name, holder, token)
	return wrap(ctx, "release lease "+name, err)
}

// Leases returns every lease, by name.
func (db *DB) Leases(ctx context.Context) ([]Lease, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, holder, token, acquired_at, expires_at FROM leases ORDER BY name`)
	if err != nil {
		return nil, wrap(ctx, "read leases", err)
	}
	leases, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Lease, error) {
		var l Lease
		err := row.Scan(&l.Name, &l.Holder, &l.Token, &l.AcquiredAt, &l.ExpiresAt)
		l.AcquiredAt, l.ExpiresAt = utc(l.AcquiredAt), utc(l.ExpiresAt)
		return l, err
	})
	return leases, wrap(ctx, "read leases", err)
}

// fence is the lease a fenced store's checkpoint writes check.
type fence struct {
	name  string
	token int64
}

// Fenced returns a store on the same connections whose checkpoint writes
// (SaveDedupe, SaveProfiles, ResetDerived) first check, in their own
// transaction, that lease name still has token, and fail with ErrFenced if
// not. The check holds the lease row (FOR SHARE) until the commit, so a
// takeover waits for a write in progress and the new holder's load sees
// it; a write that starts after the takeover is refused. Closing the
// returned store closes db.
func (db *DB) Fenced(name string, token int64) *DB {
	f := *db
	f.fence = &fence{name: name, token: token}
	return &f
}

// checkFence is the first statement of every checkpoint write.
func (db *DB) checkFence(ctx context.Context, tx pgx.Tx) error {
	if db.fence == nil {
		return nil
	}
	var token int64
	err := tx.QueryRow(ctx, `SELECT token FROM leases WHERE name = $1 FOR SHARE`, db.fence.name).Scan(&token)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && token != db.fence.token) {
		return fmt.Errorf("%w (lease %s, token %d)", ErrFenced, db.fence.name, db.fence.token)
	}
	return err
}

// Node is one node of the installation as it last reported itself.
type Node struct {
	ID        string          `json:"id"`
	URL       string          `json:"url"`
	StartedAt time.Time       `json:"started_at"`
	SeenAt    time.Time       `json:"seen_at"`
	Status    json.RawMessage `json:"status"`
}

// ReportNode records a node's heartbeat and status, stamped with the
// database's clock. Rows of nodes not seen for forgetAfter are deleted.
func (db *DB) ReportNode(ctx context.Context, id, url string, started time.Time, status any, forgetAfter time.Duration) error {
	st, err := json.Marshal(status)
	if err != nil {
		return fmt.Errorf("postgres: report node: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO cluster_nodes (id, url, started_at, seen_at, status) VALUES ($1, $2, $3, now(), $4)
		ON CONFLICT (id) DO UPDATE SET url = excluded.url, seen_at = now(), status = excluded.status`, id, url, started, st)
	b.Queue(`DELETE FROM cluster_nodes WHERE seen_at < now() - $1::interval`, forgetAfter)
	return wrap(ctx, "report node", db.pool.SendBatch(ctx, b).Close())
}

// Nodes returns the nodes that reported themselves, by ID, with the
// database's current time to judge how recent each report is.
func (db *DB) Nodes(ctx context.Context) ([]Node, time.Time, error) {
	var now time.Time
	if err := db.pool.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return nil, now, wrap(ctx, "read nodes", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT id, url, started_at, seen_at, status FROM cluster_nodes ORDER BY id`)
	if err != nil {
		return nil, now, wrap(ctx, "read nodes", err)
	}
	nodes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Node, error) {
		var n Node
		err := row.Scan(&n.ID, &n.URL, &n.StartedAt, &n.SeenAt, &n.Status)
		n.StartedAt, n.SeenAt = utc(n.StartedAt), utc(n.SeenAt)
		return n, err
	})
	return nodes, utc(now), wrap(ctx, "read nodes", err)
}
