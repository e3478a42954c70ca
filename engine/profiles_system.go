package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
)

// Splits and rule changes are system records in the event log (see
// mosaic.SystemSourceID): the API appends one, the profile stage meets it in
// log order and applies it, and the API answers once the stage has. So they
// are ordered with the events around them, survive a crash like any event,
// and a replay of the log makes them again at the same place with the same
// outcome.

// AppendFunc appends records to the event log and returns the first one's
// sequence number once they are durable; *eventlog.Log's Append is one.
type AppendFunc func(ctx context.Context, records [][]byte) (first uint64, err error)

// systemCommand is the message of a system record.
type systemCommand struct {
	Type       string               `json:"type"`
	MessageID  string               `json:"messageId"`
	ReceivedAt time.Time            `json:"receivedAt"`
	Profile    identity.ProfileID   `json:"profile,omitzero"`
	Profiles   []identity.ProfileID `json:"profiles,omitempty"` // more profiles, for an erase command
	Identifier *identity.Identifier `json:"identifier,omitempty"`
	Merge      *MergeRef            `json:"merge,omitempty"`
	Rules      *identity.Rules      `json:"rules,omitempty"`
}

// MergeRef names a recorded merge: the event (log position) that merged
// profile Absorbed into the profile being split.
type MergeRef struct {
	Seq      uint64             `json:"seq"`
	Absorbed identity.ProfileID `json:"absorbed"`
}

// SplitRequest asks to separate an identifier, or undo a recorded merge, of
// a profile. Exactly one of Identifier and Merge is set.
type SplitRequest struct {
	Identifier *identity.Identifier `json:"identifier,omitempty"`
	Merge      *MergeRef            `json:"merge,omitempty"`
	// DryRun shows the outcome without applying it.
	DryRun bool `json:"dry_run,omitempty"`
}

// SplitOutcome is what a split did, or would do (DryRun).
type SplitOutcome struct {
	DryRun bool `json:"dry_run"`
	// Seq is the log position of the split command (0 for a dry run).
	Seq     uint64             `json:"seq,omitempty"`
	Profile identity.ProfileID `json:"profile"` // the profile asked to split
	// Rule is the never-link rule stored, so the link is not made again.
	Rule identity.NeverLink `json:"rule"`
	// Removed are the profiles rebuilt from their events, as they were.
	Removed []identity.ProfileID `json:"removed"`
	// Profiles are the profiles those events form now.
	Profiles []*ProfileView `json:"profiles"`
}

// outcome is a system record's result, kept for the API call waiting on it.
type outcome struct {
	split *SplitOutcome
	erase *EraseOutcome
	rules *identity.Rules
	err   error
}

// maxOutcomes bounds the outcomes kept: a replay makes one per system
// record and nobody waits for them.
const maxOutcomes = 256

// systemState is the profile stage's part for system records.
type systemState struct {
	outMu    sync.Mutex
	outcomes map[uint64]outcome

	requests chan func()   // work the stage runs between batches (dry runs)
	wake     chan struct{} // wakes an idle stage for requests
}

func (s *systemState) putOutcome(seq uint64, o outcome) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if s.outcomes == nil {
		s.outcomes = map[uint64]outcome{}
	}
	if len(s.outcomes) >= maxOutcomes {
		oldest := uint64(1<<64 - 1)
		for k := range s.outcomes {
			oldest = min(oldest, k)
		}
		delete(s.outcomes, oldest)
	}
	s.outcomes[seq] = o
}

func (s *systemState) takeOutcome(seq uint64) (outcome, bool) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	o, ok := s.outcomes[seq]
	delete(s.outcomes, seq)
	return o, ok
}

