package activate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/store"
)

// EventSource is the deduplicated event stream the forwarder follows
// (engine.Engine).
type EventSource interface {
	Events(ctx context.Context, q engine.EventQuery) ([]mosaic.Event, uint64, error)
	Processed() uint64
	WaitProcessed(ctx context.Context, seq uint64) error
}

// ForwardOptions configures a Forwarder.
type ForwardOptions struct {
	Log *slog.Logger
	Now func() time.Time
	// ProfileKey returns the key that orders an event's messages and holds
	// its consent, given the event and its identifier reference
	// ("user_id:…", else "anonymous_id:…"). Default: the reference; the
	// server resolves it to the profile ID.
	ProfileKey func(ctx context.Context, ev *mosaic.Event, ref string) string
	// Idle is how long the forwarder waits for new events before checking
	// again (default 1s).
	Idle time.Duration
	// SkipIdle skips events entirely while no destination forwards events:
	// for a server whose consent gate reads the privacy model, not the
	// consent signals the forwarder records for SignalConsent.
	SkipIdle bool
}

// Forwarder follows the deduplicated events and enqueues, for every
// destination subscribed to an event's source and name, a message with the
// destination's field mapping applied. It also saves each profile's newest
// consent signal. Its position, messages and consent signals are saved in
// one transaction, so after a restart nothing is enqueued twice or missed.
type Forwarder struct {
	src   EventSource
	st    store.OutboxStore
	svc   *Service
	opts  ForwardOptions
	dests atomic.Pointer[[]*Destination]
	stale atomic.Bool
}

// NewForwarder returns a forwarder that enqueues for svc's destinations.
func NewForwarder(src EventSource, st store.OutboxStore, svc *Service, opts ForwardOptions) *Forwarder {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ProfileKey == nil {
		opts.ProfileKey = func(_ context.Context, _ *mosaic.Event, ref string) string { return ref }
	}
	if opts.Idle <= 0 {
		opts.Idle = time.Second
	}
	f := &Forwarder{src: src, st: st, svc: svc, opts: opts}
	f.stale.Store(true)
	svc.OnChange(func() { f.stale.Store(true) })
	return f
}

