package identity

import (
	"fmt"
	"slices"

	"github.com/google/go-cmp/cmp"
)

func diffRebuilt(a, b Rebuilt) string { return cmp.Diff(a, b) }

// checkGraph returns the first broken invariant of g, or nil:
//   - every identifier is in exactly one profile, and Lookup finds it there;
//   - no profile holds more identifiers of a type than its limit, so never
//     two user ids;
//   - no profile holds both identifiers of a never-link rule;
//   - the internal bookkeeping (sizes, counts, member lists, the link tree
//     spanning each profile) agrees with the profile's members.
func checkGraph(g *Graph) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	owner := map[int32]ProfileID{}
	for pi := range g.profs {
		p := &g.profs[pi]
		if p.flags&profFree != 0 {
			continue
		}
		if err := g.checkProfile1(int32(pi), owner); err != nil {
			return fmt.Errorf("profile %s: %w", p.id, err)
		}
	}
	for n := range int32(g.nodes.len()) {
		if g.assigned(int32(n)) {
			if _, ok := owner[int32(n)]; !ok {
				return fmt.Errorf("%s is assigned but in no profile's member list", g.identifier(int32(n)))
			}
		}
	}
	for _, nl := range g.rules.NeverLink {
		a, b := g.nodeOf(nl.A), g.nodeOf(nl.B)
		if g.assigned(a) && g.assigned(b) && g.findRO(a) == g.findRO(b) {
			return fmt.Errorf("never-link %s / %s share profile %s", nl.A, nl.B, owner[a])
		}
	}
	return nil
}

func (g *Graph) checkProfile1(pi int32, owner map[int32]ProfileID) error {
	p := &g.profs[pi]
	if id, ok := g.byIDCheck(p.id); !ok || id != pi {
		return fmt.Errorf("not found by ID")
	}
	members := g.members(p.root, nil)
	if int32(len(members)) != p.size {
		return fmt.Errorf("size %d, %d members", p.size, len(members))
	}
	counts := map[uint8]int32{}
	linkRoots := 0
	for _, n := range members {
		if prev, ok := owner[n]; ok {
			return fmt.Errorf("%s also in %s", g.identifier(n), prev)
		}
		owner[n] = p.id
		if g.findRO(n) != p.root {
			return fmt.Errorf("%s finds another root", g.identifier(n))
		}
		counts[refType(g.nodes.at(n).ref)]++
		if g.nodes.at(n).link < 0 {
			linkRoots++
		}
		for x := g.nodes.at(n).link; x >= 0; x = g.nodes.at(x).link {
			if !g.assigned(x) || g.findRO(x) != p.root {
				return fmt.Errorf("link path of %s leaves the profile", g.identifier(n))
			}
		}
	}
	if linkRoots != 1 {
		return fmt.Errorf("link tree has %d roots", linkRoots)
	}
	for t, c := range counts {
		if c > g.typeLimit[t] {
			return fmt.Errorf("%d %s identifiers, limit %d", c, g.types.list[t], g.typeLimit[t])
		}
		if t < countedTypes && int32(p.counts[t]) != c {
			return fmt.Errorf("counts %s = %d, have %d", g.types.list[t], p.counts[t], c)
		}
	}
	return nil
}

func (g *Graph) byIDCheck(id ProfileID) (int32, bool) {
	pi := g.profByID(id)
	return pi, pi >= 0
}

// identifierSets returns each profile's identifiers as "type:value", by
// profile ID, for comparisons that ignore times and sources.
func identifierSets(g *Graph) map[ProfileID][]string {
	out := map[ProfileID][]string{}
	for _, p := range view(g) {
		var ids []string
		for _, info := range p.Identifiers {
			ids = append(ids, info.Identifier.String())
		}
		slices.Sort(ids)
		out[p.ID] = ids
	}
	return out
}
