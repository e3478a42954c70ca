package privacy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/store"
)

// Observer keeps every profile's consent in step with the profile stage:
// it is an engine.ProfileObserver, told each event in log order after the
// event's merges, so consent follows identity (a device's opt-out reaches
// the profile it is linked to, and merged profiles combine their consent).
//
// It holds each profile's state in memory for Granted, and saves changed
// states and new history records at the stage's checkpoints.
type Observer struct {
	// cfg is swapped whole when the purposes change at runtime (Catalog);
	// each reader takes one config and uses it throughout.
	cfg atomic.Pointer[Config]
	st  store.ConsentStore

	ready     chan struct{} // closed once Load has run
	readyOnce sync.Once

	mu      sync.RWMutex
	loaded  uint64
	states  map[uint64]State
	dirty   map[uint64]bool
	pending unsaved
	// inflight is what a save has been given and not yet confirmed: reads
	// see it, so a decision is never invisible between memory and store.
	inflight []unsaved
}

// unsaved is history not yet in the store.
type unsaved struct {
	merges  []store.ProfileMerge
	records []store.ConsentRow
}

var _ engine.ProfileObserver = (*Observer)(nil)

// NewObserver returns an observer saving to st.
func NewObserver(cfg *Config, st store.ConsentStore) *Observer {
	o := &Observer{st: st, states: map[uint64]State{}, dirty: map[uint64]bool{}, ready: make(chan struct{})}
	o.cfg.Store(cfg)
	return o
}

// config returns the consent configuration in force.
func (o *Observer) config() *Config { return o.cfg.Load() }

// setConfig puts cfg in force for the events observed from now on.
func (o *Observer) setConfig(cfg *Config) { o.cfg.Store(cfg) }

// Load implements engine.ProfileObserver.
func (o *Observer) Load(ctx context.Context) (uint64, error) {
	seq, err := o.st.ConsentCheckpoint(ctx)
	if err != nil {
		return 0, fmt.Errorf("privacy: load consent position: %w", err)
	}
	states := map[uint64]State{}
	err = o.st.LoadConsent(ctx, func(id uint64, data []byte) error {
		s := State{}
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("privacy: consent state of profile %d: %w", id, err)
		}
		states[id] = s
		return nil
	})
	if err != nil {
		return 0, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.loaded, o.states, o.dirty, o.pending, o.inflight = seq, states, map[uint64]bool{}, unsaved{}, nil
	o.readyOnce.Do(func() { close(o.ready) })
	return seq, nil
}

// wait blocks until the saved state is loaded: before that, every profile
// would look as if it had no consent recorded.
func (o *Observer) wait(ctx context.Context) error {
	select {
	case <-o.ready:
		return nil
	case <-ctx.Done():
		return mosaic.Errorf(mosaic.EUNAVAILABLE, "Consent is still loading after a start; retry shortly.")
	}
}

// mayCarryConsent is a cheap filter: only messages naming one of these can
// carry a signal, so most events skip decoding. It runs on every event (twice
// on a server: the consent observer and the audiences ask), so each marker
// is looked for by its rarest byte in typical messages, which a vectorised
// search finds a few times per message: bytes.Contains, which anchors on the
// first byte, stops at each of a message's hundred quotes and cost 4 % of a
// replay's CPU.
var consentMarkers = []marker{
	{[]byte(`"consent"`), 1},       // 'c'
	{[]byte(`"gpc"`), 1},           // 'g'
	{[]byte(`tcf`), 2},             // 'f'
	{[]byte(`TCString`), 2},        // 'S'
	{[]byte(`"mosaicConsent"`), 7}, // 'C'
}

// marker is a byte string to look for and the index of the byte to search
// for first.
type marker struct {
	s      []byte
	anchor int
}

func mayCarryConsent(msg []byte) bool {
	for _, m := range consentMarkers {
		if m.in(msg) {
			return true
		}
	}
	return false
}

// in reports whether msg contains m.s, as bytes.Contains does.
func (m marker) in(msg []byte) bool {
	c, n := m.s[m.anchor], len(m.s)
	for i := m.anchor; i < len(msg); i++ {
		j := bytes.IndexByte(msg[i:], c)
		if j < 0 {
			return false
		}
		i += j
		if start := i - m.anchor; start+n <= len(msg) && bytes.Equal(msg[start:start+n], m.s) {
			return true
		}
	}
	return false
}

// Observe implements engine.ProfileObserver.
func (o *Observer) Observe(c *engine.ProfileChange) {
	if c.Seq <= o.loaded {
		return
	}
	if len(c.Erased) > 0 {
		o.forget(c.Erased)
	}
	var ds []Decision
	if c.Profile != 0 && mayCarryConsent(c.Event.Message) {
		ds = o.config().Signals(c.Event)
	}
	if len(c.Merges) == 0 && len(ds) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range c.Merges {
		o.merge(m.Absorbed, m.Survivor)
	}
	for i := range ds {
		o.decide(c.Profile, &ds[i])
	}
}

// forget drops the consent state of erased profiles and their records not
// saved yet; the profile stage deletes their stored rows.
func (o *Observer) forget(ids []uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range ids {
		delete(o.states, id)
		delete(o.dirty, id)
	}
	o.pending.records = slices.DeleteFunc(o.pending.records, func(r store.ConsentRow) bool { return slices.Contains(ids, r.ProfileID) })
}

func (o *Observer) merge(absorbed, survivor uint64) {
	o.pending.merges = append(o.pending.merges, store.ProfileMerge{Absorbed: absorbed, Survivor: survivor})
	a, ok := o.states[absorbed]
	if !ok {
		return
	}
	s := o.states[survivor]
	if s == nil {
		s = State{}
		o.states[survivor] = s
	}
	s.Merge(a)
	delete(o.states, absorbed)
	delete(o.dirty, absorbed)
	o.dirty[survivor] = true
}

// decide applies d to a profile and records it in the history, unless it
// only repeats the decision in force (a CMP stamps every event with the
// same choice; the history keeps changes). Explicit decisions through the
// API are always recorded: each is an act someone may need to prove.
func (o *Observer) decide(profileID uint64, d *Decision) {
	s := o.states[profileID]
	if s == nil {
		s = State{}
		o.states[profileID] = s
	}
	cur, had := s[d.Purpose]
	if had && cur.Granted == d.Granted && !explicit(d.Source) {
		return
	}
	d.Overridden = !s.Apply(d)
	data, _ := json.Marshal(d)
	o.pending.records = append(o.pending.records, store.ConsentRow{ProfileID: profileID, Purpose: d.Purpose, Time: d.Time, Seq: d.Seq, Data: data})
	o.dirty[profileID] = true
}

// Checkpoint implements engine.ProfileObserver.
func (o *Observer) Checkpoint(seq uint64) (func(context.Context) error, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := &store.ConsentCommit{Seq: seq, Merges: o.pending.merges, Records: o.pending.records}
	for id := range o.dirty {
		data, err := json.Marshal(o.states[id])
		if err != nil {
			return nil, err
		}
		c.States = append(c.States, store.ProfileRow{ID: id, Data: data})
	}
	batch := o.pending
	o.inflight = append(o.inflight, batch)
	o.pending, o.dirty = unsaved{}, map[uint64]bool{}
	return func(ctx context.Context) error {
		if err := o.st.SaveConsent(ctx, c); err != nil {
			return err
		}
		o.mu.Lock()
		if len(o.inflight) > 0 {
			o.inflight = o.inflight[1:] // saves complete in order, one at a time
		}
		o.mu.Unlock()
		return nil
	}, nil
}
