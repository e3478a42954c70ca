package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
)

// Erasing a data subject touches only what is theirs. The erase command is
// a system record, so the stage applies it in log order with every event
// before it folded and saved: it redacts the person's events in the log
// (Redact), forgets their identifiers in the graph, deletes their profile
// and every stored row derived from it (ProfileEraser), tells the
// observers to drop their state without a trace, and rebuilds the profiles
// that only refusals linked to theirs from what remains of their events,
// as a split does. Nothing else stops or starts again: the rest of the
// profiles, audiences and deliveries carry on.
//
// A replay of the log meets the command after the person's events were
// redacted, so no profile of theirs forms and the command does nothing.

// ProfileEraser is what the stage needs of its store to erase a person:
// store.Store has it.
type ProfileEraser interface {
	// EraseProfiles deletes every stored row derived from the log about
	// the profiles ids, in one transaction.
	EraseProfiles(ctx context.Context, ids []uint64) (int64, error)
	// DeleteDecisions deletes the identity decisions recorded for ids.
	DeleteDecisions(ctx context.Context, ids []uint64) error
}

// RedactFunc overwrites the records seqs of the event log for an erasure
// and returns how many it rewrote.
type RedactFunc func(seqs []uint64) (int, error)

// EraseOutcome is what an erase command did.
type EraseOutcome struct {
	Seq uint64 `json:"seq"` // the command's log position
	// Profiles are the profiles erased.
	Profiles []identity.ProfileID `json:"profiles"`
	// Absorbed are the profiles merged into them earlier; their stored
	// rows are erased too.
	Absorbed []identity.ProfileID `json:"absorbed,omitempty"`
	// Events is how many records of the log were redacted.
	Events int `json:"events"`
	// Rebuilt are the profiles linked to the erased ones only by refusals,
	// rebuilt without their events.
	Rebuilt []identity.ProfileID `json:"rebuilt,omitempty"`
	// Deferred are profiles of the command left for another one: their
	// plan overlapped an earlier profile's (both linked by refusals to the
	// same profile), which this command rebuilds.
	Deferred []identity.ProfileID `json:"deferred,omitempty"`
}

