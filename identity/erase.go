package identity

import (
	"fmt"
	"slices"
)

// Erasing a data subject removes one profile from the graph for good. The
// profiles connected to it by recorded refusals hold records that name its
// identifiers, so they are reset too and rebuilt from what remains of their
// events, as a split rebuilds its profiles; the erased profile's own
// events are gone from the log by then and are not given again.

// ErasePlan plans to erase profile p: Profiles are p and every profile
// connected to it by recorded refusals, transitively; Seqs are the events
// that shaped them. Rule is zero: an erasure stores no rule.
func (g *Graph) ErasePlan(p ProfileID) (SplitPlan, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	pi := g.profByID(p)
	if pi < 0 {
		return SplitPlan{}, fmt.Errorf("%w: %s", ErrNoProfile, p)
	}
	plan := SplitPlan{Profile: p}
	g.fillPlan(&plan, pi)
	return plan, nil
}

// Erase applies an erase plan. It forgets every identifier of
// plan.Profile: their values are overwritten in the graph's memory, so no
// later snapshot holds them, and never-link rules that name them are
// dropped. It then resets the plan's profiles and resolves events again:
// the remaining events of the plan's other profiles, in log order. No
// event may carry an identifier of the erased profile (the caller erases
// such events as well) or of a profile outside the plan. On an error the
// graph is unchanged.
func (g *Graph) Erase(plan SplitPlan, events []Input) (Rebuilt, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	pi := g.profByID(plan.Profile)
	if pi < 0 {
		return Rebuilt{}, fmt.Errorf("%w: profile %s is gone", ErrStalePlan, plan.Profile)
	}
	fresh := SplitPlan{Profile: plan.Profile}
	g.fillPlan(&fresh, pi)
	if !slices.Equal(fresh.Profiles, plan.Profiles) {
		return Rebuilt{}, ErrStalePlan
	}
	affected := map[int32]bool{}
	for _, p := range plan.Profiles {
		affected[g.profByID(p)] = true
	}
	erased := g.members(g.profs[pi].root, nil)
	if err := g.checkErase(events, affected, erased); err != nil {
		return Rebuilt{}, err
	}
	g.dropNeverLinks(erased)
	for q := range affected {
		g.reset(q)
	}
	for _, n := range erased {
		clear(g.values.bytes(g.nodes.at(n).ref))
	}
	out := Rebuilt{Removed: slices.Clone(plan.Profiles)}
	g.rebuilding = true
	for _, ev := range events {
		out.Results = append(out.Results, g.resolve(event{seq: ev.Seq, sourceID: ev.SourceID, messageID: ev.MessageID, at: ev.Time}, ev.Identifiers))
	}
	g.rebuilding = false
	for _, res := range out.Results {
		for _, id := range append([]ProfileID{res.Profile}, res.Created...) {
			if q := g.profByID(id); q >= 0 {
				g.profs[q].flags &^= profRebuilt
			}
		}
	}
	out.Profiles = g.profilesOf(out.Results)
	return out, nil
}

// CheckErase reports whether Erase would accept plan and events, without
// changing the graph, so a caller can check before it deletes anything.
func (g *Graph) CheckErase(plan SplitPlan, events []Input) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	pi := g.profByID(plan.Profile)
	if pi < 0 {
		return fmt.Errorf("%w: profile %s is gone", ErrStalePlan, plan.Profile)
	}
	fresh := SplitPlan{Profile: plan.Profile}
	g.fillPlan(&fresh, pi)
	if !slices.Equal(fresh.Profiles, plan.Profiles) {
		return ErrStalePlan
	}
	affected := map[int32]bool{}
	for _, p := range plan.Profiles {
		affected[g.profByID(p)] = true
	}
	return g.checkErase(events, affected, g.members(g.profs[pi].root, nil))
}

// checkErase checks that events are in log order, each once, and carry no
// identifier of the erased nodes or of a profile outside the plan.
func (g *Graph) checkErase(events []Input, affected map[int32]bool, erased []int32) error {
	for i, ev := range events {
		if i > 0 && ev.Seq <= events[i-1].Seq {
			return fmt.Errorf("%w: event %d comes after event %d; give them in log order, each once", ErrEvents, ev.Seq, events[i-1].Seq)
		}
		if ev.Seq == 0 || ev.Seq >= 1<<56 {
			return fmt.Errorf("%w: event seq %d is out of range", ErrEvents, ev.Seq)
		}
		for _, id := range ev.Identifiers {
			candidates := []Identifier{id}
			if id.Type == TypePreviousID {
				candidates = []Identifier{{TypeUserID, id.Value}, {TypeAnonymousID, id.Value}}
			}
			for _, c := range candidates {
				if n := g.nodeOf(c); n >= 0 && slices.Contains(erased, n) {
					return fmt.Errorf("%w: event %d carries %s, an identifier of the erased profile", ErrEvents, ev.Seq, c.Type)
				}
			}
			if id.Type == TypePreviousID {
				id.Type = g.rebuiltPreviousType(id.Value, affected)
			}
			if n := g.nodeOf(id); g.assigned(n) && !affected[g.profOf(g.findRO(n))] {
				return fmt.Errorf("%w: event %d carries %s, which is in profile %s, outside the plan",
					ErrEvents, ev.Seq, id, g.profs[g.profOf(g.findRO(n))].id)
			}
		}
	}
	return nil
}

// dropNeverLinks removes the never-link rules that name any of nodes.
func (g *Graph) dropNeverLinks(nodes []int32) {
	gone := map[Identifier]bool{}
	for _, n := range nodes {
		gone[g.identifier(n)] = true
		for _, m := range g.neverLink[n] {
			g.neverLink[m] = slices.DeleteFunc(g.neverLink[m], func(x int32) bool { return x == n })
			if len(g.neverLink[m]) == 0 {
				delete(g.neverLink, m)
			}
		}
		delete(g.neverLink, n)
	}
	g.rules.NeverLink = slices.DeleteFunc(g.rules.NeverLink, func(nl NeverLink) bool { return gone[nl.A] || gone[nl.B] })
}
