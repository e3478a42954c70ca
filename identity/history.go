package identity

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Kinds of Decision.
const (
	DecisionMerge   = "merge"   // two profiles became one
	DecisionRefusal = "refusal" // an identifier was not linked
	DecisionLink    = "link"    // an event linked two identifiers (Explain)
	DecisionSplit   = "split"   // a split separated two identifiers and rebuilt the profile
)

// Decision is one entry of a profile's merge history, or one step of an
// explanation.
type Decision struct {
	Kind      string    `json:"kind"`
	Seq       uint64    `json:"seq"` // the event's log position
	SourceID  string    `json:"source_id,omitempty"`
	MessageID string    `json:"message_id,omitempty"`
	Time      time.Time `json:"time,omitzero"`
	// Identifiers: for a merge, the event's identifier in the survivor and
	// the one in the absorbed profile; for a refusal, the dropped identifier,
	// then the one on the event's side it clashed with, then (for a limit)
	// the one of the same type in its own profile; for a link, the two
	// identifiers the event carried together.
	Identifiers []Identifier `json:"identifiers"`
	// Profiles: for a merge, survivor then absorbed; for a refusal, the
	// event's profile then the identifier's; for a link, the profile.
	Profiles []ProfileID `json:"profiles"`
	Rule     string      `json:"rule,omitempty"` // refusals: RuleLimit or RuleSplit
	Type     string      `json:"type,omitempty"` // RuleLimit: the type whose limit would break
	Reason   string      `json:"reason"`
}

// record is a merge or refusal in memory, in a per-profile chain. 48 bytes;
// the event's source, messageId and time come from the Describer.
type record struct {
	seq        uint64
	self       ProfileID // merge: survivor; refusal: the event's profile
	other      ProfileID // merge: absorbed; refusal: the identifier's profile
	a, b, c, d int32     // nodes, see Decision.Identifiers; c, d of a merge are the two profiles' anchors
	next       int32     // next record of the same chain, -1 at the end
	kind       uint8
	rule       uint8
	typ        uint8
}

const (
	recMerge = iota + 1
	recRefusal
	recSplit // seq is the split command's log position, a and b the rule's identifiers
)

var ruleCodes = []string{"", RuleLimit, RuleSplit}

func ruleCode(rule string) uint8 { return uint8(slices.Index(ruleCodes, rule)) }

// addRecord appends r to profile pi's history.
func (g *Graph) addRecord(pi int32, r record) {
	r.next = -1
	i := int32(len(g.recs))
	g.recs = append(g.recs, r)
	p := &g.profs[pi]
	if p.head < 0 {
		p.head = i
	} else {
		g.recs[p.tail].next = i
	}
	p.tail = i
}

// appendChain moves profile qp's history to the end of sp's.
func (g *Graph) appendChain(sp, qp int32) {
	P, Q := &g.profs[sp], &g.profs[qp]
	switch {
	case Q.head < 0:
	case P.head < 0:
		P.head, P.tail = Q.head, Q.tail
	default:
		g.recs[P.tail].next = Q.head
		P.tail = Q.tail
	}
	Q.head, Q.tail = -1, -1
}

// finishRefusals reports the refusals of the event and records those that
// link two profiles, in both profiles' histories, once per identifier and
// rule.
func (g *Graph) finishRefusals(ev event, res *Result) {
	s := &g.scratch
	for _, pr := range s.refusals {
		c := &s.cands[pr.cand]
		evPi := g.profOf(g.find(s.roundRoots[pr.round]))
		accNode := pr.v.accNode
		if pr.v.accCand >= 0 {
			accNode = s.cands[pr.v.accCand].node
		}
		ref := Refusal{Identifier: c.id, Rule: pr.v.rule, Profiles: []ProfileID{g.profs[evPi].id}}
		if pr.v.rule == RuleLimit {
			ref.Type = g.types.list[pr.v.typ]
		}
		if accNode >= 0 {
			ref.Conflict = g.identifier(accNode)
		}
		if !g.assigned(c.node) {
			res.Refused = append(res.Refused, ref)
			continue
		}
		otherPi := g.profOf(g.find(c.node))
		ref.Profiles = append(ref.Profiles, g.profs[otherPi].id)
		res.Refused = append(res.Refused, ref)
		if g.hasRefusal(evPi, c.node, ruleCode(pr.v.rule)) {
			continue
		}
		r := record{seq: ev.seq, self: g.profs[evPi].id, other: g.profs[otherPi].id,
			a: c.node, b: accNode, c: pr.v.otherNode, d: -1, kind: recRefusal, rule: ruleCode(pr.v.rule), typ: pr.v.typ}
		g.addRecord(evPi, r)
		g.addRecord(otherPi, r)
		res.Decisions = append(res.Decisions, g.decision(&r, ev))
	}
}

