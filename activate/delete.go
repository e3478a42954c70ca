package activate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/store"
)

// Deletion messages: when a person is erased, every destination that had
// been sent their data gets one message of type "delete" naming the
// identifiers it had been sent (and nothing else), so it can find and
// delete the person too (GDPR Art. 17(2) and 19). Kinds that can carry it
// implement DeleteCapable; the others are reported "not_supported" so the
// privacy officer knows to ask that recipient by other means.

// DeleteCapable is implemented by kinds whose receivers take deletion
// messages.
type DeleteCapable interface {
	SupportsDelete() bool
}

// SupportsDelete implements DeleteCapable: a webhook receives the deletion
// message as any other, signed with Standard Webhooks headers.
func (Webhook) SupportsDelete() bool { return true }

// DeletionsStore is what deletion messages need from the store.
type DeletionsStore interface {
	Destination(ctx context.Context, id string) (*store.Destination, error)
	Destinations(ctx context.Context) ([]*store.Destination, error)
	store.DeletionStore
}

// DeletionOptions configures Deletions. Zero fields get the defaults of
// DefaultOptions (delivery's).
type DeletionOptions struct {
	Log      *slog.Logger
	Now      func() time.Time
	Kinds    Kinds
	HTTP     *http.Client
	FileRoot string
	// RetryBase, RetryCap and MaxAge work as for other messages: retries
	// back off from RetryBase by 4× up to RetryCap, and a notice not
	// delivered within MaxAge of the erasure is given up ("failed").
	RetryBase time.Duration
	RetryCap  time.Duration
	MaxAge    time.Duration
	Poll      time.Duration
}

// Deletions finds what destinations were sent about a person, takes the
// person's messages out of the outbox, and delivers the deletion messages
// with retries. Unlike other messages they pass no consent gate: telling a
// recipient to delete is what the law asks, whatever the person consented
// to.
type Deletions struct {
	st   DeletionsStore
	opts DeletionOptions
	wake chan struct{}
}

// NewDeletions returns the deletion message service; Run delivers.
func NewDeletions(st DeletionsStore, opts DeletionOptions) *Deletions {
	d := DefaultOptions()
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = d.Now
	}
	if opts.Kinds == nil {
		opts.Kinds = d.Kinds
	}
	if opts.HTTP == nil {
		opts.HTTP = Guard{}.Client(4)
	}
	for _, p := range []struct {
		v *time.Duration
		d time.Duration
	}{
		{&opts.RetryBase, d.RetryBase}, {&opts.RetryCap, d.RetryCap}, {&opts.MaxAge, d.MaxAge}, {&opts.Poll, d.Poll}} {
		if *p.v <= 0 {
			*p.v = p.d
		}
	}
	return &Deletions{st: st, opts: opts, wake: make(chan struct{}, 1)}
}

// DeleteMessage is the data of a deletion message.
type DeleteMessage struct {
	RequestID   string          `json:"request_id"`
	Identifiers []DeleteSubject `json:"identifiers"`
}

