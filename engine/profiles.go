package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/profile"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/prometheus/client_golang/prometheus"
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
	// UrgentCheckpointEvery is how soon profiles are saved while an
	// observer holds changes that people or other systems wait for (see
	// UrgentObserver), such as audience entries to deliver: default 10ms.
	// Such a checkpoint starts only when no save is in flight, so under
	// load checkpoints follow each other as fast as the store saves them.
	UrgentCheckpointEvery time.Duration
	// CatchUpCheckpointEvery is how often profiles are saved while the
	// stage is far behind the log (a replay, a backlog after a restart):
	// default 3s. Each checkpoint inserts rows all over tables keyed by
	// profile, and ten times the rows in one transaction cost about half
	// as much per row, so catching up goes faster; the price is at most
	// that much more to process again after a crash.
	CatchUpCheckpointEvery time.Duration
	// Saved, if set, is called after each checkpoint is saved, with the
	// position it reflects: what waits for saved changes (delivery of
	// audience changes) can start at once instead of polling.
	Saved func(seq uint64)
	// SnapshotEvery is how often the whole identity graph is saved (default
	// 30s); between snapshots a restart re-resolves the events since the
	// last one, which is deterministic.
	SnapshotEvery time.Duration
	// Observers are told every change (see ProfileObserver).
	Observers []ProfileObserver
	// Registerer receives the stage's metrics: its position in the log and
	// how far it is behind. Observers are told each event before the stage
	// moves past it, so the position is theirs too (audiences, consent,
	// predictions' inputs). Default: none registered.
	Registerer prometheus.Registerer
	// Partitions is the number of workers that fold events into profiles
	// in parallel (default: one more than the CPUs Go uses, see
	// defaultPartitions).
	Partitions int
	// Append writes system records (splits, rule changes) to the event
	// log; without it Split and SetRules answer EUNAVAILABLE.
	Append AppendFunc
	// Redact overwrites records of the event log for an erasure; without
	// it Erase answers EUNAVAILABLE.
	Redact RedactFunc
}

// Profiles is the profile stage: it follows the deduplicated event stream,
// resolves each event's identifiers to a profile (package identity) and
// folds the event into that profile (package profile). Resolution is one
// sequential stage; folding is partitioned by profile (see partition.go),
// so a profile's events are applied in log order by one worker without
// locks on the hot path, and partitions run in parallel with each other
// and with the resolution of the next events. Readers take a partition's
// lock briefly.
//
// Its state is in memory and checkpointed to the store with the log
// position it reflects. A restart loads the checkpoint and goes on from
// its position, so no event is applied twice or skipped.
type Profiles struct {
	dedupe *Engine
	st     store.ProfileStore
	opts   ProfileOptions
	x      *identity.Extractor
	graphP atomic.Pointer[identity.Graph] // swapped once, by load; see graph

	mu        sync.RWMutex                              // guards redirects and saving
	redirects map[identity.ProfileID]identity.ProfileID // absorbed → survivor
	// saving are the timeline rows of the commit being saved, by batch: flushed from
	// the partitions, not yet in the store, and still to be shown by
	// Timeline.
	saving [][]store.TimelineRow
	parts  []*partition
	obs    *observers
	pages  []*foldPage // dispatched pages not yet seen folded, oldest first (Run's goroutine)
	blocks Blocks      // the memory of the events being resolved and folded (Run's goroutine)

	processed atomic.Uint64
	loaded    atomic.Bool // the checkpoint is loaded: readers may trust a miss
	advMu     sync.Mutex
	advanced  chan struct{}

	// run state, owned by Run's goroutine
	cursor       uint64 // last log position read, resolved at least
	decisions    []store.DecisionRow
	unsaved      int
	lastSave     time.Time
	lastSnapshot time.Time
	// graphSize is the last snapshot's size (or the loaded one's): the
	// next one's buffer starts a quarter larger. Grown from empty, a
	// million people's graph was copied and zeroed once per doubling, 2 %
	// of a catch-up's CPU; with a sixteenth to spare, a catch-up's graph
	// outgrew it between snapshots and the buffer doubled anyway.
	graphSize    int
	snapshotCost atomic.Int64 // nanoseconds the last save with a graph snapshot took
	replayUpTo   uint64       // events up to here are already in the profiles: resolve only
	inflight     *pendingSave
	saveDone     chan error
	// reusable are the batches of the last commit saved, by partition:
	// nothing refers to their rows any more, and the partitions' next
	// flush fills that memory again (see profile.Set.Reuse).
	reusable []store.ProfileBatch

	systemState
}

