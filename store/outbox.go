package store

import (
	"context"
	"time"
)

// OutboxStore keeps what activation needs: destinations, the outbox of
// messages to deliver to them, the event forwarder's position and the consent
// signals it saw.
//
// # Writing to the outbox from another stage
//
// The record that a message must be delivered is written in the same
// transaction as the state change that caused it. A stage other than event
// forwarding (audience membership, say) does so by carrying
// []OutboxMessage in its own commit struct and, in each backend's Save
// method for that commit, calling the backend's enqueueTx helper
// (store/sqlite/outbox.go, store/postgres/outbox.go) with its open
// transaction. Messages enqueued that way are delivered exactly like those
// of Enqueue and SaveForward.
//
// It is part of Store; it stands alone so that package activate can ask for
// no more than it uses.
type OutboxStore interface {
	// CreateDestination stores a new destination. d.ID, d.Type and
	// d.CreatedAt must be set by the caller; EINVALID if ID or Type is
	// empty; ECONFLICT if a destination has that ID or name.
	CreateDestination(ctx context.Context, d *Destination) error
	// Destination returns a destination; ENOTFOUND if there is none.
	Destination(ctx context.Context, id string) (*Destination, error)
	// Destinations lists destinations oldest first (CreatedAt, then ID);
	// empty, not nil, when there are none.
	Destinations(ctx context.Context) ([]*Destination, error)
	// UpdateDestination replaces a destination's name, status, reason,
	// config and UpdatedAt; ENOTFOUND if there is none, ECONFLICT if
	// another has the name.
	UpdateDestination(ctx context.Context, d *Destination) error
	// DeleteDestination deletes a destination and every outbox message for
	// it; ENOTFOUND if there is none.
	DeleteDestination(ctx context.Context, id string) error

	// Enqueue adds messages to the outbox in one transaction, in slice
	// order, each pending and due at its CreatedAt. A message whose
	// (DestinationID, ID) is already in the outbox is skipped, so a stage
	// that enqueues again after a crash does not deliver twice.
	Enqueue(ctx context.Context, msgs []OutboxMessage) error
	// ForwardCursor returns the event forwarder's saved log position (0 if
	// none).
	ForwardCursor(ctx context.Context) (uint64, error)
	// SaveForward atomically records the forwarder's new position, its
	// outbox messages (as Enqueue) and its consent signals (replacing the
	// stored signal of a key only with a newer one by Time). A position at
	// or below the stored one is a no-op that returns nil, so a replay
	// after a crash enqueues nothing twice.
	SaveForward(ctx context.Context, c *ForwardCommit) error
	// ConsentSignal returns the newest consent signal saved for a profile
	// key; ENOTFOUND if none.
	ConsentSignal(ctx context.Context, profileKey string) (*ConsentSignal, error)

	// ClaimDue returns up to limit pending messages of a destination,
	// oldest first (by Seq), leaving out every message of a profile key
	// whose retry is not due at now (see FinishDeliveries): a profile's
	// messages come back in order, after its earlier ones.
	ClaimDue(ctx context.Context, destinationID string, now time.Time, limit int) ([]Delivery, error)
	// FinishDeliveries records attempts in one transaction. An update with
	// Status pending holds its profile key back from ClaimDue until NextAt;
	// any other status releases the key.
	FinishDeliveries(ctx context.Context, updates []DeliveryUpdate) error
	// NextHold returns when the first of a destination's held profile keys
	// is released (see FinishDeliveries); the zero time if none is held.
	NextHold(ctx context.Context, destinationID string) (time.Time, error)
	// ReleaseHolds releases every held profile key of a destination, so
	// ClaimDue returns their messages at once, in order; it returns how
	// many keys were held. A worker calls it when a destination that was
	// down answers again.
	ReleaseHolds(ctx context.Context, destinationID string) (int64, error)
	// Deliveries lists a destination's messages with status (all if "")
	// newest first, those with Seq below before when before > 0, at most
	// limit.
	Deliveries(ctx context.Context, destinationID, status string, before int64, limit int) ([]Delivery, error)
	// Requeue makes the destination's messages with status (dead or
	// blocked) pending again, due at now, with no attempts and Since = now;
	// it returns how many.
	Requeue(ctx context.Context, destinationID, status string, now time.Time) (int64, error)
	// DeliveryStats returns a destination's counters.
	DeliveryStats(ctx context.Context, destinationID string) (*DeliveryStats, error)

	// AudienceCursor returns the ID of the last audience change (see
	// SegmentStore.AudienceChanges) turned into outbox messages; 0 if none.
	AudienceCursor(ctx context.Context) (int64, error)
	// SaveAudienceDelivery atomically records the audience follower's new
	// cursor and its outbox messages (as Enqueue). A cursor at or below the
	// stored one is a no-op that returns nil, so a follower that crashed
	// after saving and reads the same changes again enqueues nothing twice.
	SaveAudienceDelivery(ctx context.Context, cursor int64, msgs []OutboxMessage) error
	// AudienceChangesEnd returns the highest audience change ID saved (0 if
	// none): a snapshot of members read after it reflects every change up
	// to it.
	AudienceChangesEnd(ctx context.Context) (int64, error)
	// PurgeDeliveries deletes up to limit of a destination's messages that
	// are delivered or blocked and were finished (DoneAt) before before,
	// oldest first; it returns how many. Pending and dead messages stay.
	PurgeDeliveries(ctx context.Context, destinationID string, before time.Time, limit int) (int64, error)
}

