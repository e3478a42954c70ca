package identity

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestProfileIDText(t *testing.T) {
	for _, id := range []ProfileID{profileIDOf(1, 0), profileIDOf(42, 3), profileIDOf(1<<56-1, 255)} {
		s := id.String()
		got, err := ParseProfileID(s)
		if err != nil || got != id {
			t.Errorf("ParseProfileID(%q) = %v, %v, want %v", s, got, err, id)
		}
	}
	if got := profileIDOf(1, 0).String(); got != "p0000000000000100" {
		t.Errorf("String() = %q, want p0000000000000100", got)
	}
	if got := profileIDOf(0x2a, 1).Seq(); got != 0x2a {
		t.Errorf("Seq() = %d, want 42", got)
	}
	for _, bad := range []string{"", "p", "p0000000000000000", "x0000000000000100", "p000000000000010g", "p00000000000001000"} {
		if _, err := ParseProfileID(bad); !errors.Is(err, ErrBadProfileID) {
			t.Errorf("ParseProfileID(%q) = %v, want ErrBadProfileID", bad, err)
		}
	}
}

func TestParseIdentifier(t *testing.T) {
	tests := []struct {
		in   string
		want Identifier
		ok   bool
	}{
		{"email:jane@mosaic.dev", Identifier{TypeEmail, "jane@mosaic.dev"}, true},
		{"user_id:a:b", Identifier{TypeUserID, "a:b"}, true},
		{"ios.idfa:X", Identifier{"ios.idfa", "X"}, true},
		{"email:", Identifier{}, false},
		{"nocolon", Identifier{}, false},
		{"Bad Type:x", Identifier{}, false},
	}
	for _, tt := range tests {
		got, err := ParseIdentifier(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseIdentifier(%q) = %v, %v, want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Rules)
		ok     bool
	}{
		{"defaults", func(*Rules) {}, true},
		{"user_id limit 2", func(r *Rules) { r.Limits[TypeUserID] = 2 }, false},
		{"no user_id limit", func(r *Rules) { delete(r.Limits, TypeUserID) }, false},
		{"zero limit", func(r *Rules) { r.Limits[TypeEmail] = 0 }, false},
		{"huge limit", func(r *Rules) { r.Limits[TypeEmail] = maxLimit + 1 }, false},
		{"bad type in limits", func(r *Rules) { r.Limits["E Mail"] = 2 }, false},
		{"zero default", func(r *Rules) { r.DefaultLimit = 0 }, false},
		{"duplicate priority", func(r *Rules) { r.Priority = append(r.Priority, TypeEmail) }, false},
		{"custom priority", func(r *Rules) { r.Priority = append(r.Priority, "crm_id") }, true},
		{"bad regexp", func(r *Rules) { r.Blocked = append(r.Blocked, "re:(") }, false},
		{"never link", func(r *Rules) {
			r.NeverLink = []NeverLink{{Identifier{TypeEmail, "a@b.c"}, Identifier{TypeUserID, "1"}}}
		}, true},
		{"never link self", func(r *Rules) { r.NeverLink = []NeverLink{{Identifier{TypeUserID, "1"}, Identifier{TypeUserID, "1"}}} }, false},
		{"never link previous_id", func(r *Rules) {
			r.NeverLink = []NeverLink{{Identifier{TypePreviousID, "1"}, Identifier{TypeUserID, "2"}}}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := DefaultRules()
			tt.change(&r)
			if err := r.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestBlocked(t *testing.T) {
	b, err := compileBlocked(DefaultBlocked())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"null", "NULL", "Undefined", "anonymous", "0", "-1", "000", "--",
		"00000000-0000-0000-0000-000000000000", "test@test.com", "someone@example.com", "a@b.example",
		"noreply@shop.nl", "x@y.invalid", "[object Object]"} {
		if !b.match(v) {
			t.Errorf("match(%q) = false, want blocked", v)
		}
	}
	for _, v := range []string{"jane@mosaic.dev", "42", "0f8fad5b-d9cb-469f-a165-70867728950e", "u-0", "testing@mosaic.dev",
		"nullable", "example@mosaic.dev"} {
		if b.match(v) {
			t.Errorf("match(%q) = true, want not blocked", v)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, v string
		want       bool
	}{
		{"*@example.com", "a@example.com", true},
		{"*@example.com", "@example.com", true},
		{"*@example.com", "a@example.co", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "ac", false},
		{"a*a", "a", false},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := globMatch(strings.Split(tt.pattern, "*"), []byte(tt.v)); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.v, got, tt.want)
		}
	}
}

func TestResolveOutOfOrder(t *testing.T) {
	g := New(DefaultRules())
	id := []Identifier{{TypeUserID, "u"}}
	if _, err := g.Resolve(5, "web", "m", t0, id); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{5, 4, 0, 1 << 56} {
		if _, err := g.Resolve(seq, "web", "m", t0, id); !errors.Is(err, ErrOutOfOrder) {
			t.Errorf("Resolve(%d) after 5 = %v, want ErrOutOfOrder", seq, err)
		}
	}
	if g.LastSeq() != 5 {
		t.Errorf("LastSeq() = %d, want 5", g.LastSeq())
	}
}

func TestResolveInvalidAndEmpty(t *testing.T) {
	g := New(DefaultRules())
	res, err := g.Resolve(1, "web", "m", t0, []Identifier{{"Bad Type", "x"}, {TypeEmail, ""}, {TypeUserID, strings.Repeat("x", MaxValueBytes+1)}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != 0 || len(res.Refused) != 3 {
		t.Fatalf("Resolve = %+v, want no profile and 3 refusals", res)
	}
	for _, r := range res.Refused {
		if r.Rule != RuleInvalid {
			t.Errorf("refusal %+v, want rule invalid", r)
		}
	}
}

// TestIdentifierInfo checks first and last seen (event time, whatever the
// order events arrive in) and sources.
func TestIdentifierInfo(t *testing.T) {
	g := New(DefaultRules())
	u := Identifier{TypeUserID, "u"}
	for i, ev := range []struct {
		src string
		at  time.Time
	}{{"web", t0.Add(time.Hour)}, {"ios", t0}, {"web", t0.Add(2 * time.Hour)}, {"crm", t0.Add(30 * time.Minute)}} {
		if _, err := g.Resolve(uint64(i+1), ev.src, "m", ev.at, []Identifier{u}); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := g.Lookup(u)
	want := []IdentifierInfo{{Identifier: u, FirstSeen: t0, LastSeen: t0.Add(2 * time.Hour), Sources: []string{"crm", "ios", "web"}}}
	if d := cmp.Diff(want, g.Identifiers(p)); d != "" {
		t.Errorf("Identifiers (-want +got):\n%s", d)
	}
}

func TestManySources(t *testing.T) {
	g := New(DefaultRules())
	u := Identifier{TypeUserID, "u"}
	var want []string
	for i := range 40 {
		src := "src-" + string(rune('A'+i))
		want = append(want, src)
		if _, err := g.Resolve(uint64(i+1), src, "m", t0, []Identifier{u}); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	p, _ := g.Lookup(u)
	if got := g.Identifiers(p)[0].Sources; !slices.Equal(got, want) {
		t.Errorf("Sources = %v, want %v", got, want)
	}
	checkSnapshotRoundTrip(t, g)
}

func checkSnapshotRoundTrip(t *testing.T, g *Graph) {
	t.Helper()
	b, err := g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var r Graph
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary = %v", err)
	}
	if d := cmp.Diff(view(g), view(&r)); d != "" {
		t.Errorf("restored graph differs (-original +restored):\n%s", d)
	}
	if d := cmp.Diff(g.Rules(), r.Rules()); d != "" {
		t.Errorf("restored rules differ (-original +restored):\n%s", d)
	}
}

func TestSnapshotCorruption(t *testing.T) {
	h := newHarness(t, DefaultRules())
	for i, ids := range [][]Identifier{ids(TypeUserID, "u", TypeAnonymousID, "a"), ids(TypeAnonymousID, "b", TypeDeviceID, "D"), ids(TypeUserID, "u", TypeDeviceID, "D")} {
		h.resolve(Input{Seq: uint64(i + 1), SourceID: "web", Time: t0, Identifiers: ids})
	}
	snap, err := h.g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	before := view(h.g)
	for _, i := range []int{0, 9, len(snap) / 2, len(snap) - 5, len(snap) - 1} {
		bad := bytes.Clone(snap)
		bad[i] ^= 0x55
		if err := h.g.UnmarshalBinary(bad); !errors.Is(err, ErrCorruptSnapshot) {
			t.Errorf("UnmarshalBinary with byte %d flipped = %v, want ErrCorruptSnapshot", i, err)
		}
	}
	if _, err := Restore(bytes.NewReader(snap[:len(snap)-1])); !errors.Is(err, ErrCorruptSnapshot) {
		t.Errorf("Restore of a truncated snapshot = %v, want ErrCorruptSnapshot", err)
	}
	if d := cmp.Diff(before, view(h.g)); d != "" {
		t.Errorf("failed UnmarshalBinary changed the graph:\n%s", d)
	}
}

func TestExplainAndHistory(t *testing.T) {
	h := newHarness(t, DefaultRules())
	steps := [][]Identifier{
		ids(TypeAnonymousID, "a"),                            // 1: p1
		ids(TypeAnonymousID, "b", TypeDeviceID, "D"),         // 2: p2
		ids(TypeUserID, "u", TypeAnonymousID, "a"),           // 3: u joins p1
		ids(TypeUserID, "u", TypeDeviceID, "D"),              // 4: p2 merged into p1
		ids(TypeEmail, "e@mosaic.dev", TypeUserID, "u"),      // 5
		ids(TypeUserID, "v", TypeAnonymousID, "b"),           // 6: refused, b is u's
		ids(TypeUserID, "v", TypeAnonymousID, "b", "x", "1"), // 7: same refusal: recorded once
	}
	for i, s := range steps {
		h.resolve(Input{Seq: uint64(i + 1), SourceID: "web", MessageID: "m" + string(rune('1'+i)), Time: t0.Add(time.Duration(i) * time.Minute), Identifiers: s})
	}
	chain, err := h.g.Explain(Identifier{TypeAnonymousID, "b"}, Identifier{TypeEmail, "e@mosaic.dev"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range chain {
		got = append(got, d.MessageID+" "+d.Identifiers[0].String()+" "+d.Identifiers[1].String())
	}
	want := []string{"m2 anonymous_id:b device_id:D", "m4 device_id:D user_id:u", "m5 user_id:u email:e@mosaic.dev"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Explain (-want +got):\n%s", d)
	}
	p1 := profileIDOf(1, 0)
	var kinds []string
	for _, d := range h.g.History(p1) {
		kinds = append(kinds, d.Kind+" "+d.MessageID)
	}
	if want := []string{"merge m4", "refusal m6"}; !slices.Equal(kinds, want) {
		t.Errorf("History(p1) = %v, want %v", kinds, want)
	}
	if res := h.res[7]; len(res.Refused) != 1 || len(res.Decisions) != 0 {
		t.Errorf("repeated refusal: Refused %v, Decisions %v; want one refusal and no new decision", res.Refused, res.Decisions)
	}
	for _, tt := range []struct {
		a, b Identifier
		want error
	}{
		{Identifier{TypeAnonymousID, "a"}, Identifier{TypeUserID, "v"}, ErrNotLinked},
		{Identifier{TypeAnonymousID, "a"}, Identifier{TypeUserID, "nobody"}, ErrUnknownIdentifier},
	} {
		if _, err := h.g.Explain(tt.a, tt.b); !errors.Is(err, tt.want) {
			t.Errorf("Explain(%s, %s) = %v, want %v", tt.a, tt.b, err, tt.want)
		}
	}
	if chain, err := h.g.Explain(Identifier{TypeAnonymousID, "a"}, Identifier{TypeAnonymousID, "a"}); err != nil || len(chain) != 0 {
		t.Errorf("Explain(a, a) = %v, %v, want an empty chain", chain, err)
	}
	if hist := h.g.History(profileIDOf(2, 0)); hist != nil {
		t.Errorf("History of a merged profile = %v, want nil", hist)
	}
}

func TestSplitErrors(t *testing.T) {
	h := newHarness(t, DefaultRules())
	h.resolve(Input{Seq: 1, Time: t0, Identifiers: ids(TypeUserID, "u", TypeAnonymousID, "a")})
	h.resolve(Input{Seq: 2, Time: t0, Identifiers: ids(TypeUserID, "lonely")})
	p1, p2 := profileIDOf(1, 0), profileIDOf(2, 0)
	for _, tt := range []struct {
		name string
		p    ProfileID
		id   Identifier
		want error
	}{
		{"no profile", profileIDOf(9, 0), Identifier{TypeUserID, "u"}, ErrNoProfile},
		{"not in profile", p1, Identifier{TypeUserID, "lonely"}, ErrNotInProfile},
		{"unknown identifier", p1, Identifier{TypeEmail, "x@mosaic.dev"}, ErrNotInProfile},
		{"only identifier", p2, Identifier{TypeUserID, "lonely"}, ErrNothingToSplit},
	} {
		if _, err := h.g.Split(tt.p, tt.id); !errors.Is(err, tt.want) {
			t.Errorf("%s: Split = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := h.g.SplitMerge(p1, 1, p2); !errors.Is(err, ErrNoMerge) {
		t.Errorf("SplitMerge without a merge = %v, want ErrNoMerge", err)
	}
	plan, err := h.g.Split(p1, Identifier{TypeAnonymousID, "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.g.Rebuild(plan, nil); !errors.Is(err, ErrEvents) {
		t.Errorf("Rebuild without the plan's events = %v, want ErrEvents", err)
	}
	foreign := []Input{{Seq: 1, Identifiers: ids(TypeUserID, "u", TypeAnonymousID, "a", TypeUserID, "lonely")}}
	if _, err := h.g.Rebuild(plan, foreign); !errors.Is(err, ErrEvents) {
		t.Errorf("Rebuild with an identifier outside the plan = %v, want ErrEvents", err)
	}
	unordered := []Input{h.events[0], h.events[0]}
	if _, err := h.g.DryRun(plan, unordered); !errors.Is(err, ErrEvents) {
		t.Errorf("DryRun with events out of order = %v, want ErrEvents", err)
	}
	h.resolve(Input{Seq: 3, Time: t0, Identifiers: ids(TypeUserID, "u", TypeEmail, "u@mosaic.dev")})
	if _, err := h.g.Rebuild(plan, h.eventsOf(plan.Profiles)); !errors.Is(err, ErrStalePlan) {
		t.Errorf("Rebuild after the graph changed = %v, want ErrStalePlan", err)
	}
	if rules := h.g.Rules(); len(rules.NeverLink) != 0 {
		t.Errorf("failed rebuilds stored rules %v", rules.NeverLink)
	}
}

// TestSplitClosure checks that a split rebuilds the profiles connected to
// the split one by refusals, and no others.
func TestSplitClosure(t *testing.T) {
	h := newHarness(t, DefaultRules())
	for i, s := range [][]Identifier{
		ids(TypeUserID, "alice", TypeDeviceID, "TAB", TypeEmail, "a@mosaic.dev"),
		ids(TypeUserID, "bob", TypeDeviceID, "TAB"), // refused: TAB is alice's
		ids(TypeUserID, "carol", TypeEmail, "c@mosaic.dev"),
	} {
		h.resolve(Input{Seq: uint64(i + 1), Time: t0, Identifiers: s})
	}
	alice, bob := mustLookup(t, h.g, "user_id:alice"), mustLookup(t, h.g, "user_id:bob")
	plan, err := h.g.Split(alice, Identifier{TypeDeviceID, "TAB"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []ProfileID{alice, bob}; !slices.Equal(plan.Profiles, want) {
		t.Errorf("plan.Profiles = %v, want %v", plan.Profiles, want)
	}
	out, _ := h.split(plan)
	// With TAB kept from alice, bob's event now links it; their profile is
	// the one event 1 made for TAB, so bob's profile ID changes.
	tab := mustLookup(t, h.g, "device_id:TAB")
	if p := mustLookup(t, h.g, "user_id:bob"); p != tab || tab != profileIDOf(1, 1) {
		t.Errorf("after the split bob is in %s and TAB in %s, want both in %s (rebuilt: %v)", p, tab, profileIDOf(1, 1), out.Profiles)
	}
	if p := mustLookup(t, h.g, "user_id:carol"); p != profileIDOf(3, 0) {
		t.Errorf("carol, outside the plan, moved to %s", p)
	}
}

// TestTableRemove checks the born-ID table against a map under random
// inserts and removals (backward-shift deletion is easy to get wrong).
func TestTableRemove(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		keys := map[int32]uint64{}
		var tb table
		hash := func(i int32) uint64 { return keys[i] }
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "seed"), 1))
		next := int32(0)
		for range rapid.IntRange(1, 3000).Draw(rt, "ops") {
			if len(keys) > 0 && rng.IntN(3) == 0 {
				for k := range keys {
					tb.remove(hash(k), k, hash)
					delete(keys, k)
					break
				}
				continue
			}
			keys[next] = uint64(rng.IntN(64)) // many collisions
			tb.grow(hash)
			tb.place(hash(next), next)
			tb.n++
			next++
		}
		for k := range keys {
			if !tableHas(&tb, hash(k), k) {
				rt.Fatalf("key %d lost", k)
			}
		}
		if tb.n != len(keys) {
			rt.Fatalf("n = %d, want %d", tb.n, len(keys))
		}
	})
}

func tableHas(t *table, h uint64, idx int32) bool {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; t.slots[i] != 0; i = (i + 1) & mask {
		if t.slots[i] == idx+1 {
			return true
		}
	}
	return false
}

func TestUUIDCompaction(t *testing.T) {
	tests := []struct {
		v   string
		enc uint8
	}{
		{"0f8fad5b-d9cb-469f-a165-70867728950e", encUUIDLower},
		{"0F8FAD5B-D9CB-469F-A165-70867728950E", encUUIDUpper},
		{"01234567-8901-2345-6789-012345678901", encUUIDLower},
		{"0f8fad5b-D9CB-469f-a165-70867728950e", encRaw},
		{"0f8fad5b-d9cb-469f-a165-70867728950", encRaw},
		{"0f8fad5bxd9cb-469f-a165-70867728950e", encRaw},
		{"0g8fad5b-d9cb-469f-a165-70867728950e", encRaw},
	}
	for _, tt := range tests {
		k := makeKey(1, tt.v)
		if k.enc != tt.enc {
			t.Errorf("makeKey(%q).enc = %d, want %d", tt.v, k.enc, tt.enc)
		}
		var a arena
		if got := a.value(makeRef(a.add(&k), k.bytesLen(), k.enc, k.typ)); got != tt.v {
			t.Errorf("value round trip of %q = %q", tt.v, got)
		}
	}
}

func TestStats(t *testing.T) {
	g := New(DefaultRules())
	if _, err := g.Resolve(1, "web", "m", t0, ids(TypeUserID, "u", TypeEmail, "u@mosaic.dev")); err != nil {
		t.Fatal(err)
	}
	s := g.Stats()
	if s.Profiles != 1 || s.Identifiers != 2 || s.Bytes.Total <= 0 {
		t.Errorf("Stats() = %+v, want 1 profile, 2 identifiers and some bytes", s)
	}
}

// TestConcurrentReads resolves in one goroutine while others read, as the
// engine and the API do; run with -race.
func TestConcurrentReads(t *testing.T) {
	g := New(DefaultRules())
	s := newSynth(500, 3000)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				u := Identifier{TypeUserID, "7"}
				if p, ok := g.Lookup(u); ok {
					g.Profile(p)
					g.History(p)
					g.Explain(u, u)
				}
				for range g.Profiles() {
					break
				}
				g.Stats()
			}
		})
	}
	for seq := range uint64(3000) {
		if _, err := g.Resolve(seq+1, "web", "m", t0, s.next()); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if err := checkGraph(g); err != nil {
		t.Fatal(err)
	}
}