// defaultPartitions is one partition more than the CPUs Go uses. The
// resolving loop, the saves and the deduplication stage share the CPUs
// with the partitions, and a page's work is split unevenly among them: with
// smaller shares a CPU waits less for the slowest partition. A 1M-event
// replay on 2 CPUs went 2-3 % faster with 3 partitions than with 2.
func defaultPartitions() int { return runtime.GOMAXPROCS(0) + 1 }

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
	if opts.UrgentCheckpointEvery <= 0 {
		opts.UrgentCheckpointEvery = 10 * time.Millisecond
	}
	if opts.CatchUpCheckpointEvery <= 0 {
		opts.CatchUpCheckpointEvery = max(3*time.Second, opts.CheckpointEvery)
	}
	if opts.SnapshotEvery <= 0 {
		opts.SnapshotEvery = 30 * time.Second
	}
	if opts.Partitions <= 0 {
		opts.Partitions = defaultPartitions()
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
		redirects:   map[identity.ProfileID]identity.ProfileID{},
		obs:         newObservers(opts.Observers),
		advanced:    make(chan struct{}),
		systemState: systemState{requests: make(chan func()), wake: make(chan struct{}, 1)},
	}
	p.graphP.Store(identity.New(opts.Rules))
	for range opts.Partitions {
		p.parts = append(p.parts, &partition{set: profile.NewSet(), log: opts.Log, obs: p.obs})
	}
	p.graph().SetDescriber(p.describe)
	newProfileMetrics(opts.Registerer, p)
	return p, nil
}

// graph returns the identity graph. Only the stage's goroutine changes it
// (its methods lock for readers), and load replaces it once.
func (p *Profiles) graph() *identity.Graph { return p.graphP.Load() }