// Run forwards until ctx ends.
func (f *Forwarder) Run(ctx context.Context) error {
	cursor, err := f.st.ForwardCursor(ctx)
	for err != nil && ctx.Err() == nil {
		f.opts.Log.Error("cannot load the forward cursor; retrying", "err", err)
		sleepCtx(ctx, f.opts.Idle)
		cursor, err = f.st.ForwardCursor(ctx)
	}
	for ctx.Err() == nil {
		next, err := f.page(ctx, cursor)
		if err != nil {
			if ctx.Err() == nil {
				f.opts.Log.Error("event forwarding failed; retrying", "after", cursor, "err", err)
				sleepCtx(ctx, f.opts.Idle)
			}
			continue
		}
		if next == cursor {
			wctx, cancel := context.WithTimeout(ctx, f.opts.Idle)
			_ = f.src.WaitProcessed(wctx, cursor+1)
			cancel()
		}
		cursor = next
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// page forwards the events after cursor and saves; it returns the new
// position.
func (f *Forwarder) page(ctx context.Context, cursor uint64) (uint64, error) {
	if f.stale.Swap(false) {
		ds, err := f.svc.Destinations(ctx)
		if err != nil {
			f.stale.Store(true)
			return cursor, err
		}
		f.dests.Store(&ds)
	}
	if len(*f.dests.Load()) == 0 && f.opts.SkipIdle {
		return f.skip(ctx, cursor)
	}
	evs, next, err := f.src.Events(ctx, engine.EventQuery{After: cursor, Limit: engine.MaxEventsLimit})
	if err != nil || next == cursor {
		return cursor, err
	}
	c := &store.ForwardCommit{Seq: next}
	consent := map[string]store.ConsentSignal{}
	for i := range evs {
		f.forward(ctx, &evs[i], c, consent)
	}
	for _, r := range consent {
		c.Consent = append(c.Consent, r)
	}
	if err := f.st.SaveForward(ctx, c); err != nil {
		return cursor, err
	}
	if len(c.Outbox) > 0 {
		f.svc.Wake()
	}
	return next, nil
}

// skip moves the position past processed events without reading them:
// with no destination and SkipIdle, forward would do nothing with them, and
// reading them (decoding and enriching each) cost a tenth of a busy
// server's CPU. It moves at most a page's worth of events at a time, as
// reading them did, so a destination created meanwhile is noticed as soon.
func (f *Forwarder) skip(ctx context.Context, cursor uint64) (uint64, error) {
	next := min(f.src.Processed(), cursor+engine.MaxEventsLimit)
	if next <= cursor {
		return cursor, nil
	}
	if err := f.st.SaveForward(ctx, &store.ForwardCommit{Seq: next}); err != nil {
		return cursor, err
	}
	return next, nil
}

// segmentMessage is the part of a Segment message forwarding reads.
type segmentMessage struct {
	Type        string         `json:"type"`
	Event       string         `json:"event"`
	Name        string         `json:"name"`
	UserID      any            `json:"userId"`
	AnonymousID any            `json:"anonymousId"`
	Timestamp   string         `json:"timestamp"`
	Properties  map[string]any `json:"properties"`
	Traits      map[string]any `json:"traits"`
	Context     struct {
		Traits  map[string]any `json:"traits"`
		Consent struct {
			CategoryPreferences map[string]any `json:"categoryPreferences"`
		} `json:"consent"`
	} `json:"context"`
}

// idString returns a Segment ID (string or number) as text.
func idString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func (f *Forwarder) forward(ctx context.Context, ev *mosaic.Event, c *store.ForwardCommit, consent map[string]store.ConsentSignal) {
	if len(*f.dests.Load()) == 0 && f.opts.SkipIdle {
		return // nothing to forward, and consent comes from elsewhere
	}
	var m segmentMessage
	if err := json.Unmarshal(ev.Message, &m); err != nil {
		return
	}
	ref := "anonymous_id:" + idString(m.AnonymousID)
	if u := idString(m.UserID); u != "" {
		ref = "user_id:" + u
	}
	var key string
	if prefs := m.Context.Consent.CategoryPreferences; prefs != nil {
		key = f.opts.ProfileKey(ctx, ev, ref)
		b, _ := json.Marshal(prefs)
		t, _ := time.Parse(time.RFC3339Nano, m.Timestamp)
		if t.IsZero() {
			t = ev.ReceivedAt
		}
		if old, ok := consent[key]; !ok || !t.Before(old.Time) {
			consent[key] = store.ConsentSignal{ProfileKey: key, Categories: b, Time: t, Seq: ev.Seq}
		}
	}
	name := m.Event
	if ev.Type != mosaic.TypeTrack {
		name = ev.Type
	}
	for _, d := range *f.dests.Load() {
		if !d.Events.matches(ev.SourceID, name) {
			continue
		}
		if key == "" {
			key = f.opts.ProfileKey(ctx, ev, ref)
		}
		payload, err := buildPayload(ev, &m, d.Mapping)
		if err != nil {
			f.opts.Log.Warn("event not forwarded", "seq", ev.Seq, "destination", d.ID, "err", err)
			continue
		}
		c.Outbox = append(c.Outbox, store.OutboxMessage{ID: messageID(d.ID, ev.Seq), DestinationID: d.ID, ProfileKey: key,
			Type: "event", Payload: payload, CreatedAt: f.opts.Now()})
	}
}

func (e *EventFilter) matches(sourceID, name string) bool {
	if e == nil {
		return false
	}
	return (len(e.Sources) == 0 || slices.Contains(e.Sources, sourceID)) && (len(e.Names) == 0 || slices.Contains(e.Names, name))
}

// messageID derives a message's ID from its destination and event, so
// enqueueing the same event again (after a crash) gives the same ID.
func messageID(destID string, seq uint64) string {
	h := sha256.Sum256([]byte(destID + "\n" + strconv.FormatUint(seq, 10)))
	return "msg_" + hex.EncodeToString(h[:12])
}

// buildPayload returns the Standard Webhooks body of a forwarded event.
func buildPayload(ev *mosaic.Event, m *segmentMessage, mp Mapping) ([]byte, error) {
	data := map[string]any{"type": ev.Type, "messageId": ev.MessageID, "sourceId": ev.SourceID, "timestamp": m.Timestamp}
	if m.Event != "" {
		data["event"] = m.Event
	}
	if m.Name != "" {
		data["name"] = m.Name
	}
	if u := idString(m.UserID); u != "" {
		data["userId"] = u
	}
	if a := idString(m.AnonymousID); a != "" {
		data["anonymousId"] = a
	}
	traits := m.Traits
	if traits == nil {
		traits = m.Context.Traits
	}
	props, traits := pick(m.Properties, mp.Properties), pick(traits, mp.Traits)
	if hashed := hashFields(mp.Hash, props, traits); len(hashed) > 0 {
		data["hashed"] = hashed
	}
	if props != nil {
		data["properties"] = props
	}
	if traits != nil {
		data["traits"] = traits
	}
	return json.Marshal(map[string]any{"type": "event." + ev.Type, "timestamp": m.Timestamp, "data": data})
}

// pick returns the fields of m named in keep (a copy; all if keep is empty).
func pick(m map[string]any, keep []string) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if len(keep) == 0 || slices.Contains(keep, k) {
			out[k] = v
		}
	}
	return out
}

// hashFields replaces email and phone (as listed in fields) in traits and
// properties by nothing, and returns their SHA-256 hex of the normalised
// value under email_sha256 and phone_sha256, as ad platforms match them.
func hashFields(fields []string, maps ...map[string]any) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		for _, m := range maps {
			v, ok := m[f].(string)
			if !ok {
				continue
			}
			delete(m, f)
			if _, done := out[f+"_sha256"]; done || v == "" {
				continue
			}
			out[f+"_sha256"] = HashIdentifier(f, v)
		}
	}
	return out
}

// HashIdentifier returns the hex SHA-256 of a normalised email (trimmed,
// lower case) or phone (digits with a leading +, as E.164).
func HashIdentifier(kind, v string) string {
	v = strings.TrimSpace(v)
	switch kind {
	case "email":
		v = strings.ToLower(v)
	case "phone":
		v = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, v)
		if v != "" {
			v = "+" + v
		}
	}
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}
