package identity

import (
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// Graph is the identity graph: every identifier seen (except blocked ones)
// is a node in exactly one profile. Profiles are sets in a union-find over
// node indices; a second forest (the link tree) keeps, for every node, the
// identifier and the event that first linked it, which is what Explain walks.
//
// Resolve, Rebuild and Restore change the graph; the other methods only read
// it. All methods are safe for concurrent use: the engine's identity stage
// writes while API requests read.
type Graph struct {
	mu sync.RWMutex
	state
}

// state is everything a Graph holds but its lock, so that UnmarshalBinary
// can replace it at once.
type state struct {
	rules    Rules
	blocked  *blocklist
	rank     map[string]int // Rules.Priority positions
	seed     maphash.Seed
	describe Describer
	lastSeq  uint64 // the highest seq resolved

	nodes  nodeStore
	values arena
	index  nodeTable // node indices by (type, value)
	profs  []prof
	free   []int32 // unused entries of profs
	byID   table   // profile indices by ProfileID
	recs   []record

	types     names // identifier types; a node's type is an index here
	typeLimit []int32
	typeRank  []int32
	sources   names
	moreSrcs  map[int32][]uint16 // sources ≥ 32 of a node
	neverLink map[int32][]int32  // node → nodes it must never share a profile with

	rebuilding bool
	scratch    scratch
}

// node is one identifier. 40 bytes.
type node struct {
	parent  int32  // union-find parent; <0 at a root: -(profile index+1)
	next    int32  // next member of the profile (a circular list)
	link    int32  // link-tree parent: the node that linked this one; -1 if none
	first   uint32 // first and last event time, Unix seconds
	last    uint32
	srcs    uint32 // bit i set: seen from source i (i < 32; others in moreSrcs)
	linkSeq uint64 // the event that made the link to link
	ref     uint64 // where the value is (see makeRef)
}

// nodeStore holds nodes in fixed-size pages: growing never copies them and
// never leaves more than one page unused, where a slice would copy
// hundreds of megabytes and keep up to a quarter of its capacity idle.
type nodeStore struct {
	pages [][]node
	n     int
}

const (
	nodePageBits = 12
	nodePage     = 1 << nodePageBits
)

func (s *nodeStore) at(i int32) *node { return &s.pages[i>>nodePageBits][i&(nodePage-1)] }
func (s *nodeStore) len() int         { return s.n }

func (s *nodeStore) add(n node) {
	if s.n&(nodePage-1) == 0 {
		s.pages = append(s.pages, make([]node, nodePage))
	}
	*s.at(int32(s.n)) = n
	s.n++
}

// orphan marks a node that belongs to no profile: an identifier named in a
// never-link rule but not seen yet, or one reset by Rebuild.
const orphan = math.MinInt32

// prof is one profile. 48 bytes.
type prof struct {
	id     ProfileID
	root   int32 // the union-find root
	size   int32 // members
	head   int32 // first record of its history, -1 if none
	tail   int32
	counts [countedTypes]uint16 // members per type, for types < countedTypes
	flags  uint8
}

// countedTypes is how many types (the built-in ones and the first custom
// ones) profiles count; members of other types are counted by walking the
// profile, which only happens for profiles that have such members.
const countedTypes = 8

const (
	profCustom  = 1 << iota // has members of a type ≥ countedTypes
	profRules               // has members named in never-link rules
	profRebuilt             // created by the Rebuild in progress
	profFree                // unused entry
)

// Describer returns, for a log sequence number, the event's source,
// messageId and time. The graph keeps only sequence numbers in memory; the
// engine provides a Describer (reading the log) so that History and Explain
// can show where each decision came from.
type Describer func(seq uint64) (sourceID, messageID string, at time.Time, ok bool)

// New returns an empty graph that applies rules. It panics if rules do not
// Validate: configuration is checked once, when it is read.
func New(rules Rules) *Graph {
	if err := rules.Validate(); err != nil {
		panic(err)
	}
	g := &Graph{}
	g.init(rules.clone())
	for _, t := range builtinTypes {
		g.addType(t)
	}
	for _, nl := range g.rules.NeverLink {
		g.addNeverLink(nl)
	}
	return g
}

// init prepares an empty state for rules, which must be valid.
func (g *state) init(r Rules) {
	g.seed = maphash.MakeSeed()
	g.moreSrcs, g.neverLink = map[int32][]uint16{}, map[int32][]int32{}
	g.rules = r
	g.blocked, _ = compileBlocked(r.Blocked)
	g.rank = typeRanks(r.Priority)
}

// SetDescriber sets how History and Explain learn an event's source,
// messageId and time. Without one those fields stay empty.
func (g *Graph) SetDescriber(d Describer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.describe = d
}

// Rules returns the rules the graph applies, including never-link rules
// added by Rebuild.
func (g *Graph) Rules() Rules {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.rules.clone()
}

// LastSeq returns the highest sequence number resolved: the log position
// the graph reflects.
func (g *Graph) LastSeq() uint64 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.lastSeq
}

