package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/profile"
	"github.com/mosaic-cdp/mosaic/store"
)

// ProfileOptions configures the profile stage.
type ProfileOptions struct {
	Log *slog.Logger
	// Rules are the identity resolution rules at the start of the log; zero
	// means identity.DefaultRules. System records in the log change them
	// from their position on (see SetRules).
	Rules identity.Rules
	// Extract configures which identifiers events carry (default region for
	// phones, trait names that are identifiers).
	Extract identity.ExtractConfig
	// CheckpointEvery is how often profiles are saved (default 500ms).
	CheckpointEvery time.Duration
	// SnapshotEvery is how often the whole identity graph is saved (default
	// 30s); between snapshots a restart re-resolves the events since the
	// last one, which is deterministic.
	SnapshotEvery time.Duration
	// Append writes system records (splits, rule changes) to the event
	// log; without it Split and SetRules answer EUNAVAILABLE.
	Append AppendFunc
}

// Profiles is the profile stage: it follows the deduplicated event stream,
// resolves each event's identifiers to a profile (package identity) and
// folds the event into that profile (package profile). It runs as one
// sequential stage, so a profile's events are applied in log order without
// locks on the hot path; readers take a lock briefly.
//
// Its state is in memory and checkpointed to the store with the log
// position it reflects. A restart loads the checkpoint and goes on from
// its position, so no event is applied twice or skipped.
type Profiles struct {
	dedupe *Engine
	st     store.ProfileStore
	opts   ProfileOptions
	x      *identity.Extractor
	graph  *identity.Graph

	mu        sync.RWMutex // guards set, redirects and saving
	set       *profile.Set
	redirects map[identity.ProfileID]identity.ProfileID // absorbed → survivor
	// saving are the timeline rows of the commit being saved: flushed from
	// the set, not yet in the store, and still to be shown by Timeline.
	saving []store.TimelineRow

	processed atomic.Uint64
	advMu     sync.Mutex
	advanced  chan struct{}

	// run state, owned by Run's goroutine
	cursor       uint64 // last log position read, resolved at least
	decisions    []store.DecisionRow
	unsaved      int
	lastSave     time.Time
	lastSnapshot time.Time
	replayUpTo   uint64 // events up to here are already in the profiles: resolve only
	inflight     *store.ProfileCommit
	saveDone     chan error

	systemState
}

// NewProfiles returns the profile stage over the dedupe stage's output.
func NewProfiles(dedupe *Engine, st store.ProfileStore, opts ProfileOptions) (*Profiles, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Rules.Limits == nil {
		opts.Rules = identity.DefaultRules()
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 500 * time.Millisecond
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = 30 * time.Second
	}
	if err := opts.Rules.Validate(); err != nil {
		return nil, fmt.Errorf("identity rules: %w", err)
	}
	x, err := identity.NewExtractor(opts.Extract)
	if err != nil {
		return nil, fmt.Errorf("identifier extraction: %w", err)
	}
	p := &Profiles{
		dedupe: dedupe, st: st, opts: opts, x: x,
		graph: identity.New(opts.Rules), set: profile.NewSet(),
		redirects:   map[identity.ProfileID]identity.ProfileID{},
		advanced:    make(chan struct{}),
		systemState: systemState{requests: make(chan func()), wake: make(chan struct{}, 1)},
	}
	p.graph.SetDescriber(p.describe)
	return p, nil
}

// Processed is the highest log position the profiles reflect.
func (p *Profiles) Processed() uint64 { return p.processed.Load() }

