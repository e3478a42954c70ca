package engine

import (
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/profile"
)

// Profile state is partitioned: each profile belongs to one partition by
// its ID, and one worker goroutine owns a partition's profile.Set, so a
// profile's events are folded in log order without locks on the hot path
// while partitions fold in parallel. Identity resolution stays one
// sequential stage in front of them (see Profiles): it stamps each event
// with its resolved profile and turns merges into operations for the
// partitions involved. A merge of profiles in two partitions is a handoff:
// the absorbed profile's partition detaches it (after every earlier event
// of it) and passes it to the survivor's partition, which waits for it
// before its next operation. Since every operation waits only for one
// queued before it in log order, the partitions cannot deadlock.

// opKind is what a partition operation does.
type opKind uint8

const (
	opApply  opKind = iota // fold ev into profile id (after merges)
	opMerge                // merge other into id, both in this partition
	opDetach               // take other out and hand it over
	opAbsorb               // merge the handed-over profile into id
	opDelete               // delete profile id, before a split rebuilds it
)

// partitionOp is one operation for a partition, in log order.
type partitionOp struct {
	kind    opKind
	at      uint64 // with opApply: the change's log position (see ProfileChange.Seq)
	rebuild bool   // with opApply: the event is applied again, by a split
	id      uint64 // the profile applied to, or the survivor
	other   uint64 // the absorbed profile
	ev      *mosaic.Event
	merges  []ProfileMerge         // with opApply: the event's merges, for observers
	handoff chan *profile.Detached // opDetach sends on it, opAbsorb receives
}

// partition is one worker's share of the profiles.
type partition struct {
	mu  sync.RWMutex // held by the worker while it changes set; by readers to read it
	set *profile.Set
	in  chan foldJob
	log *slog.Logger
	obs *observers
}

// observers serialises the partitions' calls to each observer. Each
// observer has a lock of its own, so one partition can be in one observer
// while another partition is in the next: with a single lock for all of
// them, the partitions took turns for most of their time.
type observers struct {
	list  []ProfileObserver
	locks []sync.Mutex
}

func newObservers(list []ProfileObserver) *observers {
	return &observers{list: list, locks: make([]sync.Mutex, len(list))}
}

// tell calls every observer with c, in order, each under its own lock.
func (o *observers) tell(c *ProfileChange) {
	for i, ob := range o.list {
		o.locks[i].Lock()
		ob.Observe(c)
		o.locks[i].Unlock()
	}
}

// partitionOf returns the partition of profile id among n. IDs are handed
// out in sequence, so they are mixed first: neighbours then spread evenly.
func partitionOf(id uint64, n int) int {
	return int((id * 0x9E3779B97F4A7C15 >> 32) % uint64(n))
}

// yieldEvery is how many operations a partition folds before it lets
// other goroutines run. Go preempts a goroutine that does not yield only
// after 10 ms; with both CPUs folding a page, a profile lookup waited that
// long for one (the lookups' p99 under ingestion was 6 to 12 ms).
const yieldEvery = 32

// foldPage is one page of operations handed to the partitions: the
// position they reach when all have folded it, and how many still fold it.
type foldPage struct {
	upto    uint64
	pending atomic.Int32
	done    chan struct{} // closed when pending reaches 0
	// mem is the memory of the events the page's operations point to,
	// given back once it is folded (see Blocks).
	mem BlocksPage
}

// foldJob is one partition's share of a page.
type foldJob struct {
	ops  []partitionOp
	page *foldPage
}

// work folds the operations it is given until in is closed, marking each
// job's share of its page done.
func (w *partition) work() {
	for job := range w.in {
		for i := range job.ops {
			w.do(&job.ops[i])
			if i%yieldEvery == yieldEvery-1 {
				runtime.Gosched()
			}
		}
		if job.page.pending.Add(-1) == 0 {
			close(job.page.done)
		}
	}
}

func (w *partition) do(op *partitionOp) {
	if op.kind == opAbsorb {
		// Wait before taking the lock, so readers of this partition are
		// not held up by another partition's backlog.
		d := <-op.handoff
		w.mu.Lock()
		if d != nil {
			w.set.Absorb(op.id, d)
		}
		w.mu.Unlock()
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch op.kind {
	case opMerge:
		w.set.Merge(op.other, op.id)
	case opDelete:
		w.set.Delete(op.id)
	case opDetach:
		op.handoff <- w.set.Detach(op.other)
	case opApply:
		applied := false
		if op.id != 0 {
			if err := w.set.Apply(op.id, op.ev); err != nil {
				w.log.Warn("event not applied to its profile", "seq", op.ev.Seq, "err", err)
			} else {
				applied = true
			}
		}
		if len(w.obs.list) > 0 {
			c := &ProfileChange{Seq: op.at, Event: op.ev, Rebuild: op.rebuild, Merges: op.merges, Profile: op.id}
			if op.id != 0 {
				c.State = w.set.Get(op.id)
			}
			if applied {
				c.Name, c.Time, c.Envelope = w.set.Applied()
			}
			w.obs.tell(c)
		}
	}
}