// Destination is a configured destination. Config is JSON that package
// activate owns (settings, secret, purposes, subscriptions, mapping).
type Destination struct {
	ID           string
	Name         string
	Type         string
	Status       string // activate's: active, paused, disabled
	StatusReason string
	Config       []byte
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// OutboxMessage is one message to deliver to one destination.
type OutboxMessage struct {
	// ID is the message's identity across retries (the webhook-id), unique
	// per destination.
	ID            string
	DestinationID string
	// ProfileKey orders delivery: a destination's messages with the same
	// key are delivered in enqueue order.
	ProfileKey string
	Type       string // e.g. event, audience.entered, audience.exited
	Payload    []byte // JSON
	CreatedAt  time.Time
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"    // retries exhausted; Requeue replays it
	DeliveryBlocked   = "blocked" // the profile's consent does not allow it
)

// Delivery is an outbox message with its delivery state.
type Delivery struct {
	Seq int64 // enqueue order in the store
	OutboxMessage
	Status    string
	Attempts  int
	Since     time.Time // first enqueued, or requeued
	NextAt    time.Time
	LastError string
	LastCode  int // HTTP status of the last attempt, 0 if none
	Latency   time.Duration
	DoneAt    time.Time // zero while pending
	Blocked   []string  // purposes not granted, for blocked
}

// DeliveryUpdate is the outcome of one attempt at one message.
type DeliveryUpdate struct {
	Seq        int64
	ProfileKey string
	Status     string
	Attempts   int
	NextAt     time.Time
	LastError  string
	LastCode   int
	Latency    time.Duration
	DoneAt     time.Time
	Blocked    []string
	// DestinationID is the message's destination; holds are per
	// destination and profile key.
	DestinationID string
}

// DeliveryStats counts a destination's messages.
type DeliveryStats struct {
	Counts    map[string]int64 // by status
	Blocked   map[string]int64 // blocked messages by purpose not granted
	Retrying  int64            // pending with at least one failed attempt
	Latencies []time.Duration  // of up to the 1000 newest deliveries
}

// ForwardCommit is what the event forwarder saves in one transaction.
type ForwardCommit struct {
	Seq     uint64 // log position processed, inclusive
	Outbox  []OutboxMessage
	Consent []ConsentSignal
}

// ConsentSignal is the consent a profile's events last signalled.
type ConsentSignal struct {
	ProfileKey string
	Categories []byte // JSON object: purpose → bool
	Time       time.Time
	Seq        uint64
}
