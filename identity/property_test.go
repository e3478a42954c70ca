package identity

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// The universe random events draw from: few values per type, so that
// events collide, profiles merge and limits bite. Three custom types make
// profiles count some types by walking (type indices ≥ countedTypes).
var (
	propTypes = []string{TypeUserID, TypeEmail, TypeDeviceID, TypeAnonymousID, TypePhone,
		"crm_id", "shop_id", "loyalty_id", TypePreviousID}
	propJunk = []Identifier{{TypeEmail, "test@test.com"}, {TypeAnonymousID, "null"}, {TypeUserID, "0"}}
)

// genRules draws rules with small limits and a random priority (user_id
// first or not).
func genRules(t *rapid.T) Rules {
	r := DefaultRules()
	for _, typ := range propTypes[1:8] {
		r.Limits[typ] = rapid.IntRange(1, 3).Draw(t, "limit "+typ)
	}
	r.DefaultLimit = rapid.IntRange(1, 3).Draw(t, "default limit")
	r.Priority = rapid.Permutation(propTypes[:8]).Draw(t, "priority")
	return r
}

func genIdentifier(t *rapid.T) Identifier {
	if rapid.IntRange(0, 20).Draw(t, "junk?") == 0 {
		return rapid.SampledFrom(propJunk).Draw(t, "junk")
	}
	typ := rapid.SampledFrom(propTypes).Draw(t, "type")
	prefix := typ[0]
	if typ == TypePreviousID {
		prefix = rapid.SampledFrom([]byte("ua")).Draw(t, "previous of")
	}
	v := fmt.Sprintf("%c%d", prefix, rapid.IntRange(0, 5).Draw(t, "value"))
	if typ == TypeEmail {
		v += "@mosaic.dev"
	}
	return Identifier{Type: typ, Value: v}
}

// genEvents draws n events with 1 to 4 identifiers each, at seqs with gaps.
func genEvents(t *rapid.T, n int) []Input {
	sources := []string{"web", "ios", "crm"}
	var out []Input
	seq := uint64(0)
	for i := range n {
		seq += uint64(rapid.IntRange(1, 3).Draw(t, "gap"))
		ids := rapid.SliceOfN(rapid.Custom(genIdentifier), 1, 4).Draw(t, "ids")
		out = append(out, Input{Seq: seq, SourceID: rapid.SampledFrom(sources).Draw(t, "source"),
			MessageID: fmt.Sprintf("m%d", i), Time: t0.Add(time.Duration(rapid.IntRange(0, 1000).Draw(t, "minute")) * time.Minute),
			Identifiers: ids})
	}
	return out
}

func resolveAll(t *rapid.T, g *Graph, events []Input) []Result {
	var out []Result
	for _, in := range events {
		res, err := g.Resolve(in.Seq, in.SourceID, in.MessageID, in.Time, in.Identifiers)
		if err != nil {
			t.Fatalf("Resolve(%d) = %v", in.Seq, err)
		}
		out = append(out, res)
	}
	return out
}

// history returns every live profile's merge history.
func history(g *Graph) map[ProfileID][]Decision {
	out := map[ProfileID][]Decision{}
	for id := range g.Profiles() {
		out[id] = g.History(id)
	}
	return out
}

// Resolving the same events with the same rules gives the same results,
// profiles and histories.
func TestPropertyDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := genRules(t)
		events := genEvents(t, rapid.IntRange(1, 60).Draw(t, "events"))
		g1, g2 := New(rules), New(rules)
		r1, r2 := resolveAll(t, g1, events), resolveAll(t, g2, events)
		if d := cmp.Diff(r1, r2); d != "" {
			t.Fatalf("results differ between two runs:\n%s", d)
		}
		if d := cmp.Diff(view(g1), view(g2)); d != "" {
			t.Fatalf("profiles differ between two runs:\n%s", d)
		}
		if d := cmp.Diff(history(g1), history(g2)); d != "" {
			t.Fatalf("histories differ between two runs:\n%s", d)
		}
	})
}

