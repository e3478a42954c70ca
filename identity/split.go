package identity

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Splitting undoes a link. It happens in three steps, because only the
// engine can read the log:
//
//  1. Split (or SplitMerge) makes a SplitPlan: the never-link rule to store
//     and the profiles whose events must be resolved again. Those are the
//     profile being split and every profile connected to it by a recorded
//     refusal (an event of one carried an identifier of the other), and so
//     on: exactly the profiles whose history could come out differently
//     once the rule exists. The graph is not changed.
//  2. The engine gathers every event whose profile is (or was merged into)
//     one of plan.Profiles, in log order, with its identifiers (Extract),
//     and calls DryRun to show the outcome, or Rebuild to apply it. Both
//     check the events against the plan (ErrEvents) and that the graph has
//     not changed since (ErrStalePlan).
//  3. Rebuild stores the rule, resets the plan's profiles and resolves the
//     events again in order. Because no other profile ever touched their
//     identifiers, the result is the one a replay of the whole log with the
//     rule gives, with the same profile IDs. The engine then drops the old
//     profiles' derived state (traits, timeline) and rebuilds it from the
//     returned results, and persists the rule with the other Rules.

// SplitPlan is what splitting a profile will do.
type SplitPlan struct {
	Profile    ProfileID  `json:"profile"`    // the profile asked to split
	Identifier Identifier `json:"identifier"` // the identifier separated from it
	// Rule is the never-link rule Rebuild stores: Identifier and the
	// identifier that best names the rest of the profile (most trusted type,
	// oldest), or for SplitMerge the two merged profiles' best identifiers.
	// Linking the separated part to the rest again is refused from then on.
	Rule NeverLink `json:"rule"`
	// Profiles are the profiles Rebuild resets and rebuilds.
	Profiles []ProfileID `json:"profiles"`
	// Seqs are the events the graph knows shaped those profiles (created
	// them, linked identifiers, merged or refused). The events given to
	// Rebuild must include them; they are usually a subset, since events
	// that only repeat known identifiers leave no trace in the graph.
	Seqs []uint64 `json:"seqs"`
	// At is the log position of the split command, if the split was asked
	// for through the log: Rebuild then records the split at At in the
	// history of the profiles on both sides of the rule. Zero records none.
	At uint64 `json:"at,omitempty"`
}

// Input is one event for DryRun and Rebuild.
type Input struct {
	Seq         uint64
	SourceID    string
	MessageID   string
	Time        time.Time
	Identifiers []Identifier
}

// Rebuilt is the outcome of DryRun or Rebuild.
type Rebuilt struct {
	Rule     NeverLink   `json:"rule"`
	Removed  []ProfileID `json:"removed"`  // the plan's profiles, as they were
	Profiles []Profile   `json:"profiles"` // the profiles the events form now
	Results  []Result    `json:"results"`  // one per event given, in order
}

// Errors of Split, DryRun and Rebuild.
var (
	ErrNotInProfile   = errors.New("identity: identifier is not in that profile")
	ErrNothingToSplit = errors.New("identity: nothing to split")
	ErrNoMerge        = errors.New("identity: no such merge in the profile's history")
	ErrStalePlan      = errors.New("identity: the graph changed since the plan was made; make a new plan")
	ErrEvents         = errors.New("identity: events do not match the plan")
)

// Split plans to separate identifier id from profile p.
func (g *Graph) Split(p ProfileID, id Identifier) (SplitPlan, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	pi := g.profByID(p)
	if pi < 0 {
		return SplitPlan{}, fmt.Errorf("%w: %s", ErrNoProfile, p)
	}
	n := g.nodeOf(id)
	if !g.assigned(n) || g.profOf(g.findRO(n)) != pi {
		return SplitPlan{}, fmt.Errorf("%w: %s is not in %s", ErrNotInProfile, id, p)
	}
	if g.profs[pi].size < 2 {
		return SplitPlan{}, fmt.Errorf("%w: %s is the only identifier of %s", ErrNothingToSplit, id, p)
	}
	anchor := int32(-1)
	for _, m := range g.members(g.profs[pi].root, nil) {
		if m != n && (anchor < 0 || g.nodeLess(m, anchor)) {
			anchor = m
		}
	}
	plan := SplitPlan{Profile: p, Identifier: g.identifier(n), Rule: NeverLink{A: g.identifier(n), B: g.identifier(anchor)}}
	g.fillPlan(&plan, pi)
	return plan, nil
}

