package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/profile"
	"github.com/mosaic-cdp/mosaic/store"
)

// Store is what the segment engine keeps its state in.
type Store interface {
	store.SegmentStore
	ProfileCheckpoint(ctx context.Context) (seq uint64, graph []byte, graphSeq uint64, err error)
}

// EventSource reads the deduplicated event log (engine.Engine).
type EventSource interface {
	Events(ctx context.Context, q engine.EventQuery) ([]mosaic.Event, uint64, error)
}

// ProfileSource reads the profile stage's profiles (engine.Profiles), for
// backfills of traits.
type ProfileSource interface {
	ProfileIDs() []uint64
	ReadProfiles(ids []uint64, fn func([]*profile.Profile))
}

// Options configures the segment engine.
type Options struct {
	Log *slog.Logger
	// Now is the clock; tests pass a controllable one.
	Now func() time.Time
	// SaveEvery is how soon changes made by timers alone, while no event
	// arrives, are saved (default 100ms): a window exit is saved, and
	// delivered, that long after its moment at most, and the timers that
	// fire meanwhile share the save. Changes caused by events are saved
	// with the profile stage's checkpoints.
	SaveEvery time.Duration
	// Predicted returns a profile's predicted traits (package predict),
	// keyed without the "predicted." prefix; conditions read them as the
	// traits "predicted.<name>". Nil: no predicted traits.
	Predicted func(profileID uint64) map[string]any
	// ChangesSaved, if set, is called after a save of the engine's own
	// (timer-made changes) that held audience changes, so their delivery
	// starts at once. Saves with the profile stage's checkpoints are told
	// by that stage (engine.ProfileOptions.Saved).
	ChangesSaved func()
	// Consent, if set, is what the condition consent(...) reads (see
	// ConsentSource); nil: the events' latest categoryPreferences.
	Consent ConsentSource
}

// Segments is the segment engine. Create it with New, pass it to the
// profile stage as an observer, Attach the stage, and Run it.
type Segments struct {
	st     Store
	events EventSource
	opts   Options

	profilesMu sync.Mutex
	profiles   ProfileSource

	loaded chan struct{}
	runCtx context.Context // bounds backfills: Run's
	jobMu  sync.Mutex      // one backfill at a time
	wake   chan struct{}

	mu       sync.Mutex // guards everything below
	seq      uint64     // last log position observed
	skipUpTo uint64     // what Load restored: changes up to here are saved
	safe     uint64     // the last checkpoint's position: every change up to it observed
	version  uint64     // of the last commit built
	meta     metaState
	states   map[uint64]*pstate
	// made and removals count the states added to and removed from
	// states; list is them in ID order (see list.go).
	made, removals uint64
	list           profileList
	redirects      map[uint64]uint64 // absorbed → survivor, for backfills
	// dirty and touched are the profiles whose states changed since the
	// last commit: touched those changed in place (a flag on the state
	// and a list: cheaper than a map on the paths every event and every
	// backfill takes), dirty any other, removed ones among them.
	dirty      map[uint64]bool
	touched    []uint64
	pending    changeLog
	timers     timerHeap
	timersKept int // the heap's size after its last compaction

	computed      map[string]*ComputedTrait // by ID
	ctByKey       map[string]*ComputedTrait
	audiences     map[string]*Audience // by ID
	audByKey      map[string]*Audience
	order         []*live // audiences, those referred to before those referring
	index         index
	marks         []bool // by position in order: to evaluate; all false between uses
	subj          subject
	lastCause     cause // and its JSON, reused while it does not change
	lastCauseJSON string
	causeBuf      []byte   // lastCauseJSON's encoding, reused
	changedTraits []string // refreshTraits' result, reused
	members       map[string]map[uint64]bool
	memberOrders  map[string]*memberOrder // of the audiences paged through (see members.go)
	jobs          map[string]*Job         // the latest backfill of each definition
	slots         map[string]int32        // audience ID → slot (see slots.go)
	slotIDs       []string                // slot → audience ID; slot 0 is none
	slotEnc       [][]byte                // slot → audience ID as states save it
	rowBytes      int                     // the last commit's average encoded state
	names         map[string]string       // see intern
}

// removed notes that states were removed from states (or replaced).
func (s *Segments) removed() {
	s.removals++
	s.list.removed()
}

// intern returns the engine's one copy of a trait name, so that the
// states of a million profiles share it. The caller holds s.mu.
func (s *Segments) intern(name string) string {
	if n, ok := s.names[name]; ok {
		return n
	}
	s.names[name] = name
	return name
}

// metaState is the part of the checkpoint that is not per profile.
type metaState struct {
	NextChange int64                `json:"next_change"`
	Ready      map[string]bool      `json:"ready"`   // definitions backfilled
	Events     map[string]*tracking `json:"events"`  // event names kept per profile
	Traits     map[string]bool      `json:"traits"`  // trait names kept, and whether loaded
	Consent    bool                 `json:"consent"` // consent before live observation loaded
}