// WaitProcessed blocks until the profiles reflect seq, or ctx ends.
func (p *Profiles) WaitProcessed(ctx context.Context, seq uint64) error {
	for {
		p.advMu.Lock()
		ch := p.advanced
		p.advMu.Unlock()
		if p.Processed() >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *Profiles) publish(seq uint64) {
	p.processed.Store(seq)
	p.advMu.Lock()
	close(p.advanced)
	p.advanced = make(chan struct{})
	p.advMu.Unlock()
}

// Run loads the checkpoint, then follows the deduplicated events until ctx
// is done, and saves a final checkpoint.
func (p *Profiles) Run(ctx context.Context) error {
	if err := p.load(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	p.follow(ctx)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSaveTimeout)
	defer cancel()
	var err error
	for range 3 { // a failed save is retried by the next call
		if err = p.checkpoint(sctx, true, true); err == nil {
			return nil
		}
	}
	return fmt.Errorf("engine: final profile checkpoint at seq %d: %w", p.Processed(), err)
}

// load restores the graph snapshot and the profiles. Events between the
// snapshot and the profiles' position are re-resolved (without being
// applied again) as the stage starts following.
func (p *Profiles) load(ctx context.Context) error {
	seq, snap, graphSeq, err := p.st.ProfileCheckpoint(ctx)
	if err != nil {
		return fmt.Errorf("engine: load profile checkpoint: %w", err)
	}
	if snap != nil {
		// The snapshot's rules are those in force at its position: the
		// rules at the start of the log as changed by the system records
		// before it.
		g, err := identity.Restore(bytes.NewReader(snap))
		if err != nil {
			return fmt.Errorf("engine: restore identity graph at seq %d: %w", graphSeq, err)
		}
		g.SetDescriber(p.describe)
		p.graph = g
	}
	err = p.st.LoadProfiles(ctx, func(id uint64, data []byte) error {
		pr := profile.New(id)
		if err := pr.UnmarshalBinary(data); err != nil {
			return fmt.Errorf("profile %d: %w", id, err)
		}
		p.set.Put(pr)
		return nil
	})
	if err != nil {
		return fmt.Errorf("engine: load profiles: %w", err)
	}
	p.rebuildRedirects()
	p.replayUpTo = seq
	p.publishStart(graphSeq, seq)
	return nil
}

// publishStart sets the position to follow from: the graph's. Processed
// stays there until the events up to the profiles' position seq are
// re-resolved, so readers never see profiles whose identifiers the graph
// does not know yet.
func (p *Profiles) publishStart(graphSeq, seq uint64) {
	p.cursor = graphSeq
	p.publish(min(graphSeq, seq))
}

func (p *Profiles) rebuildRedirects() {
	for id := range p.graph.Profiles() {
		for _, d := range p.graph.History(id) {
			if d.Kind == identity.DecisionMerge && len(d.Profiles) == 2 {
				p.redirects[d.Profiles[1]] = d.Profiles[0]
			}
		}
	}
}

// follow processes deduplicated events as they come until ctx is done.
func (p *Profiles) follow(ctx context.Context) {
	backoff := newBackoff()
	p.lastSave, p.lastSnapshot = time.Now(), time.Now()
	for ctx.Err() == nil {
		p.serveRequests()
		evs, next, err := p.dedupe.Events(ctx, EventQuery{After: p.cursor, Limit: MaxEventsLimit, System: true})
		if err != nil {
			p.opts.Log.Error("profile stage cannot read events; retrying", "after", p.cursor, "err", err)
			backoff.wait(ctx)
			continue
		}
		backoff.reset()
		stopped := false
		for i := range evs {
			if stopped = !p.process(ctx, &evs[i]); stopped {
				break
			}
		}
		if stopped {
			return // the rest is for the next start
		}
		p.cursor = max(p.cursor, next) // a system record may have moved it already
		if p.cursor > p.Processed() {
			p.publish(p.cursor)
		}
		if p.unsaved > 0 && time.Since(p.lastSave) >= p.opts.CheckpointEvery {
			if err := p.checkpoint(ctx, time.Since(p.lastSnapshot) >= p.opts.SnapshotEvery, false); err != nil {
				p.opts.Log.Error("profile checkpoint failed; retrying", "err", err)
				backoff.wait(ctx)
			}
		}
		if next >= p.dedupe.Processed() {
			p.idle(ctx)
		}
	}
}

// idle waits for more events, waking in time for a pending checkpoint.
func (p *Profiles) idle(ctx context.Context) {
	wctx, cancel := context.WithTimeout(ctx, p.opts.CheckpointEvery)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-p.wake: // a request for the stage
			cancel()
		case <-stop:
		}
	}()
	_ = p.dedupe.WaitProcessed(wctx, p.cursor+1)
}

