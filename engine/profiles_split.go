package engine

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/profile"
	"github.com/mosaic-cdp/mosaic/store"
)

// A split rebuilds the profiles of its plan from their events: the events
// on their timelines (the store has them all once the stage saved, which it
// does before a split) and the events the graph knows shaped them. Both
// run on the stage's goroutine, so nothing changes meanwhile.

// splitEvents are the events of a plan, in log order, with their
// identifiers for the graph.
type splitEvents struct {
	events []mosaic.Event
	inputs []identity.Input
}

// gather reads the plan's events from the store's timelines and the log.
func (p *Profiles) gather(ctx context.Context, plan identity.SplitPlan) (*splitEvents, error) {
	seqs := slices.Clone(plan.Seqs)
	for _, id := range plan.Profiles {
		tl, err := p.timelineSeqs(ctx, uint64(id))
		if err != nil {
			return nil, err
		}
		seqs = append(seqs, tl...)
	}
	slices.Sort(seqs)
	out := &splitEvents{}
	for _, seq := range slices.Compact(seqs) {
		ev, err := p.dedupe.Event(seq)
		if err != nil {
			return nil, err
		}
		ids, _, err := p.x.Extract(&ev)
		if err != nil {
			continue // process skips it too
		}
		out.events = append(out.events, ev)
		out.inputs = append(out.inputs, identity.Input{Seq: ev.Seq, SourceID: ev.SourceID, MessageID: ev.MessageID, Time: ev.ReceivedAt, Identifiers: slices.Clone(ids)}) // Extract reuses its slice
	}
	return out, nil
}

// dryRun shows what a split command would do.
func (p *Profiles) dryRun(ctx context.Context, cmd systemCommand) (*SplitOutcome, error) {
	if !p.saveAll(ctx, false) { // the store's timelines must be complete
		return nil, ctx.Err()
	}
	plan, err := p.plan(cmd)
	if err != nil {
		return nil, err
	}
	evs, err := p.gather(ctx, plan)
	if err != nil {
		return nil, splitError(err)
	}
	rb, err := p.graph().DryRun(plan, evs.inputs)
	if err != nil {
		return nil, splitError(err)
	}
	set := profile.NewSet()
	for i, res := range rb.Results {
		for _, m := range res.Merges {
			set.Merge(uint64(m.Absorbed), uint64(m.Survivor))
		}
		if res.Profile != 0 {
			_ = set.Apply(uint64(res.Profile), &evs.events[i]) // as process: a bad event is left out
		}
	}
	out := &SplitOutcome{DryRun: true, Profile: plan.Profile, Rule: rb.Rule, Removed: rb.Removed}
	for _, ip := range rb.Profiles {
		pr := set.Get(uint64(ip.ID))
		if pr == nil {
			pr = profile.New(uint64(ip.ID))
		}
		out.Profiles = append(out.Profiles, &ProfileView{ID: ip.ID, Identifiers: ip.Identifiers, ProfileJSON: profile.View(pr)})
	}
	return out, nil
}

// applySplit applies the split command at log position seq: the graph
// rebuilds the plan's profiles, and so do the profiles, from the same
// events in the same order.
func (p *Profiles) applySplit(ctx context.Context, seq uint64, cmd systemCommand) (*SplitOutcome, error) {
	plan, err := p.plan(cmd)
	if err != nil {
		return nil, err
	}
	plan.At = seq
	evs, err := p.gather(ctx, plan)
	if err != nil {
		return nil, splitError(err)
	}
	rb, err := p.graph().Rebuild(plan, evs.inputs)
	if err != nil {
		return nil, splitError(err)
	}
	// The partitions are idle (see follow): remove the plan's profiles,
	// then fold their events again, as the graph resolved them now.
	p.tellRemoved(seq, rb.Removed, nil)
	ops := make([][]partitionOp, len(p.parts))
	for _, id := range rb.Removed {
		i := partitionOf(uint64(id), len(p.parts))
		ops[i] = append(ops[i], partitionOp{kind: opDelete, id: uint64(id)})
	}
	for i, res := range rb.Results {
		p.addOps(ops, seq, &evs.events[i], res, true)
	}
	p.dispatch(ops)
	p.settle()
	p.mu.Lock()
	for _, ip := range rb.Profiles {
		delete(p.redirects, ip.ID) // live again: no longer absorbed
	}
	p.mu.Unlock()
	for _, res := range rb.Results {
		p.recordDecisions(res.Decisions)
	}
	out := &SplitOutcome{Seq: seq, Profile: plan.Profile, Rule: rb.Rule, Removed: rb.Removed}
	split := identity.Decision{Kind: identity.DecisionSplit, Seq: seq, Identifiers: []identity.Identifier{rb.Rule.A, rb.Rule.B}, Rule: identity.RuleSplit}
	for _, ip := range rb.Profiles {
		split.Profiles = append(split.Profiles, ip.ID)
		v, err := p.Profile(ip.ID.String())
		if err == nil {
			out.Profiles = append(out.Profiles, v)
		}
	}
	p.recordDecisions([]identity.Decision{split})
	return out, nil
}

// tellRemoved tells the observers which profiles a split or an erase
// command at seq removed, and which of them an erasure removed for good
// (see ProfileChange.Erased; nil for a split).
func (p *Profiles) tellRemoved(seq uint64, removed []identity.ProfileID, erased []uint64) {
	if len(p.opts.Observers) == 0 || len(removed)+len(erased) == 0 {
		return
	}
	c := &ProfileChange{Seq: seq, Erased: erased}
	for _, id := range removed {
		c.Removed = append(c.Removed, uint64(id))
	}
	for _, id := range erased {
		if !slices.Contains(c.Removed, id) {
			c.Removed = append(c.Removed, id)
		}
	}
	p.obs.tell(c)
}

// recordDecisions queues identity decisions for the next save.
func (p *Profiles) recordDecisions(ds []identity.Decision) {
	for _, d := range ds {
		data, _ := json.Marshal(d)
		for _, pid := range d.Profiles {
			p.decisions = append(p.decisions, store.DecisionRow{ProfileID: uint64(pid), Seq: d.Seq, Kind: d.Kind, Data: data})
		}
	}
}

// splitError turns what the graph or the log reported into an error for
// the API.
func splitError(err error) error {
	var me *mosaic.Error
	switch {
	case errors.As(err, &me):
		return err
	case errors.Is(err, identity.ErrStalePlan), errors.Is(err, identity.ErrEvents):
		return mosaic.Errorf(mosaic.ECONFLICT, "The profile cannot be rebuilt from its events: %s. Try again; if it persists, replay the log with 'mosaic replay'.", trimPkg(err))
	}
	return err
}