// hasRefusal reports whether profile pi's history already has a refusal of
// node a under rule.
func (g *Graph) hasRefusal(pi, a int32, rule uint8) bool {
	for i := g.profs[pi].head; i >= 0; i = g.recs[i].next {
		if r := &g.recs[i]; r.kind == recRefusal && r.a == a && r.rule == rule {
			return true
		}
	}
	return false
}

// decision turns a record into a Decision for event ev.
func (g *Graph) decision(r *record, ev event) Decision {
	d := g.recordDecision(r)
	d.SourceID, d.MessageID, d.Time = ev.sourceID, ev.messageID, ev.at
	return d
}

func (g *Graph) recordDecision(r *record) Decision {
	d := Decision{Seq: r.seq, Profiles: []ProfileID{r.self}}
	if r.other != 0 {
		d.Profiles = append(d.Profiles, r.other)
	}
	for _, n := range []int32{r.a, r.b} {
		if n >= 0 {
			d.Identifiers = append(d.Identifiers, g.identifier(n))
		}
	}
	if r.kind == recSplit {
		d.Kind, d.Rule = DecisionSplit, RuleSplit
		d.Reason = fmt.Sprintf("a split separated %s from %s and rebuilt the profiles from their events; a never-link rule keeps them apart",
			d.Identifiers[0], d.Identifiers[1])
		return d
	}
	if r.kind == recMerge {
		d.Kind = DecisionMerge
		d.Reason = fmt.Sprintf("the event carried %s, of profile %s, and %s, of profile %s; the younger profile was merged into the older",
			d.Identifiers[0], r.self, d.Identifiers[1], r.other)
		return d
	}
	d.Kind, d.Rule = DecisionRefusal, ruleCodes[r.rule]
	if r.c >= 0 && r.c != r.a {
		d.Identifiers = append(d.Identifiers, g.identifier(r.c))
	}
	d.Reason = g.refusalReason(r, d.Identifiers)
	if d.Rule == RuleLimit {
		d.Type = g.types.list[r.typ]
	}
	return d
}

func (g *Graph) refusalReason(r *record, ids []Identifier) string {
	if ruleCodes[r.rule] == RuleSplit {
		return fmt.Sprintf("%s was not linked: a never-link rule (made by a split) keeps it apart from %s",
			ids[0], ids[min(1, len(ids)-1)])
	}
	t, limit := g.types.list[r.typ], g.typeLimit[r.typ]
	if len(ids) == 3 {
		return fmt.Sprintf("%s was not linked: profile %s would then hold %s and %s, over the limit of %d %s",
			ids[0], r.self, ids[1], ids[2], limit, t)
	}
	return fmt.Sprintf("%s was not linked: profile %s (with %s) already holds the most %s identifiers allowed, %d",
		ids[0], r.self, ids[min(1, len(ids)-1)], t, limit)
}

// describeAll fills source, messageId and time from the Describer d. It is
// called without the lock held: a Describer reads the log.
func describeAll(d Describer, ds []Decision) {
	if d == nil {
		return
	}
	for i := range ds {
		if src, msg, at, ok := d(ds[i].Seq); ok {
			ds[i].SourceID, ds[i].MessageID, ds[i].Time = src, msg, at
		}
	}
}

