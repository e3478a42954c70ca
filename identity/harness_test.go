package identity

import (
	"slices"
	"time"
)

// harness does what the engine does with a Graph: it resolves events in log
// order, remembers each event's profile (following merges, as the profile
// timelines do), and splits by giving Rebuild the events of the plan's
// profiles. Tests use it to check that incremental processing with splits
// equals a replay of the log.
type harness struct {
	t      tb
	g      *Graph
	events []Input                  // every event resolved, in order
	stamp  map[uint64]ProfileID     // event → profile it was resolved to
	merged map[ProfileID]ProfileID  // absorbed → survivor
	res    map[uint64]Result        // event → its latest Result
	times  map[uint64]describedTime // for the Describer
}

// tb is what the harness needs of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

type describedTime struct {
	src, msg string
	at       time.Time
}

func newHarness(t tb, rules Rules) *harness {
	h := &harness{t: t, g: New(rules), stamp: map[uint64]ProfileID{}, merged: map[ProfileID]ProfileID{},
		res: map[uint64]Result{}, times: map[uint64]describedTime{}}
	h.g.SetDescriber(h.describe)
	return h
}

func (h *harness) describe(seq uint64) (string, string, time.Time, bool) {
	d, ok := h.times[seq]
	return d.src, d.msg, d.at, ok
}

// resolve resolves one event and records its profile.
func (h *harness) resolve(in Input) Result {
	h.t.Helper()
	res, err := h.g.Resolve(in.Seq, in.SourceID, in.MessageID, in.Time, in.Identifiers)
	if err != nil {
		h.t.Fatalf("Resolve(%d) = %v", in.Seq, err)
	}
	h.events = append(h.events, in)
	h.times[in.Seq] = describedTime{in.SourceID, in.MessageID, in.Time}
	h.apply(in.Seq, res)
	return res
}

func (h *harness) apply(seq uint64, res Result) {
	h.stamp[seq] = res.Profile
	h.res[seq] = res
	for _, m := range res.Merges {
		h.merged[m.Absorbed] = m.Survivor
	}
}

// current follows merges from p to the live profile.
func (h *harness) current(p ProfileID) ProfileID {
	for {
		next, ok := h.merged[p]
		if !ok {
			return p
		}
		p = next
	}
}

// eventsOf returns the events whose profile is now one of ps, in order.
func (h *harness) eventsOf(ps []ProfileID) []Input {
	var out []Input
	for _, in := range h.events {
		if p := h.stamp[in.Seq]; p != 0 && slices.Contains(ps, h.current(p)) {
			out = append(out, in)
		}
	}
	return out
}

// split applies a plan, checking that DryRun foretold the outcome, and
// returns it with the events it resolved again.
func (h *harness) split(plan SplitPlan) (Rebuilt, []Input) {
	h.t.Helper()
	events := h.eventsOf(plan.Profiles)
	dry, err := h.g.DryRun(plan, events)
	if err != nil {
		h.t.Fatalf("DryRun(%v) = %v", plan, err)
	}
	out, err := h.g.Rebuild(plan, events)
	if err != nil {
		h.t.Fatalf("Rebuild(%v) = %v", plan, err)
	}
	if d := diffRebuilt(dry, out); d != "" {
		h.t.Fatalf("Rebuild differs from DryRun (-dry +rebuild):\n%s", d)
	}
	// The old profiles' merges are re-derived from the new results.
	var stale []ProfileID
	for a := range h.merged {
		if slices.Contains(plan.Profiles, h.current(a)) {
			stale = append(stale, a)
		}
	}
	for _, a := range stale {
		delete(h.merged, a)
	}
	for i, in := range events {
		h.apply(in.Seq, out.Results[i])
	}
	return out, events
}

// replay resolves every event again on a fresh graph with g's rules.
func (h *harness) replay() *harness {
	h.t.Helper()
	r := newHarness(h.t, h.g.Rules())
	for _, in := range h.events {
		r.resolve(in)
	}
	return r
}

// profileView is a profile as tests compare it.
type profileView struct {
	ID          ProfileID
	Identifiers []IdentifierInfo
}

// view returns every profile of g, by ID.
func view(g *Graph) []profileView {
	var ids []ProfileID
	for id := range g.Profiles() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]profileView, len(ids))
	for i, id := range ids {
		out[i] = profileView{ID: id, Identifiers: g.Identifiers(id)}
	}
	return out
}

// stamps returns each event's current profile.
func (h *harness) stamps() map[uint64]ProfileID {
	out := map[uint64]ProfileID{}
	for seq, p := range h.stamp {
		out[seq] = h.current(p)
	}
	return out
}