// After every event: each identifier is in exactly one profile, no profile
// breaks a limit (so none has two user ids), and every identifier seen that
// is not blocked is in a profile.
func TestPropertyInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := genRules(t)
		g := New(rules)
		for _, in := range genEvents(t, rapid.IntRange(1, 60).Draw(t, "events")) {
			res, err := g.Resolve(in.Seq, in.SourceID, in.MessageID, in.Time, in.Identifiers)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkGraph(g); err != nil {
				t.Fatalf("after event %d: %v", in.Seq, err)
			}
			checkEveryIdentifierPlaced(t, g, in, res)
		}
	})
}

func checkEveryIdentifierPlaced(t *rapid.T, g *Graph, in Input, res Result) {
	for _, id := range in.Identifiers {
		if id.Type == TypePreviousID || slices.Contains(propJunk, id) {
			continue
		}
		if _, ok := g.Lookup(id); !ok {
			t.Fatalf("after event %d: %s is in no profile (result %+v)", in.Seq, id, res)
		}
	}
	if res.Profile == 0 {
		for _, id := range in.Identifiers {
			if !slices.Contains(propJunk, id) {
				t.Fatalf("event %d with %v got no profile", in.Seq, in.Identifiers)
			}
		}
	}
}

// Snapshot and Restore at any point, then resolving the rest, gives what
// resolving everything on the original graph gives.
func TestPropertySnapshotRestore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rules := genRules(t)
		events := genEvents(t, rapid.IntRange(1, 60).Draw(t, "events"))
		k := rapid.IntRange(0, len(events)).Draw(t, "snapshot at")
		g := New(rules)
		resolveAll(t, g, events[:k])
		var buf bytes.Buffer
		if err := g.Snapshot(&buf); err != nil {
			t.Fatal(err)
		}
		r, err := Restore(&buf)
		if err != nil {
			t.Fatalf("Restore = %v", err)
		}
		if r.LastSeq() != g.LastSeq() {
			t.Fatalf("LastSeq after restore = %d, want %d", r.LastSeq(), g.LastSeq())
		}
		want, got := resolveAll(t, g, events[k:]), resolveAll(t, r, events[k:])
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("results after restore differ (-original +restored):\n%s", d)
		}
		if d := cmp.Diff(view(g), view(r)); d != "" {
			t.Fatalf("profiles after restore differ (-original +restored):\n%s", d)
		}
		if d := cmp.Diff(history(g), history(r)); d != "" {
			t.Fatalf("histories after restore differ (-original +restored):\n%s", d)
		}
	})
}

// Splitting while processing, then going on, gives the profiles and event
// stamps a replay of the log with the stored rules gives; DryRun foretells
// every Rebuild (the harness checks it), and a split holds: the rule's two
// identifiers stay apart.
func TestPropertySplitEqualsReplay(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkEqualsReplay(t, 5, "split?", splitSomething) })
}

// checkEqualsReplay resolves random events, doing act after about one in
// every+1 of them, checks the graph after each, and then that a replay of
// the log gives the same profiles and event stamps.
func checkEqualsReplay(t *rapid.T, every int, label string, act func(*rapid.T, *harness)) {
	h := newHarness(t, genRules(t))
	for _, in := range genEvents(t, rapid.IntRange(1, 40).Draw(t, "events")) {
		h.resolve(in)
		if rapid.IntRange(0, every).Draw(t, label) == 0 {
			act(t, h)
		}
		if err := checkGraph(h.g); err != nil {
			t.Fatalf("after event %d: %v", in.Seq, err)
		}
	}
	r := h.replay()
	if d := cmp.Diff(view(h.g), view(r.g)); d != "" {
		t.Fatalf("replay differs (-incremental +replay):\n%s", d)
	}
	if d := cmp.Diff(h.stamps(), r.stamps()); d != "" {
		t.Fatalf("replay stamps differ (-incremental +replay):\n%s", d)
	}
}