// Erase erases the profiles refs name (see above) and returns once the
// stage has applied the command: one person's for an erasure request, or
// many (the expiry of inactive anonymous profiles) in one command. A ref
// that names no profile is left out; ENOTFOUND if none does. EUNAVAILABLE
// if this stage cannot redact its log or erase stored rows.
func (p *Profiles) Erase(ctx context.Context, refs ...string) (*EraseOutcome, error) {
	if p.opts.Redact == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "This server's event log cannot erase records.")
	}
	if _, ok := p.st.(ProfileEraser); !ok {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "This server's store cannot erase a profile's rows.")
	}
	var ids []identity.ProfileID
	var err error
	for _, ref := range refs {
		id, ferr := p.Find(ref)
		if ferr != nil {
			err = ferr
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		if err == nil {
			err = mosaic.Errorf(mosaic.EINVALID, "Name at least one profile to erase.")
		}
		return nil, err
	}
	cmd := systemCommand{Type: mosaic.TypeErase, Profile: ids[0]}
	if len(ids) > 1 {
		cmd.Profiles = ids[1:]
	}
	o, err := p.command(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return o.erase, o.err
}

// eraseJob is one profile of an erase command, planned.
type eraseJob struct {
	id       identity.ProfileID
	absorbed []identity.ProfileID // the profiles merged into it
	plan     identity.SplitPlan
	erase    []uint64     // the log records to redact
	keep     *splitEvents // the plan's other events, resolved again
}

// applyErase applies the erase command at log position seq. It plans
// every profile first, then redacts the log and deletes stored rows, and
// changes the graph last: on an error the people are still in the graph,
// and the caller can erase the slow way (a full rebuild), which then finds
// them.
func (p *Profiles) applyErase(ctx context.Context, seq uint64, cmd systemCommand) (*EraseOutcome, error) {
	out := &EraseOutcome{Seq: seq}
	var jobs []eraseJob
	planned := map[identity.ProfileID]bool{}
	for _, id := range append([]identity.ProfileID{cmd.Profile}, cmd.Profiles...) {
		job, err := p.planErase(ctx, id)
		if errors.Is(err, identity.ErrNoProfile) {
			continue // erased before (a replay), or merged away since: nothing to do
		}
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(job.plan.Profiles, func(q identity.ProfileID) bool { return planned[q] }) {
			out.Deferred = append(out.Deferred, id) // its plan changes with an earlier one's
			continue
		}
		for _, q := range job.plan.Profiles {
			planned[q] = true
		}
		jobs = append(jobs, job)
	}
	if len(jobs) == 0 {
		return out, nil
	}
	var redact, erased, rebuilt []uint64
	for i := range jobs {
		j := &jobs[i]
		redact = append(redact, j.erase...)
		out.Profiles = append(out.Profiles, j.id)
		erased = append(erased, uint64(j.id))
		j.absorbed = p.absorbedInto(j.id)
		out.Absorbed = append(out.Absorbed, j.absorbed...)
		erased = append(erased, ids64(j.absorbed)...)
		for _, q := range j.plan.Profiles {
			if q != j.id {
				rebuilt = append(rebuilt, uint64(q))
			}
		}
	}
	// The log and the store first: should either fail, the graph still
	// knows the people, and the erasure can be done the slow way.
	slices.Sort(redact)
	var err error
	if out.Events, err = p.opts.Redact(slices.Compact(redact)); err != nil {
		return nil, fmt.Errorf("redact the events of the erased profiles in the log: %w", err)
	}
	// The rebuilt profiles' earlier decisions may name the erased
	// identifiers (a refusal lists what conflicted); the rebuild records
	// them again.
	eraser := p.st.(ProfileEraser)
	if _, err := eraser.EraseProfiles(ctx, erased); err != nil {
		return nil, fmt.Errorf("erase the profiles' stored rows: %w", err)
	}
	if len(rebuilt) > 0 {
		if err := eraser.DeleteDecisions(ctx, rebuilt); err != nil {
			return nil, fmt.Errorf("delete the rebuilt profiles' decisions: %w", err)
		}
	}
	p.forgetRedirects(out.Absorbed)
	ops := make([][]partitionOp, len(p.parts))
	var decisions []identity.Decision
	for _, j := range jobs {
		rb, err := p.graph().Erase(j.plan, j.keep.inputs)
		if err != nil {
			return nil, err // checked when planned, on this goroutine: cannot happen
		}
		gone := append([]uint64{uint64(j.id)}, ids64(j.absorbed)...)
		p.tellRemoved(seq, rb.Removed, gone)
		for _, id := range rb.Removed {
			i := partitionOf(uint64(id), len(p.parts))
			ops[i] = append(ops[i], partitionOp{kind: opDelete, id: uint64(id)})
		}
		for i, res := range rb.Results {
			p.addOps(ops, seq, &j.keep.events[i], res, true)
			decisions = append(decisions, res.Decisions...)
		}
		p.mu.Lock()
		for _, ip := range rb.Profiles {
			delete(p.redirects, ip.ID)
			out.Rebuilt = append(out.Rebuilt, ip.ID)
		}
		p.mu.Unlock()
	}
	p.dispatch(ops)
	p.settle()
	p.recordDecisions(decisions)
	// An observer's own save (the audiences' timers) may have written
	// about the people between the first deletion and their forgetting:
	// delete again, now that nothing holds them.
	if _, err := eraser.EraseProfiles(ctx, erased); err != nil {
		p.opts.Log.Error("erasure: second deletion of the profiles' stored rows failed; run the erasure again", "profiles", out.Profiles, "err", err)
	}
	return out, nil
}

// planErase plans the erasure of profile id: which records to redact (its
// timeline, and the events of its plan that carry one of its
// identifiers) and which events to resolve again. It changes nothing.
func (p *Profiles) planErase(ctx context.Context, id identity.ProfileID) (eraseJob, error) {
	plan, err := p.graph().ErasePlan(id)
	if err != nil {
		return eraseJob{}, err
	}
	personal := map[identity.Identifier]bool{}
	for _, info := range p.graph().Identifiers(id) {
		personal[info.Identifier] = true
	}
	own, err := p.timelineSeqs(ctx, uint64(id))
	if err != nil {
		return eraseJob{}, err
	}
	evs, err := p.gather(ctx, plan)
	if err != nil {
		return eraseJob{}, err
	}
	job := eraseJob{id: id, plan: plan, erase: slices.Clone(own), keep: &splitEvents{}}
	for i, in := range evs.inputs {
		if containsSeq(own, in.Seq) || carries(in.Identifiers, personal) {
			job.erase = append(job.erase, in.Seq)
			continue
		}
		job.keep.events = append(job.keep.events, evs.events[i])
		job.keep.inputs = append(job.keep.inputs, in)
	}
	return job, p.graph().CheckErase(plan, job.keep.inputs)
}

// timelineSeqs returns the log positions of a profile's saved timeline.
func (p *Profiles) timelineSeqs(ctx context.Context, id uint64) ([]uint64, error) {
	var seqs []uint64
	var before time.Time
	var beforeSeq uint64
	for {
		rows, err := p.st.Timeline(ctx, id, before, beforeSeq, 1000)
		if err != nil {
			return nil, fmt.Errorf("read the timeline of %s: %w", identity.ProfileID(id), err)
		}
		for _, r := range rows {
			seqs = append(seqs, r.Seq)
		}
		if len(rows) < 1000 {
			slices.Sort(seqs)
			return seqs, nil
		}
		before, beforeSeq = rows[len(rows)-1].Time, rows[len(rows)-1].Seq
	}
}

func containsSeq(sorted []uint64, seq uint64) bool {
	_, ok := slices.BinarySearch(sorted, seq)
	return ok
}

// carries reports whether ids holds one of the personal identifiers; a
// previousId may name a user id or an anonymous id.
func carries(ids []identity.Identifier, personal map[identity.Identifier]bool) bool {
	for _, id := range ids {
		if personal[id] {
			return true
		}
		if id.Type == identity.TypePreviousID &&
			(personal[identity.Identifier{Type: identity.TypeUserID, Value: id.Value}] || personal[identity.Identifier{Type: identity.TypeAnonymousID, Value: id.Value}]) {
			return true
		}
	}
	return false
}

// absorbedInto returns the profiles merged into survivor, directly or
// through others.
func (p *Profiles) absorbedInto(survivor identity.ProfileID) []identity.ProfileID {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var gone []identity.ProfileID
	for from := range p.redirects {
		id := from
		for range 64 {
			next, ok := p.redirects[id]
			if !ok {
				break
			}
			id = next
		}
		if id == survivor {
			gone = append(gone, from)
		}
	}
	slices.Sort(gone)
	return gone
}

// forgetRedirects removes the redirects of erased profiles.
func (p *Profiles) forgetRedirects(ids []identity.ProfileID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		delete(p.redirects, id)
	}
}

func ids64(ids []identity.ProfileID) []uint64 {
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = uint64(id)
	}
	return out
}
