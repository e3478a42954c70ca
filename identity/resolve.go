package identity

import (
	"errors"
	"time"
)

// Rules a refusal can name.
const (
	RuleBlocked = "blocked" // the value is in Rules.Blocked
	RuleInvalid = "invalid" // not a valid type name or value
	RuleLimit   = "limit"   // linking would break Rules.Limits for Refusal.Type
	RuleSplit   = "split"   // a never-link rule keeps the two apart
)

// Result is what resolving one event decided.
type Result struct {
	// Profile is the profile the event belongs to; zero if the event had no
	// usable identifier (all blocked or invalid).
	Profile ProfileID
	// New reports that the event created Profile.
	New bool
	// Created lists further profiles the event created: identifiers it
	// carried that could not join Profile and were seen for the first time
	// get a profile of their own (rare; they hold no event).
	Created []ProfileID
	// Merges lists the profiles the event merged, survivor first.
	Merges []Merge
	// Refused lists the identifiers dropped from the event's links.
	Refused []Refusal
	// Decisions are the merges and refusals this event added to the merge
	// history, ready to persist. A refusal that repeats an earlier one of the
	// same profile (same identifier, same rule) is in Refused but recorded
	// once; blocked and invalid values are never recorded, because they link
	// nothing and a junk value can come on millions of events.
	Decisions []Decision
}

// Merge is one profile absorbed into another. The survivor is the older
// profile (the smaller ID), so profile IDs stay stable.
type Merge struct {
	Survivor ProfileID     `json:"survivor"`
	Absorbed ProfileID     `json:"absorbed"`
	Via      [2]Identifier `json:"via"` // the event's identifiers that were in each
}

// Refusal is an identifier the event carried but did not link.
type Refusal struct {
	Identifier Identifier `json:"identifier"`
	Rule       string     `json:"rule"`           // RuleBlocked, RuleInvalid, RuleLimit or RuleSplit
	Type       string     `json:"type,omitempty"` // for RuleLimit, the type whose limit would break
	// Conflict is the identifier on the event's side that it clashed with:
	// for RuleLimit one of Type, for RuleSplit the rule's other identifier.
	Conflict Identifier `json:"conflict,omitzero"`
	// Profiles are the event's profile and the profile the identifier is in,
	// the two it would have linked (empty for blocked and invalid values).
	Profiles []ProfileID `json:"profiles,omitempty"`
}

// ErrOutOfOrder means Resolve got a sequence number at or below one it has
// already resolved: events must come in log order, each once.
var ErrOutOfOrder = errors.New("identity: event out of order")

// event is the context of one Resolve call.
type event struct {
	seq       uint64
	sourceID  string
	messageID string
	at        time.Time
	sec       uint32
	src       int
}

// Resolve links the identifiers of the event at log position seq and
// returns the profile the event belongs to, with the merges and refusals it
// caused. ids are normalised identifiers, as Extract gives them.
//
// Identifiers are taken most trusted first (Rules.Priority). Each is linked
// unless the profile it would bring in (or the identifier itself, if new)
// would take the event's profile past a limit or against a never-link rule;
// then it is dropped from the event's links and a refusal is recorded. Two
// profiles that get linked are merged into the older one. Blocked values
// link nothing.
//
// seq must be above every seq resolved before (ErrOutOfOrder otherwise) and
// below 2^56.
func (g *Graph) Resolve(seq uint64, sourceID, messageID string, at time.Time, ids []Identifier) (Result, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if seq <= g.lastSeq || seq >= 1<<56 {
		return Result{}, errorf("%w: seq %d after %d", ErrOutOfOrder, seq, g.lastSeq)
	}
	g.lastSeq = seq
	return g.resolve(event{seq: seq, sourceID: sourceID, messageID: messageID, at: at}, ids), nil
}

func (g *Graph) resolve(ev event, ids []Identifier) Result {
	var res Result
	ev.sec = unixSeconds(ev.at)
	ev.src = g.sources.add(ev.sourceID)
	s := &g.scratch
	s.refusals, s.roundRoots = s.refusals[:0], s.roundRoots[:0]
	pending := g.prepare(ev, ids, &res)
	for round := 0; len(pending) > 0 && round < 256; round++ {
		pending = g.linkRound(ev, round, pending, &res)
	}
	g.finishRefusals(ev, &res)
	return res
}

// linkRound accepts what it can of pending (candidate indices in priority
// order) into one profile and returns the new identifiers it had to drop,
// which the next round puts in a profile of their own.
func (g *Graph) linkRound(ev event, round int, pending []int, res *Result) []int {
	s := &g.scratch
	a := &s.acc
	a.reset()
	next := s.next[:0]
	for _, ci := range pending {
		c := &s.cands[ci]
		switch {
		case c.root >= 0 && a.hasRoot(c.root):
		case c.root >= 0:
			if v, bad := g.checkProfile(c.root); bad {
				g.refuse(ci, v, round)
				continue
			}
			g.addRoot(c.root, ci)
		default:
			if v, bad := g.checkNew(c); bad {
				g.refuse(ci, v, round)
				next = append(next, ci)
				continue
			}
			a.add(c.k.typ, 1)
			a.news = append(a.news, ci)
		}
		a.accepted = append(a.accepted, ci)
	}
	id := g.commit(ev, round, res)
	if round == 0 {
		res.Profile = id
	} else {
		res.Created = append(res.Created, id)
	}
	// pending may be s.pending itself, so next is built in its own buffer
	// and copied once the loop is done.
	s.pending = append(s.pending[:0], next...)
	s.next = next
	return s.pending
}