// splitSomething splits a random identifier out of a random profile with
// more than one, or undoes a random merge.
func splitSomething(t *rapid.T, h *harness) {
	var candidates []profileView
	for _, p := range view(h.g) {
		if len(p.Identifiers) > 1 {
			candidates = append(candidates, p)
		}
	}
	if len(candidates) == 0 {
		return
	}
	p := rapid.SampledFrom(candidates).Draw(t, "profile")
	plan, err := h.g.Split(p.ID, rapid.SampledFrom(p.Identifiers).Draw(t, "identifier").Identifier)
	if merges := mergesOf(h.g.History(p.ID)); len(merges) > 0 && rapid.Bool().Draw(t, "undo a merge?") {
		m := rapid.SampledFrom(merges).Draw(t, "merge")
		if plan, err = h.g.SplitMerge(p.ID, m.Seq, m.Profiles[1]); err != nil {
			return // apart already: a later split separated them
		}
	}
	if err != nil {
		t.Fatalf("Split = %v", err)
	}
	h.split(plan)
	if p, q := mustLookupRapid(t, h.g, plan.Rule.A), mustLookupRapid(t, h.g, plan.Rule.B); p == q {
		t.Fatalf("after splitting %s from %s, both are in %s", plan.Rule.A, plan.Rule.B, p)
	}
}

func mergesOf(ds []Decision) []Decision {
	var out []Decision
	for _, d := range ds {
		if d.Kind == DecisionMerge {
			out = append(out, d)
		}
	}
	return out
}

func mustLookupRapid(t *rapid.T, g *Graph, id Identifier) ProfileID {
	p, ok := g.Lookup(id)
	if !ok {
		t.Fatalf("%s is in no profile", id)
	}
	return p
}

// Erasing a profile while processing, then going on, gives the profiles
// and event stamps a replay of the log without the erased events gives,
// and no node of the graph (or of a snapshot restored) holds an erased
// identifier any more.
func TestPropertyEraseEqualsReplay(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkEqualsReplay(t, 7, "erase?", eraseSomething) })
}

// eraseSomething erases a random profile as the engine does: the events
// of the profile and every event of the plan that carries one of its
// identifiers leave the log; the rest of the plan is resolved again.
func eraseSomething(t *rapid.T, h *harness) {
	profiles := view(h.g)
	if len(profiles) == 0 {
		return
	}
	p := rapid.SampledFrom(profiles).Draw(t, "profile to erase")
	plan, err := h.g.ErasePlan(p.ID)
	if err != nil {
		t.Fatalf("ErasePlan(%s) = %v", p.ID, err)
	}
	personal := map[string]bool{} // type:value, previousId read either way
	for _, info := range p.Identifiers {
		personal[info.Type+":"+info.Value] = true
	}
	carries := func(in Input) bool {
		for _, id := range in.Identifiers {
			if personal[id.Type+":"+id.Value] ||
				id.Type == TypePreviousID && (personal[TypeUserID+":"+id.Value] || personal[TypeAnonymousID+":"+id.Value]) {
				return true
			}
		}
		return false
	}
	gone := map[uint64]bool{}
	var remaining []Input
	for _, in := range h.eventsOf(plan.Profiles) {
		if h.current(h.stamp[in.Seq]) == p.ID || carries(in) {
			gone[in.Seq] = true
			continue
		}
		remaining = append(remaining, in)
	}
	out, err := h.g.Erase(plan, remaining)
	if err != nil {
		t.Fatalf("Erase(%v) = %v", plan, err)
	}
	h.events = slices.DeleteFunc(h.events, func(in Input) bool { return gone[in.Seq] })
	for seq := range gone {
		delete(h.stamp, seq)
		delete(h.res, seq)
	}
	var stale []ProfileID
	for a := range h.merged {
		if slices.Contains(plan.Profiles, h.current(a)) {
			stale = append(stale, a)
		}
	}
	for _, a := range stale {
		delete(h.merged, a)
	}
	for i, in := range remaining {
		h.apply(in.Seq, out.Results[i])
	}
	var buf bytes.Buffer
	if err := h.g.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	restored, err := Restore(&buf)
	if err != nil {
		t.Fatalf("Restore after erasure = %v", err)
	}
	for _, g := range []*Graph{h.g, restored} {
		for n := range int32(g.nodes.len()) {
			id := g.identifier(n)
			if personal[id.Type+":"+id.Value] {
				t.Fatalf("node %d still holds the erased identifier %s", n, id)
			}
		}
		if _, ok := g.Profile(p.ID); ok {
			t.Fatalf("profile %s still exists after its erasure", p.ID)
		}
	}
}