// SplitMerge plans to undo the merge of profile absorbed into p by event
// seq (see History): the two profiles' best identifiers at the time of the
// merge are kept apart from then on.
func (g *Graph) SplitMerge(p ProfileID, seq uint64, absorbed ProfileID) (SplitPlan, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	pi := g.profByID(p)
	if pi < 0 {
		return SplitPlan{}, fmt.Errorf("%w: %s", ErrNoProfile, p)
	}
	for i := g.profs[pi].head; i >= 0; i = g.recs[i].next {
		r := &g.recs[i]
		if r.kind != recMerge || r.seq != seq || r.other != absorbed {
			continue
		}
		if !g.assigned(r.c) || !g.assigned(r.d) || g.findRO(r.c) != g.findRO(r.d) {
			return SplitPlan{}, fmt.Errorf("%w: the profiles merged by event %d are apart already", ErrNothingToSplit, seq)
		}
		a, b := g.identifier(r.d), g.identifier(r.c)
		plan := SplitPlan{Profile: p, Identifier: a, Rule: NeverLink{A: a, B: b}}
		g.fillPlan(&plan, pi)
		return plan, nil
	}
	return SplitPlan{}, fmt.Errorf("%w: %s did not absorb %s at event %d", ErrNoMerge, p, absorbed, seq)
}

// fillPlan sets the profiles and seqs of a plan for profile pi.
func (g *Graph) fillPlan(plan *SplitPlan, pi int32) {
	affected := g.closure(pi)
	plan.Profiles, plan.Seqs = nil, nil
	for _, q := range affected {
		p := &g.profs[q]
		plan.Profiles = append(plan.Profiles, p.id)
		plan.Seqs = append(plan.Seqs, p.id.Seq())
		for _, n := range g.members(p.root, nil) {
			if s := g.nodes.at(n).linkSeq; s != 0 {
				plan.Seqs = append(plan.Seqs, s)
			}
		}
		for i := p.head; i >= 0; i = g.recs[i].next {
			if g.recs[i].kind != recSplit { // a split command is no event
				plan.Seqs = append(plan.Seqs, g.recs[i].seq)
			}
		}
	}
	slices.Sort(plan.Profiles)
	slices.Sort(plan.Seqs)
	plan.Seqs = slices.Compact(plan.Seqs)
}

// closure returns pi and every profile connected to it by recorded
// refusals, transitively.
func (g *Graph) closure(pi int32) []int32 {
	seen := map[int32]bool{pi: true}
	out := []int32{pi}
	for i := 0; i < len(out); i++ {
		for ri := g.profs[out[i]].head; ri >= 0; ri = g.recs[ri].next {
			r := &g.recs[ri]
			if r.kind != recRefusal {
				continue
			}
			for _, n := range []int32{r.a, r.b, r.c} {
				if !g.assigned(n) {
					continue
				}
				if q := g.profOf(g.findRO(n)); !seen[q] {
					seen[q] = true
					out = append(out, q)
				}
			}
		}
	}
	return out
}

// checkPlan re-plans and reports ErrStalePlan if the graph changed, then
// checks the events; it returns the plan's profile indices.
func (g *Graph) checkPlan(plan SplitPlan, events []Input) (map[int32]bool, error) {
	pi := g.profByID(plan.Profile)
	if pi < 0 {
		return nil, fmt.Errorf("%w: profile %s is gone", ErrStalePlan, plan.Profile)
	}
	fresh := plan
	g.fillPlan(&fresh, pi)
	if !slices.Equal(fresh.Profiles, plan.Profiles) || !slices.Equal(fresh.Seqs, plan.Seqs) {
		return nil, ErrStalePlan
	}
	affected := map[int32]bool{}
	for _, p := range plan.Profiles {
		affected[g.profByID(p)] = true
	}
	return affected, g.checkEvents(plan, events, affected)
}