// Split splits the profile ref names as req says, or with req.DryRun shows
// what the split would do. An applied split is a system record in the log;
// Split returns once the profile stage has applied it.
func (p *Profiles) Split(ctx context.Context, ref string, req SplitRequest) (*SplitOutcome, error) {
	id, err := p.Find(ref)
	if err != nil {
		return nil, err
	}
	cmd := systemCommand{Type: mosaic.TypeSplit, Profile: id, Merge: req.Merge}
	switch {
	case (req.Identifier == nil) == (req.Merge == nil):
		return nil, mosaic.Errorf(mosaic.EINVALID, `Give either "identifier" ({"type": "email", "value": "jane@example.com"}) or "merge" ({"seq": 12, "absorbed": "p…"}, a merge from the profile's identity history).`)
	case req.Identifier != nil:
		norm, err := p.x.Normalize(*req.Identifier)
		if err != nil {
			return nil, mosaic.Errorf(mosaic.EINVALID, "%q is not a valid %s identifier: %v.", req.Identifier.Value, req.Identifier.Type, err)
		}
		cmd.Identifier = &norm
	}
	if _, err := p.plan(cmd); err != nil {
		return nil, err
	}
	if req.DryRun {
		var out *SplitOutcome
		err := p.onStage(ctx, func() { out, err = p.dryRun(ctx, cmd) })
		return out, err
	}
	o, err := p.command(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return o.split, o.err
}

// SetRules makes r the identity rules from now on (its never_link is the
// graph's own: splits make those). It returns the rules in force once the
// profile stage has applied the change.
func (p *Profiles) SetRules(ctx context.Context, r identity.Rules) (identity.Rules, error) {
	cur := p.graph().Rules()
	if r.NeverLink != nil && !sameNeverLinks(r.NeverLink, cur.NeverLink) {
		return identity.Rules{}, mosaic.Errorf(mosaic.EINVALID, "never_link rules are made by splits and cannot be edited here; leave never_link out (or send it as GET returns it).")
	}
	r.NeverLink = cur.NeverLink
	if err := r.Validate(); err != nil {
		return identity.Rules{}, mosaic.Errorf(mosaic.EINVALID, "%s.", rulesMessage(err))
	}
	o, err := p.command(ctx, systemCommand{Type: mosaic.TypeRules, Rules: &r})
	if err != nil {
		return identity.Rules{}, err
	}
	if o.err != nil {
		return identity.Rules{}, o.err
	}
	return *o.rules, nil
}

func sameNeverLinks(a, b []identity.NeverLink) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return len(a) == len(b)
}

