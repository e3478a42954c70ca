package synth

import (
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
)

// resolution is the identity graph built from a generated data set, with
// counts of what resolving it decided.
type resolution struct {
	graph     *identity.Graph
	events    int
	merges    int
	refusals  int // links refused by a limit: the shared devices
	blocked   int // junk values ignored
	unclaimed map[identity.Identifier]bool
}

// resolve feeds every message of d through the real extractor and graph,
// in arrival order, as the engine would.
func resolve(t *testing.T, d generated, region string, rules identity.Rules) resolution {
	t.Helper()
	x, err := identity.NewExtractor(identity.ExtractConfig{DefaultRegion: region})
	if err != nil {
		t.Fatalf("NewExtractor(%s): %v", region, err)
	}
	owned := map[identity.Identifier]bool{}
	for _, p := range d.people {
		for _, id := range append(p.Identifiers(), p.Shared...) {
			owned[identity.Identifier(id)] = true
		}
	}
	r := resolution{graph: identity.New(rules), unclaimed: map[identity.Identifier]bool{}}
	for i, m := range d.msgs {
		seq := uint64(i + 1)
		ev := &mosaic.Event{Seq: seq, SourceID: "synth", MessageID: m.MessageID, Type: m.Type, ReceivedAt: m.Arrival, Message: m.JSON}
		ids, _, err := x.Extract(ev)
		if err != nil {
			t.Fatalf("Extract(message %d) = %v\n%s", i, err, m.JSON)
		}
		res, err := r.graph.Resolve(seq, ev.SourceID, m.MessageID, m.Arrival, ids)
		if err != nil {
			t.Fatalf("Resolve(message %d) = %v", i, err)
		}
		r.account(ids, res, owned)
	}
	r.events = len(d.msgs)
	return r
}

// account counts one event's result and notes identifiers it linked that
// no person owns: the generator's truth would then be incomplete.
func (r *resolution) account(ids []identity.Identifier, res identity.Result, owned map[identity.Identifier]bool) {
	r.merges += len(res.Merges)
	blocked := map[identity.Identifier]bool{}
	for _, ref := range res.Refused {
		switch ref.Rule {
		case identity.RuleBlocked:
			r.blocked++
			blocked[ref.Identifier] = true
		case identity.RuleLimit:
			r.refusals++
		}
	}
	for _, id := range ids {
		if !blocked[id] && !owned[id] {
			r.unclaimed[id] = true
		}
	}
}

// quality measures a resolution against the truth.
type quality struct {
	people      int
	linkable    int // people whose messages link all their identifiers (one group)
	oneProfile  int // linkable people whose identifiers are all in one profile
	groups      int
	exactGroups int // groups whose identifiers are all in one profile
	missing     int // identifiers of the truth the graph does not hold
	mixed       int // profiles holding identifiers of two people
	twoUsers    int // profiles holding two people's user ids
	profiles    int
}

func measure(r resolution, people []Person) quality {
	q := quality{people: len(people)}
	owner := map[identity.ProfileID]int{}
	for _, p := range people {
		exact := 0
		for _, grp := range p.Groups {
			if r.groupProfiles(grp, p.Index, owner, &q) == 1 {
				exact++
			}
		}
		q.groups += len(p.Groups)
		q.exactGroups += exact
		if len(p.Groups) == 1 {
			q.linkable++
			q.oneProfile += exact
		}
	}
	for id := range r.graph.Profiles() {
		q.profiles++
		users := 0
		for _, info := range r.graph.Identifiers(id) {
			if info.Type == identity.TypeUserID {
				users++
			}
		}
		if users > 1 {
			q.twoUsers++
		}
	}
	return q
}

// groupProfiles returns how many profiles hold the identifiers of grp,
// and counts missing ones and profiles that already belong to another
// person.
func (r resolution) groupProfiles(grp []Identifier, person int, owner map[identity.ProfileID]int, q *quality) int {
	seen := map[identity.ProfileID]bool{}
	for _, id := range grp {
		pid, ok := r.graph.Lookup(identity.Identifier(id))
		if !ok {
			q.missing++
			continue
		}
		seen[pid] = true
		if o, ok := owner[pid]; !ok {
			owner[pid] = person
		} else if o != person {
			q.mixed++
			owner[pid] = person
		}
	}
	return len(seen)
}

// TestResolutionQuality feeds 2,000 generated people through the real
// identity resolution and measures the result against the truth, for a
// Dutch and an American shop (the default region decides which phone
// numbers can be read).
func TestResolutionQuality(t *testing.T) {
	for _, region := range []string{"NL", "US"} {
		t.Run(region, func(t *testing.T) {
			o := small(2000, 42)
			o.Region = region
			d := generate(t, o)
			r := resolve(t, d, o.Region, identity.DefaultRules())
			q := measure(r, d.people)
			q.log(t, r)
			q.check(t, r)
		})
	}
}

func (q quality) log(t *testing.T, r resolution) {
	t.Helper()
	t.Logf("%d people, %d messages: %d profiles, %d merges, %d refused links, %d junk values ignored",
		q.people, r.events, q.profiles, r.merges, r.refusals, r.blocked)
	t.Logf("linkable people in one profile: %d of %d (%.2f%%); groups resolved exactly: %d of %d",
		q.oneProfile, q.linkable, 100*float64(q.oneProfile)/float64(q.linkable), q.exactGroups, q.groups)
	t.Logf("wrong merges: %d profiles mixing two people, %d holding two user ids; %d identifiers missing",
		q.mixed, q.twoUsers, q.missing)
}

// check asserts what a correct resolver must achieve on generated data.
func (q quality) check(t *testing.T, r resolution) {
	t.Helper()
	if len(r.unclaimed) > 0 {
		t.Errorf("resolution linked %d identifiers no person owns, e.g. %v; the truth is incomplete", len(r.unclaimed), first(r.unclaimed))
	}
	if q.missing != 0 {
		t.Errorf("identifiers of the truth missing from the graph = %d, want 0", q.missing)
	}
	if q.mixed != 0 || q.twoUsers != 0 {
		t.Errorf("wrong merges = %d profiles mixing people, %d with two user ids; want 0", q.mixed, q.twoUsers)
	}
	if share := float64(q.oneProfile) / float64(q.linkable); share < 0.99 {
		t.Errorf("linkable people resolved to one profile = %.4f, want at least 0.99", share)
	}
	if q.linkable < q.people*3/4 || q.linkable == q.people {
		t.Errorf("linkable people = %d of %d, want most but not all (some devices stay anonymous)", q.linkable, q.people)
	}
	if r.refusals == 0 || r.blocked == 0 || r.merges == 0 {
		t.Errorf("refused links %d, junk ignored %d, merges %d; want some of each", r.refusals, r.blocked, r.merges)
	}
}

// Without blocked values, junk glues people together: the measure must
// see it, or its zero above proves nothing.
func TestResolutionQualitySeesWrongMerges(t *testing.T) {
	o := small(2000, 42)
	o.JunkRate = 0.05
	d := generate(t, o)
	rules := identity.DefaultRules()
	rules.Blocked = nil
	q := measure(resolve(t, d, o.Region, rules), d.people)
	if q.mixed == 0 {
		t.Errorf("profiles mixing people without blocked values = 0, want some (junk links people)")
	}
	if q.oneProfile >= q.linkable {
		t.Errorf("linkable people in one profile without blocked values = %d of %d, want fewer", q.oneProfile, q.linkable)
	}
}

func first(m map[identity.Identifier]bool) identity.Identifier {
	for id := range m {
		return id
	}
	return identity.Identifier{}
}