// builtinTypes get the first type indices, so profiles count them.
var builtinTypes = []string{TypeUserID, TypeAnonymousID, TypeEmail, TypePhone, TypeDeviceID, TypeAdvertisingID}

// addType interns type t, computing its limit and rank.
func (g *Graph) addType(t string) (uint8, bool) {
	if i, ok := g.types.lookup(t); ok {
		return uint8(i), true
	}
	if len(g.types.list) > math.MaxUint8 {
		return 0, false
	}
	i := g.types.add(t)
	limit, ok := g.rules.Limits[t]
	if !ok {
		limit = g.rules.DefaultLimit
	}
	g.typeLimit = append(g.typeLimit, int32(limit))
	rank, ok := g.rank[t]
	if !ok {
		rank = len(g.rules.Priority)
	}
	g.typeRank = append(g.typeRank, int32(rank))
	return uint8(i), true
}

// typeLess orders type indices by priority.
func (g *Graph) typeLess(a, b uint8) bool {
	if g.typeRank[a] != g.typeRank[b] {
		return g.typeRank[a] < g.typeRank[b]
	}
	return g.types.list[a] < g.types.list[b]
}

// lookup returns the node of k, or -1.
func (g *Graph) lookup(k *key) int32 {
	if len(g.index.slots) == 0 {
		return -1
	}
	mask := uint64(len(g.index.slots) - 1)
	h := k.hash(g.seed)
	tag := h >> 32
	for i := h & mask; ; i = (i + 1) & mask {
		s := g.index.slots[i]
		if s == 0 {
			return -1
		}
		if n := int32(uint32(s)) - 1; s>>32 == tag && g.values.equal(g.nodes.at(n).ref, k) {
			return n
		}
	}
}

// intern adds a node for k, an orphan, and returns it.
func (g *Graph) intern(k *key) int32 {
	n := int32(g.nodes.len())
	ref := makeRef(g.values.add(k), k.bytesLen(), k.enc, k.typ)
	g.nodes.add(node{parent: orphan, next: n, link: -1, ref: ref})
	g.index.grow(func(i int32) uint64 { return g.values.hashRef(g.seed, g.nodes.at(i).ref) })
	g.index.place(k.hash(g.seed), n)
	g.index.n++
	return n
}

// find returns the root of n's profile, compressing the path (path halving).
func (g *Graph) find(n int32) int32 {
	for {
		p := g.nodes.at(n).parent
		if p < 0 {
			return n
		}
		gp := g.nodes.at(p).parent
		if gp < 0 {
			return p
		}
		g.nodes.at(n).parent = gp
		n = gp
	}
}

// findRO is find without compression, for readers holding the read lock.
func (g *Graph) findRO(n int32) int32 {
	for g.nodes.at(n).parent >= 0 {
		n = g.nodes.at(n).parent
	}
	return n
}

func (g *Graph) assigned(n int32) bool { return n >= 0 && g.nodes.at(n).parent != orphan }

// profOf returns the profile index of a root.
func (g *Graph) profOf(root int32) int32 { return -g.nodes.at(root).parent - 1 }

func (g *Graph) identifier(n int32) Identifier {
	ref := g.nodes.at(n).ref
	return Identifier{Type: g.types.list[refType(ref)], Value: g.values.value(ref)}
}

// profByID returns the index of the live profile id, or -1.
func (g *Graph) profByID(id ProfileID) int32 {
	if len(g.byID.slots) == 0 {
		return -1
	}
	mask := uint64(len(g.byID.slots) - 1)
	for i := mix(uint64(id)) & mask; ; i = (i + 1) & mask {
		s := g.byID.slots[i]
		if s == 0 {
			return -1
		}
		if g.profs[s-1].id == id {
			return s - 1
		}
	}
}

func (g *Graph) profHash(i int32) uint64 { return mix(uint64(g.profs[i].id)) }

// Lookup returns the profile holding id. Values are matched as stored: pass
// them normalised, as Extract gives them.
func (g *Graph) Lookup(id Identifier) (ProfileID, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := g.nodeOf(id)
	if !g.assigned(n) {
		return 0, false
	}
	return g.profs[g.profOf(g.findRO(n))].id, true
}

// nodeOf returns the node of id, or -1.
func (g *Graph) nodeOf(id Identifier) int32 {
	t, ok := g.types.lookup(id.Type)
	if !ok {
		return -1
	}
	k := makeKey(uint8(t), id.Value)
	return g.lookup(&k)
}

// IdentifierInfo is an identifier of a profile with what is known about it.
type IdentifierInfo struct {
	Identifier
	FirstSeen time.Time `json:"first_seen"` // earliest event time, to the second
	LastSeen  time.Time `json:"last_seen"`  // latest event time, to the second
	Sources   []string  `json:"sources"`    // source IDs, sorted
}

// Profile is a profile as the identity graph knows it.
type Profile struct {
	ID          ProfileID        `json:"id"`
	Identifiers []IdentifierInfo `json:"identifiers"`
}

