package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
	"github.com/mosaic-cdp/mosaic/predict"
	"github.com/mosaic-cdp/mosaic/store"
)

// ObserverOptions says which events feed the predictions.
type ObserverOptions struct {
	// OrderEvent is the track event that records a purchase. Default
	// "Order Completed" (Segment's e-commerce spec).
	OrderEvent string
	// RevenueProperty is the order event's property holding its value.
	// Default "revenue".
	RevenueProperty string
	// MaxOrders and MaxActivities bound what is kept per profile (default
	// 10,000 and 2,000): the oldest go first, so a bot cannot fill memory.
	MaxOrders, MaxActivities int
}

func (o ObserverOptions) withDefaults() ObserverOptions {
	if o.OrderEvent == "" {
		o.OrderEvent = "Order Completed"
	}
	if o.RevenueProperty == "" {
		o.RevenueProperty = "revenue"
	}
	if o.MaxOrders <= 0 {
		o.MaxOrders = 10000
	}
	if o.MaxActivities <= 0 {
		o.MaxActivities = 2000
	}
	return o
}

// engagementEvents maps track event names to what they say about a
// message channel: the names of Segment's email, push and SMS specs and of
// the common messaging tools.
var engagementEvents = map[string]act{
	"Email Delivered": {kind: kindSent, channel: chEmail}, "Email Sent": {kind: kindSent, channel: chEmail},
	"Email Opened": {kind: kindOpened, channel: chEmail}, "Email Link Clicked": {kind: kindClicked, channel: chEmail},
	"Push Delivered": {kind: kindSent, channel: chPush}, "Push Sent": {kind: kindSent, channel: chPush},
	"Push Notification Received": {kind: kindSent, channel: chPush},
	"Push Opened":                {kind: kindOpened, channel: chPush}, "Push Notification Tapped": {kind: kindOpened, channel: chPush},
	"Push Notification Opened": {kind: kindOpened, channel: chPush},
	"SMS Delivered":            {kind: kindSent, channel: chSMS}, "SMS Sent": {kind: kindSent, channel: chSMS},
	"SMS Opened": {kind: kindOpened, channel: chSMS}, "SMS Link Clicked": {kind: kindClicked, channel: chSMS},
	"SMS Replied":           {kind: kindOpened, channel: chSMS},
	"In-App Message Viewed": {kind: kindSent, channel: chInApp}, "In-App Message Clicked": {kind: kindClicked, channel: chInApp},
	"WhatsApp Delivered": {kind: kindSent, channel: chWhatsApp}, "WhatsApp Read": {kind: kindOpened, channel: chWhatsApp},
	"WhatsApp Link Clicked": {kind: kindClicked, channel: chWhatsApp},
	"Product Viewed":        {kind: kindProductView},
}

// Observer gathers each profile's orders and engagement from the profile
// stage (it is an engine.ProfileObserver) and keeps them in memory,
// checkpointed to the store with the stage. Fits read a snapshot of it.
type Observer struct {
	st   store.PredictStore
	opts ObserverOptions

	mu     sync.RWMutex
	loaded uint64
	// hs holds each profile's history behind a pointer, so an event costs
	// one lookup: changing a map's value in place needs an access and an
	// assignment, each a hash and a probe of a map of millions.
	hs map[uint64]*history
	// dirty lists the profiles changed since the last checkpoint: every
	// history with its dirty flag set is in it, besides ids of profiles
	// since removed or listed twice, which Checkpoint skips. A slice and a
	// flag instead of a set spare each event a map assignment.
	dirty   []uint64
	deleted map[uint64]bool // deleted since the last checkpoint
	names   map[string]string
	zones   map[string]*time.Location
	strs    stringCache // of readEnvelope
	// handedOut counts the times histories left the lock (snapshot and
	// history), incremented while holding it for reading, so Observe,
	// which holds it for writing, sees a stable count (see history).
	handedOut atomic.Uint64
}

// NewObserver returns an Observer that keeps its state in st.
func NewObserver(st store.PredictStore, opts ObserverOptions) *Observer {
	return &Observer{
		st: st, opts: opts.withDefaults(), hs: map[uint64]*history{},
		deleted: map[uint64]bool{}, names: map[string]string{}, zones: map[string]*time.Location{},
	}
}

