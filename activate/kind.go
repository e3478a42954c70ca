// Package activate delivers audiences and events to destinations: webhooks,
// file exports and Kafka. It owns the destination kinds and their settings
// specs, the delivery workers that drain the outbox (retries with backoff
// and jitter, per-profile order, dead letters), the consent gate every
// message passes on its way out, and the event forwarder that turns chosen
// events into outbox messages.
//
// The outbox is written in the same store transaction as the state change
// that caused it (store.OutboxStore). Delivery is at least once: a message
// in flight when the process dies is sent again after restart, with the
// same ID, so receivers can deduplicate.
package activate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"
)

// Message is one outbox message as a Sender sees it.
type Message struct {
	ID         string          // stable across retries (webhook-id)
	Type       string          // event, audience.entered, audience.exited
	ProfileKey string          // per-profile order key
	Payload    json.RawMessage // {"type", "timestamp", "data"}
	Time       time.Time       // when it was enqueued
}

// Sender delivers messages to one destination. Send delivers all of msgs
// or fails as a whole; msgs are in per-profile order. It must honour ctx.
type Sender interface {
	Send(ctx context.Context, msgs []Message) error
	Close() error
}

// Kind is a destination type: its settings spec and how to open a sender.
type Kind interface {
	Type() string
	Description() string
	Spec() []Setting
	// Open returns a sender for validated settings.
	Open(d *Destination, env Env) (Sender, error)
}

// Env is what kinds get from the service.
type Env struct {
	// HTTP is the client for outbound requests: SSRF-guarded, no redirects.
	HTTP *http.Client
	Now  func() time.Time
	Log  *slog.Logger
	// FileRoot is where file exports with a relative directory go.
	FileRoot string
}

// SendError describes a failed Send so the worker can schedule the retry.
type SendError struct {
	Code       int           // HTTP status, 0 if none
	RetryAfter time.Duration // asked for by the receiver, 0 if not
	Gone       bool          // the receiver wants no more messages: disable
	Err        error
}

func (e *SendError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("HTTP %d: %v", e.Code, e.Err)
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// asSendError returns err as a *SendError.
func asSendError(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Err: err}
}

// Kinds is the set of destination kinds a service offers.
type Kinds map[string]Kind

// DefaultKinds returns the kinds without outside dependencies: webhook and
// file. Kafka (package activate/kafka) is added by the caller.
func DefaultKinds() Kinds {
	return NewKinds(Webhook{}, File{})
}

// NewKinds returns a set of kinds.
func NewKinds(ks ...Kind) Kinds {
	m := Kinds{}
	for _, k := range ks {
		m[k.Type()] = k
	}
	return m
}

// Names returns the kinds' types, sorted.
func (ks Kinds) Names() []string {
	out := make([]string, 0, len(ks))
	for n := range ks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// commonSpec is the delivery settings every kind has.
var commonSpec = []Setting{
	{Name: "batch_size", Type: TypeInt, Default: 1, Min: 1, Max: 10000,
		Description: "Messages per request (webhook), record batch (Kafka) or file (file export). 1 sends each message on its own."},
	{Name: "batch_wait", Type: TypeDuration, Default: "0s",
		Description: "How long to wait for a batch to fill before sending a smaller one. 0 sends what is there."},
	{Name: "timeout", Type: TypeDuration, Default: "15s",
		Description: "How long one delivery attempt may take before it counts as failed."},
	{Name: "rate_limit", Type: TypeInt, Default: 0, Min: 0, Max: 1000000,
		Description: "At most this many requests (webhook), produce calls (Kafka) or files per second; a batch counts once. 0 for no limit."},
}

// fullSpec returns a kind's spec with the common delivery settings.
func fullSpec(k Kind) []Setting {
	return append(append([]Setting{}, k.Spec()...), commonSpec...)
}

// KindInfo is a kind as the API lists it.
type KindInfo struct {
	Type        string    `json:"type"`
	Description string    `json:"description"`
	Settings    []Setting `json:"settings"`
}

// Info lists the kinds with their full settings specs.
func (ks Kinds) Info() []KindInfo {
	var out []KindInfo
	for _, n := range ks.Names() {
		k := ks[n]
		out = append(out, KindInfo{Type: n, Description: k.Description(), Settings: fullSpec(k)})
	}
	return out
}