// tracking is how long the events of one name are kept.
type tracking struct {
	Retention time.Duration `json:"retention"` // 0: all time
	Ready     bool          `json:"ready"`     // the history is loaded
}

// New returns a segment engine over the store and the event log.
func New(st Store, events EventSource, opts Options) *Segments {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SaveEvery <= 0 {
		opts.SaveEvery = 100 * time.Millisecond
	}
	s := &Segments{st: st, events: events, opts: opts, loaded: make(chan struct{}), wake: make(chan struct{}, 1), runCtx: context.Background()}
	s.reset()
	return s
}

func (s *Segments) reset() {
	s.meta = metaState{Ready: map[string]bool{}, Events: map[string]*tracking{}, Traits: map[string]bool{}}
	s.states, s.redirects, s.dirty = map[uint64]*pstate{}, map[uint64]uint64{}, map[uint64]bool{}
	s.touched = nil
	s.removed()
	s.computed, s.ctByKey = map[string]*ComputedTrait{}, map[string]*ComputedTrait{}
	s.audiences, s.audByKey = map[string]*Audience{}, map[string]*Audience{}
	s.members, s.jobs = map[string]map[uint64]bool{}, map[string]*Job{}
	s.memberOrders = map[string]*memberOrder{}
	s.names = map[string]string{}
	s.pending, s.timers = changeLog{}, timerHeap{}
	s.slots, s.slotIDs, s.slotEnc = map[string]int32{}, []string{""}, [][]byte{appendString(nil, "")}
}

// Attach gives the engine the profile stage to read traits from.
func (s *Segments) Attach(p ProfileSource) {
	s.profilesMu.Lock()
	s.profiles = p
	s.profilesMu.Unlock()
}

func (s *Segments) jobContext() context.Context {
	s.profilesMu.Lock()
	defer s.profilesMu.Unlock()
	return s.runCtx
}

func (s *Segments) profileSource() ProfileSource {
	s.profilesMu.Lock()
	defer s.profilesMu.Unlock()
	return s.profiles
}