// cand is one identifier of the event being resolved.
type cand struct {
	id   Identifier
	k    key
	node int32 // -1 if not interned
	root int32 // root of its profile, -1 if new (or an orphan)
	pid  ProfileID
}

// scratch is reused from event to event, so resolving allocates nothing in
// the common case.
type scratch struct {
	cands      []cand
	order      []int
	pending    []int
	next       []int
	acc        acc
	refusals   []pendingRefusal
	roundRoots []int32
	others     []int32
	counts     typeCounts
}

// acc is the profile being assembled in a round: existing profiles (roots)
// and new identifiers.
type acc struct {
	roots    []int32
	via      []int // per root, the candidate that brought it in
	news     []int
	accepted []int
	count    typeCounts
}

func (a *acc) reset() {
	a.roots, a.via, a.news, a.accepted = a.roots[:0], a.via[:0], a.news[:0], a.accepted[:0]
	a.count.reset()
}

func (a *acc) add(t uint8, n int32) { a.count.add(t, n) }

func (a *acc) hasRoot(r int32) bool {
	for _, x := range a.roots {
		if x == r {
			return true
		}
	}
	return false
}

// typeCounts counts identifiers per type, resetting in time proportional to
// the types touched.
type typeCounts struct {
	n       [256]int32
	touched []uint8
}

func (c *typeCounts) add(t uint8, n int32) {
	if c.n[t] == 0 {
		c.touched = append(c.touched, t)
	}
	c.n[t] += n
}

func (c *typeCounts) reset() {
	for _, t := range c.touched {
		c.n[t] = 0
	}
	c.touched = c.touched[:0]
}

// prepare turns ids into candidates, drops blocked, invalid and repeated
// ones, and returns candidate indices in the order they are linked.
func (g *Graph) prepare(ev event, ids []Identifier, res *Result) []int {
	s := &g.scratch
	s.cands, s.order = s.cands[:0], s.order[:0]
	for _, id := range ids {
		if id.Type == TypePreviousID {
			id.Type = g.previousType(id.Value)
		}
		t, ok := g.typeOf(id.Type)
		if !ok || id.Value == "" || len(id.Value) > MaxValueBytes {
			res.Refused = append(res.Refused, Refusal{Identifier: id, Rule: RuleInvalid})
			continue
		}
		k := makeKey(t, id.Value)
		n := g.lookup(&k)
		if !g.assigned(n) && g.blocked.match(id.Value) {
			res.Refused = append(res.Refused, Refusal{Identifier: id, Rule: RuleBlocked})
			continue
		}
		if g.seen(t, id.Value) {
			continue
		}
		s.cands = append(s.cands, cand{id: id, k: k, node: n, root: -1})
		if c := &s.cands[len(s.cands)-1]; g.assigned(n) {
			c.root = g.find(n)
			c.pid = g.profs[g.profOf(c.root)].id
		}
		s.order = append(s.order, len(s.cands)-1)
	}
	g.sortCands(s.order)
	return s.order
}

// typeOf returns the index of type name, interning it; ok is false if the
// name is invalid or the graph has 256 types already.
func (g *Graph) typeOf(name string) (uint8, bool) {
	if t, ok := g.types.lookup(name); ok {
		return uint8(t), true
	}
	if checkTypeName(name) != nil {
		return 0, false
	}
	return g.addType(name)
}

func (g *Graph) seen(t uint8, v string) bool {
	for i := range g.scratch.cands {
		if c := &g.scratch.cands[i]; c.k.typ == t && c.id.Value == v {
			return true
		}
	}
	return false
}

// previousType decides what an alias's previousId is: a user id if the
// graph knows that user id, an anonymous id otherwise. During a Rebuild only
// user ids the rebuild has already re-linked count, so the answer is the one
// a replay of the log gives.
func (g *Graph) previousType(v string) string {
	t, _ := g.types.lookup(TypeUserID)
	k := makeKey(uint8(t), v)
	n := g.lookup(&k)
	if g.assigned(n) && (!g.rebuilding || g.profs[g.profOf(g.find(n))].flags&profRebuilt != 0) {
		return TypeUserID
	}
	return TypeAnonymousID
}