// Profile returns profile id with its identifiers; ok is false if no live
// profile has that ID (it never existed, or it was merged into another).
func (g *Graph) Profile(id ProfileID) (Profile, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.profile(id)
}

func (g *Graph) profile(id ProfileID) (Profile, bool) {
	pi := g.profByID(id)
	if pi < 0 {
		return Profile{}, false
	}
	return Profile{ID: id, Identifiers: g.identifiersOf(pi)}, true
}

// Identifiers returns the identifiers of profile id, most trusted type
// first, then oldest first; nil if there is no such profile.
func (g *Graph) Identifiers(id ProfileID) []IdentifierInfo {
	p, _ := g.Profile(id)
	return p.Identifiers
}

func (g *Graph) identifiersOf(pi int32) []IdentifierInfo {
	members := g.members(g.profs[pi].root, nil)
	g.sortNodes(members)
	out := make([]IdentifierInfo, len(members))
	for i, n := range members {
		out[i] = g.info(n)
	}
	return out
}

func (g *Graph) info(n int32) IdentifierInfo {
	nd := g.nodes.at(n)
	info := IdentifierInfo{Identifier: g.identifier(n), FirstSeen: unixTime(nd.first), LastSeen: unixTime(nd.last)}
	for i := 0; i < 32 && i < len(g.sources.list); i++ {
		if nd.srcs&(1<<i) != 0 {
			info.Sources = append(info.Sources, g.sources.list[i])
		}
	}
	for _, s := range g.moreSrcs[n] {
		info.Sources = append(info.Sources, g.sources.list[s])
	}
	slices.Sort(info.Sources)
	return info
}

// members appends the members of root's profile to dst.
func (g *Graph) members(root int32, dst []int32) []int32 {
	n := root
	for {
		dst = append(dst, n)
		n = g.nodes.at(n).next
		if n == root {
			return dst
		}
	}
}

// sortNodes orders nodes by type priority, first seen, then value.
func (g *Graph) sortNodes(ns []int32) {
	slices.SortFunc(ns, func(a, b int32) int {
		if g.nodeLess(a, b) {
			return -1
		}
		if g.nodeLess(b, a) {
			return 1
		}
		return 0
	})
}

func (g *Graph) nodeLess(a, b int32) bool {
	ta, tb := refType(g.nodes.at(a).ref), refType(g.nodes.at(b).ref)
	if ta != tb {
		return g.typeLess(ta, tb)
	}
	if fa, fb := g.nodes.at(a).first, g.nodes.at(b).first; fa != fb {
		return fa < fb
	}
	return g.values.value(g.nodes.at(a).ref) < g.values.value(g.nodes.at(b).ref)
}

// Profiles yields every live profile ID, in no particular order. It copies
// the IDs first, so the loop body may call any method of g.
func (g *Graph) Profiles() iter.Seq[ProfileID] {
	return func(yield func(ProfileID) bool) {
		g.mu.RLock()
		ids := make([]ProfileID, 0, len(g.profs)-len(g.free))
		for i := range g.profs {
			if g.profs[i].flags&profFree == 0 {
				ids = append(ids, g.profs[i].id)
			}
		}
		g.mu.RUnlock()
		for _, id := range ids {
			if !yield(id) {
				return
			}
		}
	}
}

// Stats counts what the graph holds and the memory it takes.
type Stats struct {
	Profiles    int `json:"profiles"`
	Identifiers int `json:"identifiers"` // nodes, including orphans
	Records     int `json:"records"`     // merge and refusal records in memory
	// Bytes is the memory held, by structure (capacity, not length: what
	// the heap really holds).
	Bytes struct {
		Nodes    int `json:"nodes"`
		Values   int `json:"values"`
		Index    int `json:"index"`
		Profiles int `json:"profiles"`
		Records  int `json:"records"`
		Total    int `json:"total"`
	} `json:"bytes"`
}

// Stats returns counts of what the graph holds.
func (g *Graph) Stats() Stats {
	g.mu.RLock()
	defer g.mu.RUnlock()
	s := Stats{Profiles: len(g.profs) - len(g.free), Identifiers: g.nodes.len(), Records: len(g.recs)}
	b := &s.Bytes
	b.Nodes = len(g.nodes.pages) * nodePage * int(unsafe.Sizeof(node{}))
	for _, c := range g.values.chunks {
		b.Values += cap(c)
	}
	b.Index = cap(g.index.slots)*8 + cap(g.byID.slots)*4
	b.Profiles = cap(g.profs)*int(unsafe.Sizeof(prof{})) + cap(g.free)*4
	b.Records = cap(g.recs) * int(unsafe.Sizeof(record{}))
	b.Total = b.Nodes + b.Values + b.Index + b.Profiles + b.Records
	return s
}

func unixTime(s uint32) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0).UTC()
}

func unixSeconds(t time.Time) uint32 {
	s := t.Unix()
	switch {
	case t.IsZero() || s < 1:
		return 0
	case s > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(s)
}

// errorf formats an error of the package.
func errorf(format string, args ...any) error { return fmt.Errorf("identity: "+format, args...) }