// checkEvents checks that events are in order, include the plan's seqs and
// touch no identifier of a profile outside the plan.
func (g *Graph) checkEvents(plan SplitPlan, events []Input, affected map[int32]bool) error {
	want := plan.Seqs
	for i, ev := range events {
		if i > 0 && ev.Seq <= events[i-1].Seq {
			return fmt.Errorf("%w: event %d comes after event %d; give them in log order, each once", ErrEvents, ev.Seq, events[i-1].Seq)
		}
		if ev.Seq == 0 || ev.Seq >= 1<<56 {
			return fmt.Errorf("%w: event seq %d is out of range", ErrEvents, ev.Seq)
		}
		for len(want) > 0 && want[0] <= ev.Seq {
			if want[0] < ev.Seq {
				return fmt.Errorf("%w: event %d, which shaped profile(s) of the plan, is missing", ErrEvents, want[0])
			}
			want = want[1:]
		}
		for _, id := range ev.Identifiers {
			if id.Type == TypePreviousID {
				id.Type = g.rebuiltPreviousType(id.Value, affected)
			}
			if n := g.nodeOf(id); g.assigned(n) && !affected[g.profOf(g.findRO(n))] {
				return fmt.Errorf("%w: event %d carries %s, which is in profile %s, outside the plan",
					ErrEvents, ev.Seq, id, g.profs[g.profOf(g.findRO(n))].id)
			}
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("%w: event %d, which shaped profile(s) of the plan, is missing", ErrEvents, want[0])
	}
	return nil
}

// rebuiltPreviousType is the type a previousId v will have when Rebuild
// resolves it: a user id of the plan's profiles has been linked again by
// then (the event that brought it in comes first); any other user id reads
// as anonymous, as it did not exist when the alias was first resolved.
func (g *Graph) rebuiltPreviousType(v string, affected map[int32]bool) string {
	if n := g.nodeOf(Identifier{TypeUserID, v}); g.assigned(n) && affected[g.profOf(g.findRO(n))] {
		return TypeUserID
	}
	return TypeAnonymousID
}

// DryRun shows what Rebuild would do, without changing the graph: it
// resolves the events with the plan's rule in a scratch graph.
func (g *Graph) DryRun(plan SplitPlan, events []Input) (Rebuilt, error) {
	g.mu.RLock()
	_, err := g.checkPlan(plan, events)
	rules := g.rules.clone()
	g.mu.RUnlock()
	if err != nil {
		return Rebuilt{}, err
	}
	if !slices.Contains(rules.NeverLink, plan.Rule) {
		rules.NeverLink = append(rules.NeverLink, plan.Rule)
	}
	sg := New(rules)
	out := Rebuilt{Rule: plan.Rule, Removed: slices.Clone(plan.Profiles)}
	for _, ev := range events {
		res, err := sg.Resolve(ev.Seq, ev.SourceID, ev.MessageID, ev.Time, ev.Identifiers)
		if err != nil {
			return Rebuilt{}, err
		}
		out.Results = append(out.Results, res)
	}
	out.Profiles = sg.profilesOf(out.Results)
	return out, nil
}

// Rebuild applies a plan: it stores the rule, resets the plan's profiles
// and resolves events (see the steps above) again. On an error the graph is
// unchanged.
func (g *Graph) Rebuild(plan SplitPlan, events []Input) (Rebuilt, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	affected, err := g.checkPlan(plan, events)
	if err != nil {
		return Rebuilt{}, err
	}
	if !slices.Contains(g.rules.NeverLink, plan.Rule) {
		g.rules.NeverLink = append(g.rules.NeverLink, plan.Rule)
		g.addNeverLink(plan.Rule)
	}
	for pi := range affected {
		g.reset(pi)
	}
	out := Rebuilt{Rule: plan.Rule, Removed: slices.Clone(plan.Profiles)}
	g.rebuilding = true
	for _, ev := range events {
		out.Results = append(out.Results, g.resolve(event{seq: ev.Seq, sourceID: ev.SourceID, messageID: ev.MessageID, at: ev.Time}, ev.Identifiers))
	}
	g.rebuilding = false
	for _, res := range out.Results {
		for _, id := range append([]ProfileID{res.Profile}, res.Created...) {
			if pi := g.profByID(id); pi >= 0 {
				g.profs[pi].flags &^= profRebuilt
			}
		}
	}
	g.recordSplit(plan)
	out.Profiles = g.profilesOf(out.Results)
	return out, nil
}

// recordSplit adds the split at plan.At to the history of the profiles
// that hold the rule's two identifiers.
func (g *Graph) recordSplit(plan SplitPlan) {
	if plan.At == 0 {
		return
	}
	na, nb := g.nodeOf(plan.Rule.A), g.nodeOf(plan.Rule.B)
	var done []int32
	for _, n := range []int32{na, nb} {
		if !g.assigned(n) {
			continue
		}
		pi := g.profOf(g.find(n))
		if slices.Contains(done, pi) {
			continue
		}
		done = append(done, pi)
		g.addRecord(pi, record{seq: plan.At, self: g.profs[pi].id, a: na, b: nb, c: -1, d: -1, kind: recSplit})
	}
}

// profilesOf returns the live profiles among those results name, by ID.
func (g *Graph) profilesOf(results []Result) []Profile {
	var ids []ProfileID
	for _, res := range results {
		ids = append(ids, res.Profile)
		ids = append(ids, res.Created...)
	}
	slices.Sort(ids)
	var out []Profile
	for _, id := range slices.Compact(ids) {
		if p, ok := g.profile(id); ok {
			out = append(out, p)
		}
	}
	return out
}

// reset turns profile pi's members into orphans and retires it.
func (g *Graph) reset(pi int32) {
	for _, n := range g.members(g.profs[pi].root, nil) {
		nd := g.nodes.at(n)
		*nd = node{parent: orphan, next: n, link: -1, ref: nd.ref}
		delete(g.moreSrcs, n)
	}
	g.freeProf(pi)
}

// addNeverLink registers a never-link rule on the nodes it names, interning
// identifiers not seen yet as orphans.
func (g *Graph) addNeverLink(nl NeverLink) {
	na, nb := g.ruleNode(nl.A), g.ruleNode(nl.B)
	if na < 0 || nb < 0 || slices.Contains(g.neverLink[na], nb) {
		return
	}
	g.neverLink[na] = append(g.neverLink[na], nb)
	g.neverLink[nb] = append(g.neverLink[nb], na)
	for _, n := range []int32{na, nb} {
		if g.assigned(n) {
			g.profs[g.profOf(g.find(n))].flags |= profRules
		}
	}
}

func (g *Graph) ruleNode(id Identifier) int32 {
	t, ok := g.addType(id.Type)
	if !ok {
		return -1
	}
	k := makeKey(t, id.Value)
	if n := g.lookup(&k); n >= 0 {
		return n
	}
	return g.intern(&k)
}
