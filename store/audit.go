package store

import (
	"context"
	"time"
)

// AuditStore keeps the audit log: append-only entries, each chained to the
// one before by a hash that package privacy computes. The store's part is
// to append one entry at a time, in order, after the newest, and never to
// change or delete one. The log is primary data: ResetDerived keeps it.
type AuditStore interface {
	// AppendAudit calls build with the newest entry (zero AuditRow if the
	// log is empty) and appends the entries build returns, in order, with
	// the next IDs, atomically: no other append runs between the read and
	// the write, so the chain has no forks, across processes too. One call
	// appends a batch in one transaction (the auditor's group commit). An
	// error from build is returned and nothing is appended. It returns the
	// appended rows with their IDs.
	AppendAudit(ctx context.Context, build func(prev AuditRow) ([]AuditRow, error)) ([]AuditRow, error)
	// AuditLog returns entries matching q in ID order. The slice is empty,
	// not nil, when there are none.
	AuditLog(ctx context.Context, q AuditQuery) ([]AuditRow, error)
}

// AuditRow is one stored audit entry. Data is the entry as privacy
// encodes it (the hash covers it and PrevHash); Time, Actor, Action,
// Object and Status repeat fields of Data for filtering.
type AuditRow struct {
	ID       int64
	Time     time.Time
	Actor    string
	Action   string
	Object   string
	Status   int
	Data     []byte
	PrevHash []byte
	Hash     []byte
}

// AuditQuery selects entries: ID after AfterID, time in [Since, Until)
// where set, exact Actor and Action where set, Object starting with
// ObjectPrefix where set; at most Limit (none if Limit <= 0).
type AuditQuery struct {
	AfterID      int64
	Since, Until time.Time
	Actor        string
	Action       string
	ObjectPrefix string
	Limit        int
}
