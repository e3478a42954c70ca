package engine

import (
	"context"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/profile"
)

// A ProfileObserver keeps state derived from profiles (computed traits,
// audience memberships, consent) in step with the profile stage, so that it
// sees each profile's events in log order and after the merges they cause,
// without following the log and resolving identities again.
//
// The partition workers call Observe (see partition.go): one profile's
// changes always in log order, after the merges that made it; changes of
// different profiles may come in another order than the log's, since
// partitions run in parallel. Calls to one observer are never concurrent
// with each other or with its Checkpoint: the stage serialises them. Two
// observers may be called at the same time, for different profiles, so one
// that reads another's state (audiences read consent and predicted traits)
// goes through that one's own locking. Observe runs with the
// profile's partition locked: it must be quick and must not call back into
// the stage. Heavy or blocking work (delivery, I/O) belongs to the save
// Checkpoint returns, which runs in the background.
//
// Durability: at every profile checkpoint at position seq, the stage calls
// Checkpoint(seq), with every partition idle, and runs the observers' saves
// before it saves the profiles, retrying them together until all succeed.
// So an observer's saved position is never behind the profiles', and after
// a restart it is shown again, from the stage's own position onwards, only
// events it may already have saved: it must ignore changes with Seq at or
// below the position its Load returned. Events before the stage's position
// are never shown again: an observer added later, or one that needs all
// history, backfills from the store and the log itself.
type ProfileObserver interface {
	// Load restores the observer's saved state and returns the log
	// position it reflects (0 if it has none). It is called once, before
	// the first Observe.
	Load(ctx context.Context) (seq uint64, err error)
	// Observe is told one change to the profiles.
	Observe(c *ProfileChange)
	// Checkpoint returns a save of everything observed up to seq. The
	// stage may call the save more than once if a save fails, so it must
	// be idempotent.
	Checkpoint(seq uint64) (save func(ctx context.Context) error, err error)
}

// ProfileChange is what one event did to the profiles.
//
// A split (a system record in the log) rebuilds profiles from their
// events: the stage first tells the observers which profiles it removed (a
// change with Removed set and no Event), then applies their events again,
// each as a change with Rebuild set. All of these carry the split's log
// position as Seq, while Event.Seq is each event's own.
type ProfileChange struct {
	// Seq is the change's log position: the event's, or the split's.
	Seq   uint64
	Event *mosaic.Event
	// Removed are the profiles a split deleted, with all their state,
	// before it applies their events again.
	Removed []uint64
	// Erased are the profiles of Removed that a data subject's erasure
	// removed for good (an erase command, see Profiles.Erase): observers
	// drop their state without recording anything about them (no audience
	// exit, no history), and the stage deletes their stored rows. The
	// other profiles of Removed are rebuilt by the changes that follow, as
	// after a split.
	Erased []uint64
	// Rebuild says Event was applied before and is applied again by a
	// split, to a profile Removed deleted or to one it made.
	Rebuild bool
	// Merges are the merges the event caused, already applied: each
	// absorbed profile no longer exists and its state is in the survivor.
	Merges []ProfileMerge
	// Profile is the profile the event was applied to, 0 if the event
	// carried no usable identifier.
	Profile uint64
	// State is that profile after the event; valid only during Observe
	// and not to be changed. Nil when Profile is 0.
	State *profile.Profile
	// Name and Time are what the profile read of the event, so observers
	// need not decode the message for them: the track's event name or the
	// page's or screen's name ("" otherwise), and the event's time (its
	// timestamp, else when it was received). Both are zero when the event
	// was not applied (Profile 0, or a message the profile could not read).
	Name string
	Time time.Time
	// Envelope locates more members of the message the profile read, for
	// observers that would otherwise decode it (see profile.Envelope); its
	// spans alias Event.Message. Zero, so not Plain, when Name and Time are.
	Envelope profile.Envelope
}

// ProfileMerge is one merge: Absorbed's state went into Survivor.
type ProfileMerge struct {
	Absorbed, Survivor uint64
}

// An UrgentObserver may hold changes that people or other systems wait
// for, such as audience entries to deliver; while it does, the profile
// stage checkpoints within ProfileOptions.UrgentCheckpointEvery instead of
// CheckpointEvery. Urgent is called from the stage's goroutine while
// partitions may be calling Observe, so it must do its own locking.
type UrgentObserver interface {
	ProfileObserver
	Urgent() bool
}