// DeleteSubject is one identifier the destination had been sent: in clear
// (Value) or, where the destination received only its hash (mapping
// "hash"), as that hex SHA-256.
type DeleteSubject struct {
	Type   string `json:"type"`
	Value  string `json:"value,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// ProfileIDType names Mosaic's profile ID among the identifiers of a
// deletion message: audience messages carry it.
const ProfileIDType = "mosaic_profile_id"

// Erase is called by an erasure once the person's events are gone from
// the log, so no stage adds messages about them any more: it finds the
// outbox messages about the person (profile key one of keys, or a payload
// holding one of ids), queues a deletion message for each destination that
// had been sent any (delivered, or attempted so it may have arrived), and
// removes every one of those messages, delivered or pending, and the
// consent signals saved under keys. hash gives the
// keyed hash that the returned notices record instead of the identifiers.
// Calling it again for the same request adds no second notice.
func (d *Deletions) Erase(ctx context.Context, requestID string, keys []string, ids []identity.Identifier, hash func(identity.Identifier) string) ([]store.DeletionNotice, error) {
	subjects := append([]identity.Identifier{}, ids...)
	for _, k := range keys {
		if _, err := identity.ParseProfileID(k); err == nil {
			subjects = append(subjects, identity.Identifier{Type: ProfileIDType, Value: k})
		}
	}
	var needles [][]byte
	for _, id := range subjects {
		needles = append(needles, quoted(id.Value), quoted(HashIdentifier(id.Type, id.Value)))
	}
	msgs, err := d.st.PersonOutbox(ctx, keys, needles)
	if err != nil {
		return nil, err
	}
	notices, err := d.plan(ctx, requestID, msgs, subjects, hash)
	if err != nil {
		return nil, err
	}
	if _, err := d.st.RemoveOutbox(ctx, msgs); err != nil {
		return nil, err
	}
	if _, err := d.st.RemoveConsentSignals(ctx, keys); err != nil {
		return nil, err
	}
	d.Wake()
	return notices, nil
}

// plan stores a notice per destination that was sent something, unless
// the request has one for it already.
func (d *Deletions) plan(ctx context.Context, requestID string, msgs []store.Delivery, subjects []identity.Identifier, hash func(identity.Identifier) string) ([]store.DeletionNotice, error) {
	have, err := d.st.DeletionNotices(ctx, requestID)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, n := range have {
		done[n.DestinationID] = true
	}
	sent := map[string][]store.Delivery{}
	for _, m := range msgs {
		if m.Status == store.DeliveryDelivered || m.Attempts > 0 {
			sent[m.DestinationID] = append(sent[m.DestinationID], m)
		}
	}
	dests, err := d.st.Destinations(ctx)
	if err != nil {
		return nil, err
	}
	now := d.opts.Now().UTC()
	var add []store.DeletionNotice
	for _, sd := range dests {
		if len(sent[sd.ID]) == 0 || done[sd.ID] {
			continue
		}
		n := store.DeletionNotice{ID: noticeID(requestID, sd.ID), RequestID: requestID, DestinationID: sd.ID, DestinationName: sd.Name,
			Status: store.NoticeNotSupported, IdentifierHashes: []string{}, NextAt: now, CreatedAt: now, DoneAt: now}
		found, of := sentSubjects(sent[sd.ID], subjects)
		for _, id := range of {
			n.IdentifierHashes = append(n.IdentifierHashes, hash(id))
		}
		if k, ok := d.opts.Kinds[sd.Type].(DeleteCapable); ok && k.SupportsDelete() && len(found) > 0 {
			n.Status, n.DoneAt = store.NoticeQueued, time.Time{}
			n.Payload, _ = json.Marshal(map[string]any{"type": "delete", "timestamp": now.Format(time.RFC3339Nano),
				"data": DeleteMessage{RequestID: requestID, Identifiers: found}})
		} else if len(found) == 0 {
			n.LastError = "the messages sent held none of the person's identifiers"
		}
		add = append(add, n)
	}
	if len(add) > 0 {
		if err := d.st.AddDeletionNotices(ctx, add); err != nil {
			return nil, err
		}
	}
	return append(have, add...), nil
}

// sentSubjects returns the identifiers that appear in the payloads, in
// clear or hashed: what the destination can find the person by; of is
// the identifier of each.
func sentSubjects(msgs []store.Delivery, subjects []identity.Identifier) (out []DeleteSubject, of []identity.Identifier) {
	for _, id := range subjects {
		hashed := HashIdentifier(id.Type, id.Value)
		var clear, hashedSeen bool
		for _, m := range msgs {
			clear = clear || bytes.Contains(m.Payload, quoted(id.Value))
			hashedSeen = hashedSeen || bytes.Contains(m.Payload, quoted(hashed))
		}
		switch {
		case clear:
			out, of = append(out, DeleteSubject{Type: id.Type, Value: id.Value}), append(of, id)
		case hashedSeen:
			out, of = append(out, DeleteSubject{Type: id.Type, SHA256: hashed}), append(of, id)
		}
	}
	return out, of
}

// quoted is v as a JSON string: payloads are JSON, and matching whole
// string values keeps a short identifier ("42") from matching inside
// other people's values.
func quoted(v string) []byte {
	b, _ := json.Marshal(v)
	return b
}

// noticeID derives a notice's ID (its webhook-id) from the request and
// destination, so a retried erasure finds the notice it made.
func noticeID(requestID, destID string) string {
	h := sha256.Sum256([]byte(requestID + "\n" + destID))
	return "del_" + hex.EncodeToString(h[:12])
}

// Wake tells Run that notices were queued.
func (d *Deletions) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers due notices until ctx ends.
func (d *Deletions) Run(ctx context.Context) {
	tick := time.NewTicker(d.opts.Poll)
	defer tick.Stop()
	for {
		d.Deliver(ctx)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-tick.C:
		}
	}
}

// Deliver makes one attempt at each notice due now.
func (d *Deletions) Deliver(ctx context.Context) {
	due, err := d.st.DueDeletionNotices(ctx, d.opts.Now(), 100)
	if err != nil && ctx.Err() == nil {
		d.opts.Log.Error("deletion messages: cannot list due ones", "err", err)
	}
	for i := range due {
		if ctx.Err() != nil {
			return
		}
		n := &due[i]
		d.attempt(ctx, n)
		if err := d.st.UpdateDeletionNotice(context.WithoutCancel(ctx), n); err != nil {
			d.opts.Log.Error("deletion messages: cannot record an attempt", "notice", n.ID, "err", err)
		}
	}
}

// attempt sends one notice and sets its new state. The payload goes as
// soon as the notice is delivered or given up.
func (d *Deletions) attempt(ctx context.Context, n *store.DeletionNotice) {
	now := d.opts.Now().UTC()
	err := d.send(ctx, n)
	n.Attempts++
	if err == nil {
		n.Status, n.Payload, n.DoneAt, n.LastError, n.LastCode = store.NoticeDelivered, nil, now, "", 0
		return
	}
	se := asSendError(err)
	n.LastError, n.LastCode = truncateText(se.Error(), 500), se.Code
	if se.Gone || now.Sub(n.CreatedAt) >= d.opts.MaxAge {
		n.Status, n.Payload, n.DoneAt = store.NoticeFailed, nil, now
		return
	}
	n.NextAt = now.Add(max(d.backoff(n.Attempts), se.RetryAfter))
}

func (d *Deletions) send(ctx context.Context, n *store.DeletionNotice) error {
	sd, err := d.st.Destination(ctx, n.DestinationID)
	if mosaic.ErrorCode(err) == mosaic.ENOTFOUND {
		return &SendError{Gone: true, Err: errDestinationDeleted}
	}
	if err != nil {
		return err
	}
	dest, err := fromStore(sd, d.opts.Kinds)
	if err != nil {
		return err
	}
	if dest.Status != StatusActive {
		return &SendError{Err: errNotActive}
	}
	sender, err := d.opts.Kinds[dest.Type].Open(dest, Env{HTTP: d.opts.HTTP, Now: d.opts.Now, Log: d.opts.Log, FileRoot: d.opts.FileRoot})
	if err != nil {
		return err
	}
	defer sender.Close()
	timeout := dest.Settings.Duration("timeout")
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return sender.Send(sctx, []Message{{ID: n.ID, Type: "delete", ProfileKey: n.ID, Payload: n.Payload, Time: n.CreatedAt}})
}

var (
	errDestinationDeleted = deleteError("the destination was deleted before the deletion message could be delivered")
	errNotActive          = deleteError("the destination is paused or disabled; the deletion message waits until it is active")
)

type deleteError string

func (e deleteError) Error() string { return string(e) }

// backoff is the delay before retry n (from 1): RetryBase × 4^(n-1) up to
// RetryCap, spread over its upper half.
func (d *Deletions) backoff(n int) time.Duration {
	b := d.opts.RetryBase
	for i := 1; i < n && b < d.opts.RetryCap; i++ {
		b *= 4
	}
	b = min(b, d.opts.RetryCap)
	return b/2 + time.Duration(rand.Int64N(int64(b/2)+1))
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// SentRecord is one outbox message about a person, as an access export
// lists it: which destination, what and when, not the payload.
type SentRecord struct {
	DestinationID   string    `json:"destination_id"`
	DestinationName string    `json:"destination_name"`
	MessageID       string    `json:"message_id"`
	Type            string    `json:"type"`
	Status          string    `json:"status"`
	Enqueued        time.Time `json:"enqueued_at"`
	Done            time.Time `json:"done_at,omitzero"`
}

// Sent lists the outbox messages about a person (found as Erase finds
// them), oldest first, for an access export.
func (d *Deletions) Sent(ctx context.Context, keys []string, ids []identity.Identifier) ([]SentRecord, error) {
	var needles [][]byte
	for _, id := range ids {
		needles = append(needles, quoted(id.Value), quoted(HashIdentifier(id.Type, id.Value)))
	}
	msgs, err := d.st.PersonOutbox(ctx, keys, needles)
	if err != nil {
		return nil, err
	}
	dests, err := d.st.Destinations(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, sd := range dests {
		names[sd.ID] = sd.Name
	}
	out := []SentRecord{}
	for _, m := range msgs {
		out = append(out, SentRecord{DestinationID: m.DestinationID, DestinationName: names[m.DestinationID], MessageID: m.ID, Type: m.Type,
			Status: m.Status, Enqueued: m.CreatedAt, Done: m.DoneAt})
	}
	return out, nil
}

// SentJSON is Sent as the privacy package's Recipients interface takes it.
func (d *Deletions) SentJSON(ctx context.Context, keys []string, ids []identity.Identifier) ([]any, error) {
	recs, err := d.Sent(ctx, keys, ids)
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r
	}
	return out, err
}
