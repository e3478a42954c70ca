package store

import (
	"context"
	"time"
)

// DeletionStore keeps what erasure needs from activation: the outbox
// messages about one person, and the deletion notices sent to destinations
// afterwards. It is part of Store.
type DeletionStore interface {
	// PersonOutbox returns every outbox message, of any destination and
	// status, whose profile key is one of keys or whose payload contains
	// one of needles, by Seq. Empty needles are ignored. Empty, not nil,
	// if none.
	PersonOutbox(ctx context.Context, keys []string, needles [][]byte) ([]Delivery, error)
	// RemoveOutbox deletes outbox messages by Seq, with the retry holds of
	// their (destination, profile key) pairs, and returns how many
	// messages it deleted.
	RemoveOutbox(ctx context.Context, msgs []Delivery) (int64, error)
	// RemoveConsentSignals deletes the consent signals the event
	// forwarder saved under any of keys (profile keys) and returns how
	// many it deleted.
	RemoveConsentSignals(ctx context.Context, keys []string) (int64, error)

	// AddDeletionNotices stores new notices in one transaction;
	// ECONFLICT if an ID exists.
	AddDeletionNotices(ctx context.Context, ns []DeletionNotice) error
	// DueDeletionNotices returns up to limit queued notices with NextAt at
	// or before now, oldest NextAt first.
	DueDeletionNotices(ctx context.Context, now time.Time, limit int) ([]DeletionNotice, error)
	// UpdateDeletionNotice replaces a notice's Status, Payload, Attempts,
	// NextAt, LastError, LastCode and DoneAt; ENOTFOUND if there is none.
	UpdateDeletionNotice(ctx context.Context, n *DeletionNotice) error
	// DeletionNotices returns a request's notices by destination name.
	// Empty, not nil, if none.
	DeletionNotices(ctx context.Context, requestID string) ([]DeletionNotice, error)
}

// Deletion notice statuses.
const (
	NoticeQueued       = "queued"        // waiting for (another) attempt
	NoticeDelivered    = "delivered"     // the destination answered 2xx
	NoticeFailed       = "failed"        // given up; see LastError
	NoticeNotSupported = "not_supported" // the destination's kind has no deletion message
)

// DeletionNotice is the message asking one destination to delete one
// person's data after an erasure. Payload, the only part holding the
// person's identifiers, is nil once the notice is delivered or given up.
type DeletionNotice struct {
	ID               string    `json:"id"`
	RequestID        string    `json:"request_id"`
	DestinationID    string    `json:"destination_id"`
	DestinationName  string    `json:"destination_name"`
	Status           string    `json:"status"`
	IdentifierHashes []string  `json:"identifier_hashes"` // keyed hashes of what was sent
	Payload          []byte    `json:"-"`
	Attempts         int       `json:"attempts"`
	NextAt           time.Time `json:"next_at"`
	LastError        string    `json:"last_error,omitempty"`
	LastCode         int       `json:"last_code,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	DoneAt           time.Time `json:"done_at,omitzero"`
}