func rulesMessage(err error) string {
	msg := err.Error()
	if rest, ok := cutPrefix(msg, identity.ErrInvalidRules.Error()+": "); ok {
		msg = rest
	}
	return "Invalid identity rules: " + msg
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// command appends a system record and waits until the stage applied it.
func (p *Profiles) command(ctx context.Context, cmd systemCommand) (outcome, error) {
	if p.opts.Append == nil {
		return outcome{}, mosaic.Errorf(mosaic.EUNAVAILABLE, "This server cannot write to its event log, so it cannot split profiles or change rules.")
	}
	cmd.MessageID = uuid.NewString()
	cmd.ReceivedAt = time.Now().UTC()
	msg, err := json.Marshal(cmd)
	if err != nil {
		return outcome{}, err
	}
	ev := mosaic.Event{SourceID: mosaic.SystemSourceID, MessageID: cmd.MessageID, Type: cmd.Type, ReceivedAt: cmd.ReceivedAt, Message: msg}
	rec, err := ev.MarshalBinary()
	if err != nil {
		return outcome{}, err
	}
	seq, err := p.opts.Append(ctx, [][]byte{rec})
	if err != nil {
		return outcome{}, fmt.Errorf("engine: append %s: %w", cmd.Type, err)
	}
	if err := p.WaitProcessed(ctx, seq); err != nil {
		return outcome{}, mosaic.Errorf(mosaic.EUNAVAILABLE, "The %s command is in the event log at position %d and will be applied, but the profile stage did not reach it in time; check the profile's identity history later.", cmd.Type, seq)
	}
	o, ok := p.takeOutcome(seq)
	if !ok {
		return outcome{}, fmt.Errorf("engine: no outcome for system record %d", seq)
	}
	return o, nil
}

// onStage runs fn on the stage's goroutine between batches, where the
// profiles, the graph and the store agree, and waits for it.
func (p *Profiles) onStage(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	select {
	case p.requests <- func() { defer close(done); fn() }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		<-done // fn uses the caller's variables
		return ctx.Err()
	}
}

// serveRequests runs the requests waiting for the stage.
func (p *Profiles) serveRequests() {
	for {
		select {
		case fn := <-p.requests:
			p.settle() // requests read and save the partitions
			fn()
		default:
			return
		}
	}
}

// system applies a system record. It returns false, leaving the record for
// the next start, if ctx ended before it could be applied.
func (p *Profiles) system(ctx context.Context, ev *mosaic.Event) bool {
	if ev.Seq <= p.replayUpTo {
		// Cannot happen: the commit after a system record carries a graph
		// snapshot, so a restart never re-resolves across one.
		p.opts.Log.Error("system record behind the profile checkpoint ignored", "seq", ev.Seq)
		return true
	}
	var cmd systemCommand
	if err := json.Unmarshal(ev.Message, &cmd); err != nil {
		p.opts.Log.Error("unreadable system record ignored", "seq", ev.Seq, "err", err)
		return true
	}
	// Save what the events before it did, so the store's timelines are
	// complete, and mark the position as the record's predecessor.
	p.cursor = max(p.cursor, ev.Seq-1)
	if !p.saveAll(ctx, false) {
		return false
	}
	var o outcome
	switch cmd.Type {
	case mosaic.TypeSplit:
		o.split, o.err = p.applySplit(ctx, ev.Seq, cmd)
	case mosaic.TypeErase:
		o.erase, o.err = p.applyErase(ctx, ev.Seq, cmd)
	case mosaic.TypeRules:
		o.err = errors.New("no rules in the record")
		if cmd.Rules != nil {
			if o.err = p.graph().SetRules(*cmd.Rules); o.err == nil {
				r := p.graph().Rules()
				o.rules = &r
			}
		}
	default:
		o.err = fmt.Errorf("unknown system record type %q", cmd.Type)
	}
	if o.err != nil {
		p.opts.Log.Warn("system record not applied", "seq", ev.Seq, "type", cmd.Type, "err", o.err)
	}
	// Save at once, with a graph snapshot: readers must not see the
	// removed profiles' stored rows, and a restart must never re-resolve
	// events across a system record (see load).
	p.cursor = ev.Seq
	p.unsaved++
	p.saveAll(ctx, true)
	p.putOutcome(ev.Seq, o)
	return true
}

// saveAll saves everything processed so far, with a graph snapshot if
// asked, and waits, retrying, until it is saved. It returns false if ctx
// ended first; the final checkpoint then saves it.
func (p *Profiles) saveAll(ctx context.Context, snapshot bool) bool {
	backoff := newBackoff()
	for {
		err := p.checkpoint(ctx, snapshot, true)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if p.inflight != nil && p.saveDone == nil {
			p.startSave(p.inflight) // the commit that failed, again
		}
		p.opts.Log.Error("profile checkpoint before a system record failed; retrying", "err", err)
		backoff.wait(ctx)
	}
}

// plan makes the identity graph's plan for a split command.
func (p *Profiles) plan(cmd systemCommand) (identity.SplitPlan, error) {
	id, err := p.Find(cmd.Profile.String())
	if err != nil {
		return identity.SplitPlan{}, err
	}
	var plan identity.SplitPlan
	if cmd.Identifier != nil {
		plan, err = p.graph().Split(id, *cmd.Identifier)
	} else {
		plan, err = p.graph().SplitMerge(id, cmd.Merge.Seq, cmd.Merge.Absorbed)
	}
	switch {
	case errors.Is(err, identity.ErrNotInProfile), errors.Is(err, identity.ErrNoMerge):
		return plan, mosaic.Errorf(mosaic.ENOTFOUND, "%s.", trimPkg(err))
	case errors.Is(err, identity.ErrNothingToSplit):
		return plan, mosaic.Errorf(mosaic.ECONFLICT, "%s.", trimPkg(err))
	case err != nil:
		return plan, err
	}
	return plan, nil
}

func trimPkg(err error) string {
	s, _ := cutPrefix(err.Error(), "identity: ")
	return s
}

// describe tells the identity graph's history where a decision came from:
// the event (or system record) at seq, read from the log.
func (p *Profiles) describe(seq uint64) (sourceID, messageID string, at time.Time, ok bool) {
	ev, err := p.dedupe.Event(seq)
	if err != nil {
		return "", "", time.Time{}, false
	}
	return ev.SourceID, ev.MessageID, ev.ReceivedAt, true
}
