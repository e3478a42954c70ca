package store

import (
	"context"
	"time"
)

// PrivacyStore keeps data subject requests, the suppression list, and the
// erasure of a person from the store's primary data.
type PrivacyStore interface {
	// CreatePrivacyRequest stores a new request; ECONFLICT if the ID exists.
	CreatePrivacyRequest(ctx context.Context, r *PrivacyRequest) error
	// PrivacyRequest returns a request; ENOTFOUND if there is none.
	PrivacyRequest(ctx context.Context, id string) (*PrivacyRequest, error)
	// PrivacyRequests lists requests by ReceivedAt, oldest first; with
	// open, only pending and running ones. Empty, not nil, if none.
	PrivacyRequests(ctx context.Context, open bool) ([]*PrivacyRequest, error)
	// UpdatePrivacyRequest replaces a request's mutable fields (Status,
	// Identifier, DueAt, StartedAt, CompletedAt, Outcome, Error);
	// ENOTFOUND if there is none.
	UpdatePrivacyRequest(ctx context.Context, r *PrivacyRequest) error

	// ExtendPrivacyRequest moves an open request's DueAt to due and
	// records when and why, once: ECONFLICT if it was extended already,
	// ENOTFOUND if there is no such request.
	ExtendPrivacyRequest(ctx context.Context, id string, due time.Time, reason string, at time.Time) error

	// Suppress adds keyed hashes of identifiers to the suppression list
	// (already listed ones are kept as they are).
	Suppress(ctx context.Context, hashes []string, reason string, at time.Time) error
	// Unsuppress removes hashes from the list; it returns how many were
	// listed.
	Unsuppress(ctx context.Context, hashes []string) (int, error)
	// Suppressions returns every listed hash. Empty, not nil, if none.
	Suppressions(ctx context.Context) ([]string, error)

	// EraseRejected deletes quarantined messages whose raw bytes contain
	// any of needles, and returns how many.
	EraseRejected(ctx context.Context, needles [][]byte) (int, error)
	// SetRetention sets how many days a source's raw events are kept (0:
	// unlimited). It does not check that the source exists.
	SetRetention(ctx context.Context, sourceID string, days int) error
	// Retentions returns the sources with a retention period, in days.
	// Empty, not nil, if none.
	Retentions(ctx context.Context) (map[string]int, error)
	// TraitNames returns the distinct trait names of all profiles' trait
	// histories (groupID "" only), sorted.
	TraitNames(ctx context.Context) ([]string, error)

	// Compact rewrites the store's files so that deleted data leaves them
	// (SQLite: VACUUM and a WAL truncation; PostgreSQL: VACUUM of the
	// tables erasure touches).
	Compact(ctx context.Context) error
}

// PrivacyRequest is a data subject request. Identifier holds the
// identifier in clear only while the request is open; IdentifierHash, a
// keyed hash, stays.
type PrivacyRequest struct {
	ID             string     `json:"id"`
	Type           string     `json:"type"`
	IdentifierType string     `json:"identifier_type"`
	Identifier     string     `json:"-"`
	IdentifierHash string     `json:"identifier_hash"`
	Law            string     `json:"law"`
	Status         string     `json:"status"`
	Actor          string     `json:"actor"`
	ReceivedAt     time.Time  `json:"received_at"`
	DueAt          time.Time  `json:"due_at"`
	StartedAt      *time.Time `json:"started_at,omitempty"`
	CompletedAt    *time.Time `json:"completed_at,omitempty"`
	Outcome        []byte     `json:"-"` // JSON, package privacy's
	Error          string     `json:"error,omitempty"`
	// ExtendedAt and ExtensionReason record a deadline extension; DueAt
	// is then the extended deadline.
	ExtendedAt      *time.Time `json:"extended_at,omitempty"`
	ExtensionReason string     `json:"extension_reason,omitempty"`
}