// History returns the merge history of profile id, oldest first: the merges
// that formed it and the refusals that kept identifiers out of it (or it out
// of others), including those of the profiles it absorbed. Nil if there is
// no live profile id.
func (g *Graph) History(id ProfileID) []Decision {
	g.mu.RLock()
	out, d := g.history(id), g.describe
	g.mu.RUnlock()
	describeAll(d, out)
	return out
}

func (g *Graph) history(id ProfileID) []Decision {
	pi := g.profByID(id)
	if pi < 0 {
		return nil
	}
	var out []Decision
	for i := g.profs[pi].head; i >= 0; i = g.recs[i].next {
		out = append(out, g.recordDecision(&g.recs[i]))
	}
	slices.SortStableFunc(out, func(a, b Decision) int {
		switch {
		case a.Seq != b.Seq:
			return cmpSeq(a.Seq, b.Seq)
		case a.Kind != b.Kind:
			return cmpString(a.Kind, b.Kind)
		}
		return 0
	})
	return out
}

func cmpSeq(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

func cmpString(a, b string) int {
	if a < b {
		return -1
	}
	return 1
}

// Errors of Explain and Split.
var (
	ErrUnknownIdentifier = errors.New("identity: identifier is in no profile")
	ErrNotLinked         = errors.New("identity: identifiers are in different profiles")
	ErrNoProfile         = errors.New("identity: no such profile")
)

// Explain answers "why are these two identifiers in one profile?": the chain
// of events that linked a to b, each as a Decision of kind "link" naming the
// two identifiers the event carried together, in order from a to b. The
// chain is a path in the link tree, so every step is an event that really
// carried both identifiers. Empty if a and b are the same identifier.
func (g *Graph) Explain(a, b Identifier) ([]Decision, error) {
	g.mu.RLock()
	out, err := g.explain(a, b)
	d := g.describe
	g.mu.RUnlock()
	describeAll(d, out)
	return out, err
}

func (g *Graph) explain(a, b Identifier) ([]Decision, error) {
	na, nb := g.nodeOf(a), g.nodeOf(b)
	for i, n := range []int32{na, nb} {
		if !g.assigned(n) {
			return nil, fmt.Errorf("%w: %s", ErrUnknownIdentifier, []Identifier{a, b}[i])
		}
	}
	root := g.findRO(na)
	if g.findRO(nb) != root {
		return nil, fmt.Errorf("%w: %s and %s", ErrNotLinked, a, b)
	}
	pid := g.profs[g.profOf(root)].id
	up := g.linkPath(na)
	depth := make(map[int32]int, len(up))
	for i, n := range up {
		depth[n] = i
	}
	var down []int32
	n := nb
	for ; ; n = g.nodes.at(n).link {
		if _, ok := depth[n]; ok {
			break
		}
		down = append(down, n)
	}
	var out []Decision
	for _, x := range up[:depth[n]] {
		out = append(out, g.linkDecision(x, g.nodes.at(x).link, x, pid))
	}
	for i := len(down) - 1; i >= 0; i-- {
		x := down[i]
		out = append(out, g.linkDecision(g.nodes.at(x).link, x, x, pid))
	}
	return out, nil
}

// linkPath returns n and its link-tree ancestors.
func (g *Graph) linkPath(n int32) []int32 {
	var path []int32
	for ; n >= 0; n = g.nodes.at(n).link {
		path = append(path, n)
	}
	return path
}

// linkDecision describes the link-tree edge stored at node at, from x to y.
func (g *Graph) linkDecision(x, y, at int32, pid ProfileID) Decision {
	ix, iy := g.identifier(x), g.identifier(y)
	return Decision{Kind: DecisionLink, Seq: g.nodes.at(at).linkSeq, Identifiers: []Identifier{ix, iy},
		Profiles: []ProfileID{pid}, Reason: fmt.Sprintf("the event carried both %s and %s", ix, iy)}
}
