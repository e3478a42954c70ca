package privacy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

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
	cfg *Config
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
	return &Observer{cfg: cfg, st: st, states: map[uint64]State{}, dirty: map[uint64]bool{}, ready: make(chan struct{})}
}

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
// carry a signal, so most events skip decoding.
var consentMarkers = [][]byte{[]byte(`"consent"`), []byte(`"gpc"`), []byte(`tcf`), []byte(`TCString`), []byte(`"mosaicConsent"`)}

func mayCarryConsent(msg []byte) bool {
	for _, m := range consentMarkers {
		if bytes.Contains(msg, m) {
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
	var ds []Decision
	if c.Profile != 0 && mayCarryConsent(c.Event.Message) {
		ds = o.cfg.Signals(c.Event)
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