// Load implements engine.ProfileObserver: it reads the definitions and the
// last checkpoint, and rebuilds memberships and timers from it.
func (s *Segments) Load(ctx context.Context) (uint64, error) {
	cts, err := s.st.Definitions(ctx, KindComputed)
	if err != nil {
		return 0, fmt.Errorf("segment: load computed traits: %w", err)
	}
	auds, err := s.st.Definitions(ctx, KindAudience)
	if err != nil {
		return 0, fmt.Errorf("segment: load audiences: %w", err)
	}
	version, seq, meta, err := s.st.SegmentCheckpoint(ctx)
	if err != nil {
		return 0, fmt.Errorf("segment: load checkpoint: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
	if len(meta) > 0 {
		if err := json.Unmarshal(meta, &s.meta); err != nil {
			return 0, fmt.Errorf("segment: checkpoint metadata: %w", err)
		}
		s.meta.fill()
	}
	if err := s.restoreDefinitions(cts, auds); err != nil {
		return 0, err
	}
	err = s.st.LoadSegmentProfiles(ctx, func(id uint64, data []byte) error {
		p, err := s.decodeState(data)
		if err != nil {
			return fmt.Errorf("segment: profile %d state: %w", id, err)
		}
		s.states[id] = p
		s.removed() // in bulk: the list is built when first needed
		for _, e := range p.member {
			s.memberSet(s.slotID(e.slot))[id] = true
		}
		for _, e := range p.next {
			s.timers.push(timer{sec: e.sec, nsec: e.nsec, slot: e.slot, profile: id})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.seq, s.skipUpTo, s.safe, s.version = seq, seq, seq, version
	select {
	case <-s.loaded:
	default:
		close(s.loaded)
	}
	return seq, nil
}

func (m *metaState) fill() {
	if m.Ready == nil {
		m.Ready = map[string]bool{}
	}
	if m.Events == nil {
		m.Events = map[string]*tracking{}
	}
	if m.Traits == nil {
		m.Traits = map[string]bool{}
	}
}

func (s *Segments) restoreDefinitions(cts, auds []*store.Definition) error {
	for _, d := range cts {
		t := &ComputedTrait{}
		if err := json.Unmarshal(d.Data, t); err != nil {
			return fmt.Errorf("segment: computed trait %s: %w", d.ID, err)
		}
		if err := t.restore(); err != nil {
			return fmt.Errorf("segment: computed trait %s: %w", d.ID, err)
		}
		s.computed[t.ID], s.ctByKey[t.Key] = t, t
	}
	for _, d := range auds {
		a := &Audience{}
		if err := json.Unmarshal(d.Data, a); err != nil {
			return fmt.Errorf("segment: audience %s: %w", d.ID, err)
		}
		c, err := parseCondition(a.Condition)
		if err != nil {
			return fmt.Errorf("segment: audience %s: %w", d.ID, err)
		}
		if err := a.setCondition(c); err != nil {
			return err
		}
		s.audiences[a.ID], s.audByKey[a.Key] = a, a
	}
	return s.rebuild()
}

func (s *Segments) memberSet(aud string) map[uint64]bool {
	m := s.members[aud]
	if m == nil {
		m = map[uint64]bool{}
		s.members[aud] = m
	}
	return m
}

// Checkpoint implements engine.ProfileObserver.
func (s *Segments) Checkpoint(seq uint64) (func(context.Context) error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = max(s.seq, seq)
	s.safe = seq
	c, err := s.commitLocked(s.seq)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return s.st.SaveSegments(ctx, c) }, nil
}

// commitLocked takes everything changed since the last commit into a new
// one. Versions order commits, so an older one saved again after a newer
// one changes nothing.
//
// seq is the position saved: after a restart, changes at or below it are
// not applied again. Between checkpoints, partitions may have shown
// changes past positions they have not shown yet, so saves of their own
// (timers, deletions) give the last checkpoint's position: applying an
// event twice changes nothing.
func (s *Segments) commitLocked(seq uint64) (*store.SegmentCommit, error) {
	s.version++
	meta, err := json.Marshal(&s.meta)
	if err != nil {
		return nil, fmt.Errorf("segment: encode checkpoint metadata: %w", err)
	}
	n := len(s.dirty) + len(s.touched)
	c := &store.SegmentCommit{Version: s.version, Seq: seq, Meta: meta, Changes: s.pending.take(),
		Profiles: make([]store.SegmentProfileRow, 0, n)}
	// The states are encoded one after another into one buffer, each row
	// a capped slice of it: one allocation for most commits. When the
	// buffer grows, rows already cut keep the old array, which nothing
	// writes to again. It is sized from the last commit's rows, so that it
	// rarely grows: each growth copies everything encoded so far.
	buf := make([]byte, 0, (s.rowBytes+s.rowBytes/8+16)*n)
	for id := range s.dirty {
		if p := s.states[id]; p != nil {
			s.touch(id, p) // written once, below
			continue
		}
		c.Profiles = append(c.Profiles, store.SegmentProfileRow{ID: id, Version: s.version})
	}
	for _, id := range s.touched {
		p := s.states[id]
		if p == nil || !p.touched {
			// Removed since (its deletion is in dirty, written above),
			// or listed twice: a state removed and made again.
			continue
		}
		p.touched = false
		row := store.SegmentProfileRow{ID: id, Version: s.version}
		if !p.isEmpty() {
			start := len(buf)
			buf = s.appendState(buf, p)
			row.Data = buf[start:len(buf):len(buf)]
		}
		c.Profiles = append(c.Profiles, row)
	}
	if len(c.Profiles) > 0 {
		s.rowBytes = len(buf) / len(c.Profiles)
	}
	if len(s.dirty) > 1<<16 {
		s.dirty = map[uint64]bool{} // a cleared map keeps its size, and iterating it costs that
	} else {
		clear(s.dirty)
	}
	if cap(s.touched) > 1<<16 {
		s.touched = nil // as for dirty: a backfill's list is not kept
	} else {
		s.touched = s.touched[:0]
	}
	return c, nil
}

// touch records that p, the state of profile id, changed. The caller
// holds s.mu.
func (s *Segments) touch(id uint64, p *pstate) {
	if !p.touched {
		p.touched = true
		s.touched = append(s.touched, id)
	}
}

// saveOwn saves what timers changed while no event came, retrying until it
// succeeds or ctx ends.
func (s *Segments) saveOwn(ctx context.Context) {
	s.mu.Lock()
	if s.pending.len() == 0 && len(s.dirty) == 0 && len(s.touched) == 0 {
		s.mu.Unlock()
		return
	}
	c, err := s.commitLocked(s.safe)
	s.mu.Unlock()
	if err != nil {
		s.opts.Log.Error("segment checkpoint cannot be encoded", "err", err)
		return
	}
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 10*time.Second) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		err := s.st.SaveSegments(sctx, c)
		cancel()
		if err == nil {
			if len(c.Changes) > 0 && s.opts.ChangesSaved != nil {
				s.opts.ChangesSaved()
			}
			return
		}
		s.opts.Log.Error("segment checkpoint failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			// The changes are in the next checkpoint the profile stage
			// takes at shutdown: give them back to it.
			s.mu.Lock()
			s.pending.prepend(c.Changes)
			for _, p := range c.Profiles {
				s.dirty[p.ID] = true
			}
			s.mu.Unlock()
			return
		case <-time.After(wait):
		}
	}
}