// process resolves one event and, unless the profiles already reflect it,
// applies it. It returns false if ctx ended before a system record could
// be applied.
func (p *Profiles) process(ctx context.Context, ev *mosaic.Event) bool {
	if ev.IsSystem() {
		return p.system(ctx, ev)
	}
	ids, _, err := p.x.Extract(ev)
	if err != nil {
		p.opts.Log.Warn("event without readable identifiers", "seq", ev.Seq, "err", err)
		return true
	}
	res, err := p.graph.Resolve(ev.Seq, ev.SourceID, ev.MessageID, ev.ReceivedAt, ids)
	if err != nil {
		p.opts.Log.Error("identity resolution failed", "seq", ev.Seq, "err", err)
		return true
	}
	if ev.Seq <= p.replayUpTo {
		return true // re-resolved to rebuild the graph; the profiles have it
	}
	p.mu.Lock()
	for _, m := range res.Merges {
		p.set.Merge(uint64(m.Absorbed), uint64(m.Survivor))
		p.redirects[m.Absorbed] = m.Survivor
	}
	if res.Profile != 0 {
		if err := p.set.Apply(uint64(res.Profile), ev); err != nil {
			p.opts.Log.Warn("event not applied to its profile", "seq", ev.Seq, "err", err)
		}
	}
	p.mu.Unlock()
	p.recordDecisions(res.Decisions)
	p.unsaved++
	return true
}

// saveTimeout bounds one save of the profile stage.
const saveTimeout = time.Minute

// checkpoint hands what changed to a background save, so processing goes
// on while the store writes. One save is in flight at a time; a failed save
// is retried before anything newer is flushed, so no batch is ever lost.
// With wait it returns only once everything handed off is saved.
func (p *Profiles) checkpoint(ctx context.Context, snapshot, wait bool) error {
	if err := p.awaitSave(ctx); err != nil {
		p.startSave(p.inflight) // the same commit again
		return err
	}
	c, err := p.nextCommit(snapshot)
	if err != nil {
		return err
	}
	p.startSave(c)
	if wait {
		return p.awaitSave(ctx)
	}
	return nil
}

// nextCommit flushes the profiles' changes into a commit at the cursor.
func (p *Profiles) nextCommit(snapshot bool) (*store.ProfileCommit, error) {
	p.mu.Lock()
	batch, err := p.set.Flush()
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	c := &store.ProfileCommit{Seq: p.cursor, Batches: []store.ProfileBatch{toStoreBatch(batch)}, Decisions: p.decisions}
	p.mu.Lock()
	p.saving = append(p.saving, c.Batches[0].Timeline...) // a failed commit's rows stay until it is saved
	p.mu.Unlock()
	if snapshot {
		var buf bytes.Buffer
		if err := p.graph.Snapshot(&buf); err != nil {
			return nil, fmt.Errorf("snapshot identity graph: %w", err)
		}
		c.Graph = buf.Bytes()
		p.lastSnapshot = time.Now()
	}
	p.decisions, p.unsaved, p.lastSave = nil, 0, time.Now()
	return c, nil
}

func (p *Profiles) startSave(c *store.ProfileCommit) {
	done := make(chan error, 1)
	p.inflight, p.saveDone = c, done
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
		defer cancel()
		done <- p.st.SaveProfiles(ctx, c)
	}()
}

// awaitSave waits for the save in flight, if any.
func (p *Profiles) awaitSave(ctx context.Context) error {
	if p.saveDone == nil {
		return nil
	}
	select {
	case err := <-p.saveDone:
		p.saveDone = nil
		if err != nil {
			return fmt.Errorf("save profiles at seq %d: %w", p.inflight.Seq, err)
		}
		p.inflight = nil
		p.mu.Lock()
		p.saving = nil
		p.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func toStoreBatch(b profile.Batch) store.ProfileBatch {
	out := store.ProfileBatch{
		Deleted:  b.Deleted,
		Merges:   make([]store.ProfileMerge, 0, len(b.Merges)),
		Timeline: make([]store.TimelineRow, 0, len(b.Timeline)),
		Traits:   make([]store.TraitRow, 0, len(b.Traits)),
		Profiles: make([]store.ProfileRow, 0, len(b.Profiles)),
	}
	for _, m := range b.Merges {
		out.Merges = append(out.Merges, store.ProfileMerge{Absorbed: m.Absorbed, Survivor: m.Survivor})
	}
	for _, t := range b.Timeline {
		out.Timeline = append(out.Timeline, store.TimelineRow{ProfileID: t.ProfileID, Seq: t.Seq, Time: t.Time, Type: t.Type, Name: t.Name, SourceID: t.SourceID})
	}
	for _, t := range b.Traits {
		out.Traits = append(out.Traits, store.TraitRow{ProfileID: t.ProfileID, GroupID: t.GroupID, Name: t.Name, Value: t.Value, Time: t.Time, Seq: t.Seq, SourceID: t.SourceID, MessageID: t.MessageID})
	}
	for _, s := range b.Profiles {
		out.Profiles = append(out.Profiles, store.ProfileRow{ID: s.ID, Data: s.Data})
	}
	return out
}
