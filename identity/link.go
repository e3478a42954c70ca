package identity

import (
	"math"
	"slices"
)

// commit applies a round: it merges the profiles the round brought
// together into the oldest, adds the new identifiers, and updates what is
// known about every identifier the round accepted. It returns the profile.
func (g *Graph) commit(ev event, round int, res *Result) ProfileID {
	s := &g.scratch
	a := &s.acc
	if len(a.roots) == 0 {
		return g.createProfile(ev, round, res)
	}
	si := 0
	for i, r := range a.roots {
		if g.profs[g.profOf(r)].id < g.profs[g.profOf(a.roots[si])].id {
			si = i
		}
	}
	survivor, center := a.roots[si], s.cands[a.via[si]].node
	// Absorb the others oldest first, so the merge order is deterministic.
	others := s.others[:0]
	for i := range a.roots {
		if i != si {
			others = append(others, int32(i))
		}
	}
	slices.SortFunc(others, func(x, y int32) int {
		return cmpID(g.profs[g.profOf(a.roots[x])].id, g.profs[g.profOf(a.roots[y])].id)
	})
	for _, i := range others {
		g.merge(ev, survivor, a.roots[i], s.cands[a.via[i]].node, center, res)
	}
	s.others = others[:0]
	for _, ci := range a.news {
		g.attach(g.adopt(ci, ev), survivor, center, ev.seq)
	}
	for _, ci := range a.accepted {
		if c := &s.cands[ci]; c.root >= 0 {
			g.touch(c.node, ev)
		}
	}
	s.roundRoots = append(s.roundRoots, survivor)
	return g.profs[g.profOf(survivor)].id
}

