package privacy

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	mathbits "math/bits" // this package has its own bits (tcf.go)
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
// on a server: the consent observer and the audiences ask). Each marker
// holds a 'c' or a 'C', its anchor, so one pass over the message that
// stops at those bytes finds them all: five vectorised searches, one per
// marker, each stopping at every byte that could start its marker, cost
// nearly 4 % of a replay's CPU, most of it in the calls themselves.
var consentMarkers = [...]marker{
	{[]byte(`"consent"`), 1},
	{[]byte(`"gpc"`), 3},
	{[]byte(`tcf`), 1},
	{[]byte(`TCString`), 1},
	{[]byte(`"mosaicConsent"`), 7},
}

// marker is a byte string to look for and the index of its anchor, a 'c'
// or 'C' that is not its first byte.
type marker struct {
	s      []byte
	anchor int
}

// mayCarryConsent reports whether msg contains one of consentMarkers, as
// bytes.Contains finds them.
func mayCarryConsent(msg []byte) bool {
	const ones, highs, lower = 0x0101010101010101, 0x8080808080808080, 0x2020202020202020
	i := 0
	for ; i+8 <= len(msg); i += 8 {
		// Setting each byte's 0x20 bit makes 'C' a 'c' and nothing else one;
		// the zero-byte trick then flags the 'c's. It may flag a byte above
		// a 'c' falsely, never miss one, so each flag is checked.
		x := (binary.LittleEndian.Uint64(msg[i:]) | lower) ^ (ones * 'c')
		for m := (x - ones) &^ x & highs; m != 0; m &= m - 1 {
			if j := i + mathbits.TrailingZeros64(m)/8; j > 0 && beforeAnchor[msg[j-1]] && markerAt(msg, j) {
				return true
			}
		}
	}
	for ; i < len(msg); i++ {
		if markerAt(msg, i) {
			return true
		}
	}
	return false
}

// markerAt reports whether msg[j] is the anchor of a marker msg holds.
// Every anchor has a byte before it: the two bytes rule out most
// candidates with one comparison per marker before one is compared whole.
func markerAt(msg []byte, j int) bool {
	if j == 0 {
		return false
	}
	pair := uint16(msg[j-1])<<8 | uint16(msg[j])
	for k, p := range markerPairs {
		if p != pair {
			continue
		}
		m := consentMarkers[k].s
		if start := j - consentMarkers[k].anchor; start >= 0 && start+len(m) <= len(msg) && bytes.Equal(msg[start:start+len(m)], m) {
			return true
		}
	}
	return false
}

// beforeAnchor holds the bytes that come before an anchor in a marker:
// checking it first spares most 'c's in a message the call to markerAt.
var beforeAnchor = func() (before [256]bool) {
	for _, m := range consentMarkers {
		before[m.s[m.anchor-1]] = true
	}
	return before
}()

// markerPairs holds each marker's anchor with the byte before it, as
// markerAt reads them.
var markerPairs = func() (pairs [len(consentMarkers)]uint16) {
	for k, m := range consentMarkers {
		pairs[k] = uint16(m.s[m.anchor-1])<<8 | uint16(m.s[m.anchor])
	}
	return pairs
}()

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