// sortCands orders candidates as they are linked: most trusted type first;
// within a type, identifiers already in a profile before new ones, older
// profiles first, then by value. Insertion sort: events carry a handful.
func (g *Graph) sortCands(order []int) {
	cs := g.scratch.cands
	less := func(x, y int) bool {
		a, b := &cs[x], &cs[y]
		if a.k.typ != b.k.typ {
			return g.typeLess(a.k.typ, b.k.typ)
		}
		if (a.root >= 0) != (b.root >= 0) {
			return a.root >= 0
		}
		if a.pid != b.pid {
			return a.pid < b.pid
		}
		return a.id.Value < b.id.Value
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && less(order[j], order[j-1]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

// violation says why a candidate cannot join the profile being assembled.
type violation struct {
	rule      string
	typ       uint8
	accCand   int   // the candidate on the event's side it clashes with, or -1
	accNode   int32 // else a node on the event's side, or -1
	otherNode int32 // the node on the candidate's side it clashes with, or -1
}

type pendingRefusal struct {
	cand  int
	v     violation
	round int
}

func (g *Graph) refuse(ci int, v violation, round int) {
	g.scratch.refusals = append(g.scratch.refusals, pendingRefusal{cand: ci, v: v, round: round})
}

// addRoot adds an existing profile to the round's profile.
func (g *Graph) addRoot(root int32, ci int) {
	a := &g.scratch.acc
	a.roots = append(a.roots, root)
	a.via = append(a.via, ci)
	p := &g.profs[g.profOf(root)]
	for t, n := range p.counts {
		if n > 0 {
			a.add(uint8(t), int32(n))
		}
	}
	if p.flags&profCustom != 0 {
		c := g.customCounts(root)
		for _, t := range c.touched {
			a.add(t, c.n[t])
		}
	}
}

// customCounts counts the members of types ≥ countedTypes of a profile.
func (g *Graph) customCounts(root int32) *typeCounts {
	c := &g.scratch.counts
	c.reset()
	for n := root; ; {
		if t := refType(g.nodes.at(n).ref); t >= countedTypes {
			c.add(t, 1)
		}
		if n = g.nodes.at(n).next; n == root {
			return c
		}
	}
}

// checkProfile reports whether bringing root's profile into the round's
// profile would break a limit or a never-link rule. Of several broken
// limits it names the most trusted type, so the answer does not depend on
// the order types were first seen in.
func (g *Graph) checkProfile(root int32) (violation, bool) {
	a := &g.scratch.acc
	p := &g.profs[g.profOf(root)]
	worst := -1
	breaks := func(t uint8, n int32) {
		if n > 0 && a.count.n[t] > 0 && a.count.n[t]+n > g.typeLimit[t] && (worst < 0 || g.typeLess(t, uint8(worst))) {
			worst = int(t)
		}
	}
	for t, n := range p.counts {
		breaks(uint8(t), int32(n))
	}
	if p.flags&profCustom != 0 {
		c := g.customCounts(root)
		for _, t := range c.touched {
			breaks(t, c.n[t])
		}
	}
	if worst >= 0 {
		return g.limitViolation(uint8(worst), root), true
	}
	if p.flags&profRules != 0 {
		for n := root; ; {
			for _, q := range g.neverLink[n] {
				if g.inAcc(q) {
					return violation{rule: RuleSplit, accCand: -1, accNode: q, otherNode: n}, true
				}
			}
			if n = g.nodes.at(n).next; n == root {
				break
			}
		}
	}
	return violation{}, false
}

// checkNew reports whether adding a new identifier to the round's profile
// would break a limit or a never-link rule.
func (g *Graph) checkNew(c *cand) (violation, bool) {
	a := &g.scratch.acc
	if t := c.k.typ; a.count.n[t] > 0 && a.count.n[t]+1 > g.typeLimit[t] {
		return g.limitViolation(t, -1), true
	}
	if c.node >= 0 {
		for _, q := range g.neverLink[c.node] {
			if g.inAcc(q) {
				return violation{rule: RuleSplit, accCand: -1, accNode: q, otherNode: c.node}, true
			}
		}
	}
	return violation{}, false
}

// limitViolation describes a broken limit of type t: an identifier of that
// type on the event's side, and one in root's profile (if root ≥ 0).
func (g *Graph) limitViolation(t uint8, root int32) violation {
	v := violation{rule: RuleLimit, typ: t, accCand: -1, accNode: -1, otherNode: -1}
	a := &g.scratch.acc
	for _, ci := range a.accepted {
		if g.scratch.cands[ci].k.typ == t {
			v.accCand = ci
			break
		}
	}
	for i := 0; v.accCand < 0 && v.accNode < 0 && i < len(a.roots); i++ {
		v.accNode = g.memberOfType(a.roots[i], t)
	}
	if root >= 0 {
		v.otherNode = g.memberOfType(root, t)
	}
	return v
}

// memberOfType returns the first member of type t of root's profile, or -1.
func (g *Graph) memberOfType(root int32, t uint8) int32 {
	for n := root; ; {
		if refType(g.nodes.at(n).ref) == t {
			return n
		}
		if n = g.nodes.at(n).next; n == root {
			return -1
		}
	}
}

// inAcc reports whether node q is in the profile being assembled.
func (g *Graph) inAcc(q int32) bool {
	a := &g.scratch.acc
	if g.assigned(q) {
		return a.hasRoot(g.find(q))
	}
	for _, ci := range a.news {
		if g.scratch.cands[ci].node == q {
			return true
		}
	}
	return false
}