func cmpID(a, b ProfileID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// createProfile makes a profile of the round's new identifiers. The first
// (most trusted) is the hub the others are linked to.
func (g *Graph) createProfile(ev event, round int, res *Result) ProfileID {
	s := &g.scratch
	id := profileIDOf(ev.seq, round)
	pi := g.newProf(id)
	hub := int32(-1)
	for _, ci := range s.acc.news {
		n := g.adopt(ci, ev)
		if hub < 0 {
			g.makeRoot(n, pi)
			hub = n
			continue
		}
		g.attach(n, hub, hub, ev.seq)
	}
	if round == 0 {
		res.New = true
	}
	s.roundRoots = append(s.roundRoots, hub)
	return id
}

// merge absorbs root q's profile into root survivor's. via is the event's
// identifier in q's profile, center the one in survivor's; the link tree
// gets the edge center–via.
func (g *Graph) merge(ev event, survivor, q, via, center int32, res *Result) {
	sp, qp := g.profOf(survivor), g.profOf(q)
	anchorS, anchorQ := g.anchor(survivor), g.anchor(q)
	g.reroot(via)
	g.nodes.at(via).link, g.nodes.at(via).linkSeq = center, ev.seq
	g.nodes.at(q).parent = survivor
	g.nodes.at(survivor).next, g.nodes.at(q).next = g.nodes.at(q).next, g.nodes.at(survivor).next
	P, Q := &g.profs[sp], &g.profs[qp]
	for t := range P.counts {
		P.counts[t] = satAdd(P.counts[t], Q.counts[t])
	}
	P.size += Q.size
	P.flags |= Q.flags & (profCustom | profRules | profRebuilt)
	g.appendChain(sp, qp)
	r := record{seq: ev.seq, self: P.id, other: Q.id, a: center, b: via, c: anchorS, d: anchorQ, kind: recMerge}
	g.addRecord(sp, r)
	res.Merges = append(res.Merges, Merge{Survivor: P.id, Absorbed: Q.id, Via: [2]Identifier{g.identifier(center), g.identifier(via)}})
	res.Decisions = append(res.Decisions, g.decision(&r, ev))
	g.freeProf(qp)
}

func satAdd(a, b uint16) uint16 {
	if s := uint32(a) + uint32(b); s <= 0xFFFF {
		return uint16(s)
	}
	return 0xFFFF
}

// anchor returns the member that best names a profile: the most trusted
// type, then the oldest.
func (g *Graph) anchor(root int32) int32 {
	best := root
	for n := g.nodes.at(root).next; n != root; n = g.nodes.at(n).next {
		if g.nodeLess(n, best) {
			best = n
		}
	}
	return best
}

// reroot makes x the root of its link tree by reversing the path from x to
// the current root; each edge keeps its event.
func (g *Graph) reroot(x int32) {
	prev, prevSeq := int32(-1), uint64(0)
	for cur := x; cur >= 0; {
		nd := g.nodes.at(cur)
		next, nextSeq := nd.link, nd.linkSeq
		nd.link, nd.linkSeq = prev, prevSeq
		prev, prevSeq, cur = cur, nextSeq, next
	}
}

// adopt returns the node of candidate ci, interning it if needed, with what
// is known about it reset to this event: it is joining a profile.
func (g *Graph) adopt(ci int, ev event) int32 {
	c := &g.scratch.cands[ci]
	if c.node < 0 {
		c.node = g.intern(&c.k)
	}
	nd := g.nodes.at(c.node)
	nd.first, nd.last, nd.srcs = ev.sec, ev.sec, 0
	delete(g.moreSrcs, c.node)
	g.addSource(c.node, ev.src)
	return c.node
}

// touch records that an identifier was seen on event ev.
func (g *Graph) touch(n int32, ev event) {
	nd := g.nodes.at(n)
	if ev.sec != 0 && (nd.first == 0 || ev.sec < nd.first) {
		nd.first = ev.sec
	}
	if ev.sec > nd.last {
		nd.last = ev.sec
	}
	g.addSource(n, ev.src)
}

func (g *Graph) addSource(n int32, src int) {
	switch {
	case src > math.MaxUint16:
		return // sources are configured by hand; 65,536 is far beyond any real setup
	case src < 32:
		g.nodes.at(n).srcs |= 1 << src
		return
	}
	if !slices.Contains(g.moreSrcs[n], uint16(src)) {
		g.moreSrcs[n] = append(g.moreSrcs[n], uint16(src))
	}
}

// makeRoot makes n the only member of profile pi.
func (g *Graph) makeRoot(n, pi int32) {
	nd := g.nodes.at(n)
	nd.parent, nd.next, nd.link, nd.linkSeq = -(pi + 1), n, -1, 0
	p := &g.profs[pi]
	p.root, p.size = n, 0
	g.count(p, n)
}

// attach adds n to root's profile, linked in the link tree to link.
func (g *Graph) attach(n, root, link int32, seq uint64) {
	nd := g.nodes.at(n)
	nd.parent, nd.link, nd.linkSeq = root, link, seq
	nd.next, g.nodes.at(root).next = g.nodes.at(root).next, n
	g.count(&g.profs[g.profOf(root)], n)
}

func (g *Graph) count(p *prof, n int32) {
	p.size++
	if t := refType(g.nodes.at(n).ref); t < countedTypes {
		p.counts[t] = satAdd(p.counts[t], 1)
	} else {
		p.flags |= profCustom
	}
	if _, ok := g.neverLink[n]; ok {
		p.flags |= profRules
	}
}

// newProf returns a fresh profile entry named id.
func (g *Graph) newProf(id ProfileID) int32 {
	if g.profByID(id) >= 0 {
		panic("identity: profile " + id.String() + " created twice; events must come in log order, each once")
	}
	var pi int32
	if n := len(g.free); n > 0 {
		pi, g.free = g.free[n-1], g.free[:n-1]
	} else {
		pi = int32(len(g.profs))
		g.profs = append(g.profs, prof{})
	}
	flags := uint8(0)
	if g.rebuilding {
		flags = profRebuilt
	}
	g.profs[pi] = prof{id: id, root: -1, head: -1, tail: -1, flags: flags}
	g.byID.grow(g.profHash)
	g.byID.place(g.profHash(pi), pi)
	g.byID.n++
	return pi
}

// freeProf retires profile pi (merged away or reset).
func (g *Graph) freeProf(pi int32) {
	g.byID.remove(g.profHash(pi), pi, g.profHash)
	g.profs[pi] = prof{root: -1, head: -1, tail: -1, flags: profFree}
	g.free = append(g.free, pi)
}