// Load implements engine.ProfileObserver.
func (o *Observer) Load(ctx context.Context) (uint64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	hs := map[uint64]*history{}
	seq, err := o.st.LoadPredictActivity(ctx, func(id uint64, data []byte) error {
		h, err := decodeHistory(data, o.intern)
		if err != nil {
			return fmt.Errorf("prediction activity of profile %d: %w", id, err)
		}
		hs[id] = &h
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("load prediction activity: %w", err)
	}
	o.hs, o.loaded = hs, seq
	o.dirty = o.dirty[:0]
	clear(o.deleted)
	return seq, nil
}

// Observe implements engine.ProfileObserver.
func (o *Observer) Observe(c *engine.ProfileChange) {
	if c.Seq <= o.loaded {
		return // saved before the restart
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range c.Removed {
		o.remove(id)
	}
	for _, m := range c.Merges {
		if a, ok := o.hs[m.Absorbed]; ok && m.Absorbed != m.Survivor {
			var s history
			if p := o.hs[m.Survivor]; p != nil {
				s = *p
			}
			h := merge(s, *a, o.opts.MaxOrders, o.opts.MaxActivities)
			h.ordersGen, h.actsGen = o.handedOut.Load(), o.handedOut.Load()
			o.hs[m.Survivor] = &h
			o.markDirty(m.Survivor, &h)
			o.remove(m.Absorbed)
		}
	}
	if c.Event == nil || c.Profile == 0 {
		return
	}
	ord, a, ok := o.parse(c)
	if !ok {
		return
	}
	h := o.hs[c.Profile]
	if h == nil {
		h = &history{}
		o.hs[c.Profile] = h
	}
	if ord != nil {
		h.insertOrder(*ord, o.opts.MaxOrders, o.handedOut.Load())
	} else {
		h.insertAct(a, o.opts.MaxActivities, o.handedOut.Load())
	}
	o.markDirty(c.Profile, h)
	// Deleting (rather than storing false) keeps the map to the profiles
	// removed, not every profile an event touched, for Checkpoint to range
	// over and clear.
	delete(o.deleted, c.Profile)
}

func (o *Observer) remove(id uint64) {
	delete(o.hs, id)
	o.deleted[id] = true
}

// markDirty records that id's history h changed since the last checkpoint.
func (o *Observer) markDirty(id uint64, h *history) {
	if !h.dirty {
		h.dirty = true
		o.dirty = append(o.dirty, id)
	}
}

// Checkpoint implements engine.ProfileObserver: it encodes the profiles
// changed since the last checkpoint now, and the save writes them.
func (o *Observer) Checkpoint(seq uint64) (func(context.Context) error, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := &store.PredictActivityCommit{Seq: seq}
	for id, del := range o.deleted {
		if del {
			c.Deleted = append(c.Deleted, id)
		}
	}
	for _, id := range o.dirty {
		if h := o.hs[id]; h != nil && h.dirty {
			h.dirty = false
			c.Rows = append(c.Rows, store.ProfileRow{ID: id, Data: h.appendBinary(nil)})
		}
	}
	o.dirty = o.dirty[:0]
	clear(o.deleted)
	return func(ctx context.Context) error { return o.st.SavePredictActivity(ctx, c) }, nil
}

// snapshot returns every profile's history as of now. The histories share
// memory with the observer's, which is never changed in place.
func (o *Observer) snapshot() ([]uint64, []history) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	o.handedOut.Add(1)
	ids, hs := make([]uint64, 0, len(o.hs)), make([]history, 0, len(o.hs))
	for id, h := range o.hs {
		ids, hs = append(ids, id), append(hs, *h)
	}
	return ids, hs
}

// history returns one profile's history.
func (o *Observer) history(id uint64) (history, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	o.handedOut.Add(1)
	h, ok := o.hs[id]
	if !ok {
		return history{}, false
	}
	return *h, true
}

// message is what the observer reads of an event.
type message struct {
	Type      string          `json:"type"`
	Event     string          `json:"event"`
	Timestamp string          `json:"timestamp"`
	Props     json.RawMessage `json:"properties"`
	Context   struct {
		Timezone string `json:"timezone"`
	} `json:"context"`
}

// parse reads an event: an order, another activity, or nothing for the
// predictions.
func (o *Observer) parse(c *engine.ProfileChange) (*order, act, bool) {
	switch c.Event.Type { // known without decoding: identify, group, alias hold nothing for the models
	case mosaic.TypeTrack:
		// The profile read the event's name: most tracks say nothing to
		// the models, and decoding every message cost a tenth of the
		// processing.
		if c.Name != "" && c.Name != o.opts.OrderEvent {
			if _, ok := engagementEvents[c.Name]; !ok {
				return nil, act{}, false
			}
		}
	case mosaic.TypePage, mosaic.TypeScreen, "": // "": not stamped, decode to know
	default:
		return nil, act{}, false
	}
	var m message
	var ok bool
	plain := c.Envelope.Plain
	if plain {
		m, ok = readEnvelope(&c.Envelope, &o.strs)
	} else {
		m, ok = readMessage(c.Event.Message)
	}
	if !ok {
		return nil, act{}, false
	}
	t := c.Event.ReceivedAt
	if plain && c.Envelope.Stamped {
		t = c.Time // what time.Parse gives below, to the µs that a.t and ord.t keep
	} else if ts, err := time.Parse(time.RFC3339Nano, m.Timestamp); err == nil {
		t = ts
	}
	var a act
	switch {
	case m.Type == "page" || m.Type == "screen":
		a.kind = kindPageView
	case m.Type != "track":
		return nil, act{}, false
	case m.Event == o.opts.OrderEvent:
		if plain { // the envelope has no properties
			if m, ok = readMessage(c.Event.Message); !ok {
				return nil, act{}, false
			}
		}
		return o.parseOrder(m.Props, t), act{}, true
	default:
		var ok bool
		if a, ok = engagementEvents[m.Event]; !ok {
			return nil, act{}, false
		}
	}
	a.t, a.hour = t.UnixMicro(), uint8(predict.HourOfWeekOf(t, o.zone(m.Context.Timezone)))
	return nil, a, true
}

// orderProps is what an order event's properties hold (Segment's
// e-commerce spec), besides the revenue property.
type orderProps struct {
	ProductID string `json:"product_id"`
	Products  []struct {
		ProductID string `json:"product_id"`
		SKU       string `json:"sku"`
		ID        string `json:"id"`
		Name      string `json:"name"`
	} `json:"products"`
}

func (o *Observer) parseOrder(raw json.RawMessage, t time.Time) *order {
	ord := &order{t: t.UnixMicro()}
	var p orderProps
	// Decoding checks that raw is JSON before anything else, so a syntax
	// error is the only one that says raw is not; a value of the wrong
	// shape leaves its field empty and the rest decoded.
	var syntax *json.SyntaxError
	if err := json.Unmarshal(raw, &p); errors.As(err, &syntax) {
		return ord
	}
	switch i := jsonscan.SkipSpace(raw, 0); raw[i] {
	case 'n': // null: no properties, as decoding into a map gives
	case '{':
		ord.revenue = number(o.revenueOf(raw))
	default: // properties that are not an object hold no order
		return ord
	}
	if p.ProductID != "" {
		ord.products = append(ord.products, o.intern(p.ProductID))
	}
	for _, item := range p.Products {
		if id := cmpOr(item.ProductID, item.SKU, item.ID, item.Name); id != "" {
			ord.products = append(ord.products, o.intern(id))
		}
	}
	return ord
}

// revenueOf returns the value of the revenue property of the JSON object
// props, nil if it has none, as decoding it into a map would: the name
// matched exactly once its escapes are decoded, the last of repeated ones
// winning. Decoding every order's properties into a map cost more than
// the rest of reading it.
func (o *Observer) revenueOf(props []byte) []byte {
	var val []byte
	jsonscan.Object(props, func(key, v []byte) bool {
		if keyEquals(key, o.opts.RevenueProperty) {
			val = v
		}
		return true
	})
	return val
}

// keyEquals reports whether the raw key (as jsonscan.Object gives it),
// decoded, is name.
func keyEquals(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw) == name // what jsonscan.Key gives, without the copy
	}
	key, ok := jsonscan.Key(raw)
	return ok && key == name
}

func cmpOr(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// number reads a JSON number, or a string holding one (some shops send
// "12.50"); anything else is 0.
func number(raw json.RawMessage) float64 {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	switch v := v.(type) {
	case float64:
		return v
	case string:
		f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f
	}
	return 0
}

// zone returns the time zone an event names (context.timezone, an IANA
// name), UTC if it names none or an unknown one.
func (o *Observer) zone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if loc, ok := o.zones[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil || len(o.zones) > 1000 {
		loc = time.UTC
	}
	if len(o.zones) <= 1000 {
		o.zones[name] = loc
	}
	return loc
}

// intern shares the memory of product names between orders.
func (o *Observer) intern(s string) string {
	if v, ok := o.names[s]; ok {
		return v
	}
	o.names[s] = s
	return s
}