// part returns the partition that holds profile id.
func (p *Profiles) part(id uint64) *partition {
	return p.parts[partitionOf(id, len(p.parts))]
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
	var workers sync.WaitGroup
	for _, w := range p.parts {
		w.in = make(chan foldJob, 1)
		workers.Go(w.work)
	}
	defer func() {
		for _, w := range p.parts {
			close(w.in)
		}
		workers.Wait()
	}()
	p.follow(ctx)
	p.settle()
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
	graph := p.graph()
	if snap != nil {
		// The snapshot's rules are those in force at its position: the
		// rules at the start of the log as changed by the system records
		// before it.
		g, err := identity.Restore(bytes.NewReader(snap))
		if err != nil {
			return fmt.Errorf("engine: restore identity graph at seq %d: %w", graphSeq, err)
		}
		g.SetDescriber(p.describe)
		graph = g
		p.graphSize = len(snap)
	}
	err = p.st.LoadProfiles(ctx, func(id uint64, data []byte) error {
		pr := profile.New(id)
		if err := pr.UnmarshalBinary(data); err != nil {
			return fmt.Errorf("profile %d: %w", id, err)
		}
		w := p.part(id)
		w.mu.Lock()
		w.set.Put(pr)
		w.mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("engine: load profiles: %w", err)
	}
	// Readers find profiles through the graph: it goes in only now, with
	// the profiles loaded, so no reader sees identifiers without traits.
	p.mu.Lock()
	p.graphP.Store(graph)
	p.rebuildRedirects()
	p.mu.Unlock()
	for _, o := range p.opts.Observers {
		if _, err := o.Load(ctx); err != nil {
			return fmt.Errorf("engine: load profile observer: %w", err)
		}
	}
	p.replayUpTo = seq
	p.publishStart(graphSeq, seq)
	p.loaded.Store(true)
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
	for id := range p.graph().Profiles() {
		for _, d := range p.graph().History(id) {
			if d.Kind == identity.DecisionMerge && len(d.Profiles) == 2 {
				p.redirects[d.Profiles[1]] = d.Profiles[0]
			}
		}
	}
}

// follow processes deduplicated events as they come until ctx is done. It
// resolves one page of events while the partitions fold the ones before it
// (at most foldAhead). Checkpoints are taken between pages, with the
// partitions idle, so that the profiles, the graph and the observers all
// reflect the same position.
func (p *Profiles) follow(ctx context.Context) {
	backoff := newBackoff()
	p.lastSave, p.lastSnapshot = time.Now(), time.Now()
	for ctx.Err() == nil {
		p.serveRequests()
		evs, next, err := p.dedupe.Events(ctx, EventQuery{After: p.cursor, Limit: MaxEventsLimit, System: true, Blocks: &p.blocks})
		mem := p.blocks.Page()
		if err != nil {
			p.opts.Log.Error("profile stage cannot read events; retrying", "after", p.cursor, "err", err)
			backoff.wait(ctx)
			continue
		}
		backoff.reset()
		if p.checkpointNow() {
			p.settle()
			if err := p.checkpoint(ctx, p.snapshotDue(), false); err != nil {
				p.opts.Log.Error("profile checkpoint failed; retrying", "err", err)
				backoff.wait(ctx)
			}
		}
		ops := p.newOps(len(evs))
		for i := range evs {
			ev := &evs[i]
			if i%yieldEvery == yieldEvery-1 {
				runtime.Gosched() // see yieldEvery
			}
			if !ev.IsSystem() {
				p.process(ev, ops)
				continue
			}
			// A system record applies to everything before it, folded
			// and saved (see system).
			p.settle()
			p.cursor = max(p.cursor, ev.Seq-1)
			p.dispatch(ops)
			p.settle()
			ops = p.newOps(len(evs) - i)
			if !p.system(ctx, ev) {
				return // the rest is for the next start
			}
		}
		// The partitions may still fold the previous page while this one
		// is handed over and the next one resolved (see foldAhead).
		p.reap(foldAhead - 1)
		p.cursor = max(p.cursor, next) // a system record may have moved it already
		// The page's last operations are folded after all its others: its
		// memory goes back then.
		p.dispatch(ops).mem = mem
		if next >= p.dedupe.Processed() {
			p.settle()
			p.idle(ctx)
		}
	}
}

// newOps returns empty operation lists for a page of n events, one per
// partition, each with room for its share and some: growing them by
// appending copied every page's operations several times over.
func (p *Profiles) newOps(n int) [][]partitionOp {
	ops := make([][]partitionOp, len(p.parts))
	share := n/len(p.parts) + n/(4*len(p.parts)) + 4
	for i := range ops {
		ops[i] = make([]partitionOp, 0, share)
	}
	return ops
}

// foldAhead is how many pages the partitions may hold at once. With one,
// the resolving loop waited at every page for the slowest partition, and
// a CPU stood idle while the last partition finished; with two, the loop
// resolves a page while the partitions fold the two before it.
const foldAhead = 2

// dispatch hands the partitions their operations, to fold up to the
// cursor, after those they were given before.
func (p *Profiles) dispatch(ops [][]partitionOp) *foldPage {
	page := &foldPage{upto: p.cursor, done: make(chan struct{})}
	n := 0
	for i := range p.parts {
		if len(ops[i]) > 0 {
			n++
		}
	}
	page.pending.Store(int32(n))
	if n == 0 {
		close(page.done)
	}
	for i, w := range p.parts {
		if len(ops[i]) > 0 {
			w.in <- foldJob{ops: ops[i], page: page}
		}
	}
	p.pages = append(p.pages, page)
	return page
}

// reap publishes the position of the pages folded so far, in order, first
// waiting for the oldest ones until at most keep pages are still folding.
func (p *Profiles) reap(keep int) {
	for len(p.pages) > 0 {
		page := p.pages[0]
		if len(p.pages) > keep {
			<-page.done
		} else {
			select {
			case <-page.done:
			default:
				return
			}
		}
		p.pages[0] = nil
		p.pages = p.pages[1:]
		if page.upto > p.Processed() {
			p.publish(page.upto)
		}
		p.blocks.Free(page.mem)
	}
}

// settle waits until the partitions have folded what they were given and
// publishes the position they reached.
func (p *Profiles) settle() { p.reap(0) }

// catchUpLag is how far behind the deduplicated events the stage must be
// to checkpoint at CatchUpCheckpointEvery: a few pages.
const catchUpLag = 4 * MaxEventsLimit

// checkpointNow reports whether a checkpoint is due: CheckpointEvery after
// the last one (CatchUpCheckpointEvery while far behind), or, when not far
// behind, UrgentCheckpointEvery after it while an observer holds urgent
// changes and no save is in flight.
//
// A checkpoint due while the previous save still runs waits, and the stage
// folds on meanwhile, unless that save has run for four intervals: taking
// it would block the stage until the store is done, and every event behind
// it would show that much later.
func (p *Profiles) checkpointNow() bool {
	if p.unsaved == 0 {
		return false
	}
	since := time.Since(p.lastSave)
	every, catchingUp := p.opts.CheckpointEvery, p.dedupe.Processed() > p.cursor+catchUpLag
	if catchingUp {
		every = p.opts.CatchUpCheckpointEvery
	}
	if since >= every {
		return since >= 4*every || !p.saveBusy()
	}
	return !catchingUp && since >= p.opts.UrgentCheckpointEvery && !p.saveBusy() && p.urgent()
}

// urgent reports whether an observer holds changes others wait for.
func (p *Profiles) urgent() bool {
	for _, o := range p.opts.Observers {
		if u, ok := o.(UrgentObserver); ok && u.Urgent() {
			return true
		}
	}
	return false
}

// saveBusy reports whether a save is still running.
func (p *Profiles) saveBusy() bool {
	if p.saveDone == nil {
		return false
	}
	select {
	case err := <-p.saveDone:
		p.saveDone <- err // for awaitSave; the channel has room for it
		return false
	default:
		return true
	}
}

// idle waits for more events, waking in time for a pending checkpoint.
func (p *Profiles) idle(ctx context.Context) {
	wait := p.opts.CheckpointEvery
	if p.unsaved > 0 && p.urgent() {
		// Checked again this often until the save in flight is done.
		wait = max(p.opts.UrgentCheckpointEvery-time.Since(p.lastSave), time.Millisecond)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
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
// adds the operations that apply it to ops, per partition.
func (p *Profiles) process(ev *mosaic.Event, ops [][]partitionOp) {
	ids, _, err := p.x.Extract(ev)
	if err != nil {
		p.opts.Log.Warn("event without readable identifiers", "seq", ev.Seq, "err", err)
		return
	}
	res, err := p.graph().Resolve(ev.Seq, ev.SourceID, ev.MessageID, ev.ReceivedAt, ids)
	if err != nil {
		p.opts.Log.Error("identity resolution failed", "seq", ev.Seq, "err", err)
		return
	}
	if ev.Seq <= p.replayUpTo {
		return // re-resolved to rebuild the graph; the profiles have it
	}
	p.addOps(ops, ev.Seq, ev, res, false)
	p.recordDecisions(res.Decisions)
	p.unsaved++
}

// addOps adds the operations that fold ev, resolved as res, to ops: its
// merges, then the event itself. at is the change's log position for the
// observers: ev's own, or a split's when rebuild says the event is applied
// again.
func (p *Profiles) addOps(ops [][]partitionOp, at uint64, ev *mosaic.Event, res identity.Result, rebuild bool) {
	n := len(p.parts)
	var merges []ProfileMerge
	if len(res.Merges) > 0 {
		p.mu.Lock()
		for _, m := range res.Merges {
			p.redirects[m.Absorbed] = m.Survivor
		}
		p.mu.Unlock()
		for _, m := range res.Merges {
			absorbed, survivor := uint64(m.Absorbed), uint64(m.Survivor)
			merges = append(merges, ProfileMerge{Absorbed: absorbed, Survivor: survivor})
			from, to := partitionOf(absorbed, n), partitionOf(survivor, n)
			if from == to {
				ops[to] = append(ops[to], partitionOp{kind: opMerge, id: survivor, other: absorbed})
				continue
			}
			h := make(chan *profile.Detached, 1)
			ops[from] = append(ops[from], partitionOp{kind: opDetach, other: absorbed, handoff: h})
			ops[to] = append(ops[to], partitionOp{kind: opAbsorb, id: survivor, handoff: h})
		}
	}
	target := uint64(res.Profile)
	if target == 0 && len(merges) > 0 {
		target = merges[len(merges)-1].Survivor
	}
	i := partitionOf(target, n)
	ops[i] = append(ops[i], partitionOp{kind: opApply, at: at, id: uint64(res.Profile), ev: ev, merges: merges, rebuild: rebuild})
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

// snapshotDue reports whether the next checkpoint carries a graph snapshot:
// every SnapshotEvery, but no more often than 20 times the last one took,
// so that a large graph (hundreds of megabytes at millions of people)
// costs at most a twentieth of the stage's time while it catches up.
func (p *Profiles) snapshotDue() bool {
	every := max(p.opts.SnapshotEvery, 20*time.Duration(p.snapshotCost.Load()))
	return time.Since(p.lastSnapshot) >= every
}

// pendingSave is one checkpoint: the observers' saves, then the profiles'.
type pendingSave struct {
	observers []func(context.Context) error
	commit    *store.ProfileCommit
}

func (s *pendingSave) run(ctx context.Context, st store.ProfileStore) error {
	for _, save := range s.observers {
		if err := save(ctx); err != nil {
			return err
		}
	}
	return st.SaveProfiles(ctx, s.commit)
}

// nextCommit flushes the profiles' and observers' changes into a save at
// the cursor. The partitions must be idle (see settle).
func (p *Profiles) nextCommit(snapshot bool) (*pendingSave, error) {
	// Each partition flushes its own profiles, all at once and beside the
	// observers' checkpoints and the graph's snapshot: the partitions are
	// idle until this returns, and flushing them one after the other left
	// a CPU idle for seconds of a long replay.
	reusable := p.reusable
	p.reusable = nil
	batches := make([]store.ProfileBatch, len(p.parts))
	errs := make([]error, len(p.parts))
	var flushing sync.WaitGroup
	for i, w := range p.parts {
		flushing.Go(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			if i < len(reusable) {
				w.set.Reuse(&profile.Batch{Timeline: reusable[i].Timeline, Traits: reusable[i].Traits})
			}
			b, err := w.set.Flush()
			// The same row types: the rows go to the store as they are.
			batches[i], errs[i] = store.ProfileBatch{Deleted: b.Deleted, Merges: b.Merges,
				Timeline: b.Timeline, Traits: b.Traits, Profiles: b.Profiles}, err
		})
	}
	var saves []func(context.Context) error
	var obsErr error
	for _, o := range p.opts.Observers {
		save, err := o.Checkpoint(p.cursor)
		if err != nil {
			obsErr = err
			break
		}
		if save != nil {
			saves = append(saves, save)
		}
	}
	// The graph is this goroutine's alone: it is written out while the
	// partitions flush too.
	var graph []byte
	var snapErr error
	if snapshot && obsErr == nil {
		var buf bytes.Buffer
		buf.Grow(p.graphSize + p.graphSize/4)
		if snapErr = p.graph().Snapshot(&buf); snapErr != nil {
			snapErr = fmt.Errorf("snapshot identity graph: %w", snapErr)
		} else {
			graph = buf.Bytes()
			p.graphSize = len(graph)
			p.lastSnapshot = time.Now()
		}
	}
	flushing.Wait()
	if err := errors.Join(append(errs, obsErr, snapErr)...); err != nil {
		return nil, err
	}
	c := &store.ProfileCommit{Seq: p.cursor, Batches: batches, Decisions: p.decisions}
	p.mu.Lock()
	for _, b := range batches {
		// Kept by batch, not copied into one slice: a failed commit's
		// rows stay until it is saved.
		p.saving = append(p.saving, b.Timeline)
	}
	p.mu.Unlock()
	c.Graph = graph
	p.decisions, p.unsaved, p.lastSave = nil, 0, time.Now()
	return &pendingSave{observers: saves, commit: c}, nil
}

func (p *Profiles) startSave(s *pendingSave) {
	done := make(chan error, 1)
	p.inflight, p.saveDone = s, done
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
		defer cancel()
		start := time.Now()
		err := s.run(ctx, p.st)
		if err == nil && s.commit.Graph != nil {
			p.snapshotCost.Store(int64(time.Since(start)))
		}
		if err == nil && p.opts.Saved != nil {
			p.opts.Saved(s.commit.Seq)
		}
		done <- err
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
			return fmt.Errorf("save profiles at seq %d: %w", p.inflight.commit.Seq, err)
		}
		// Saved: the store is done with the rows, and readers no longer
		// find them in saving once it is cleared.
		p.reusable = p.inflight.commit.Batches
		p.inflight = nil
		p.mu.Lock()
		p.saving = nil
		p.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
