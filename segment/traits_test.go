package segment

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/profile"
)

// mapRefreshTraits is refreshTraits as it was, returning the changed
// traits as a set: the reference for the slice it returns now.
func mapRefreshTraits(s *Segments, p *pstate, pr *profile.Profile) map[string]bool {
	var changed map[string]bool
	mark := func(name string) {
		if changed == nil {
			changed = map[string]bool{}
		}
		changed[name] = true
	}
	prs := pr.Traits()
	kept := p.traits[:0]
	for _, t := range p.traits {
		_, tracked := s.meta.Traits[t.name]
		if _, ok := slices.BinarySearchFunc(prs, t.name, func(a profile.Trait, name string) int { return strings.Compare(a.Name, name) }); ok && tracked {
			kept = append(kept, t)
		} else {
			mark(t.name)
		}
	}
	clear(p.traits[len(kept):])
	p.traits = kept
	for _, t := range prs {
		if _, ok := s.meta.Traits[t.Name]; !ok {
			continue
		}
		if old := p.trait(t.Name); old != nil {
			if old.raw != string(t.Value) {
				*old = newTrait(old.name, string(t.Value))
				mark(t.Name)
			}
			continue
		}
		p.traits = append(p.traits, newTrait(s.intern(t.Name), string(t.Value)))
		mark(t.Name)
	}
	return changed
}

// TestRefreshTraits: the traits refreshTraits reports changed, and the
// state it leaves, are those of the map-returning version, over identifies
// that set, change, keep and null tracked and untracked traits, and
// changes of which traits are tracked.
func TestRefreshTraits(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	names := []string{"country", "plan", "email", "age", "vip"}
	s := New(nil, nil, Options{Now: func() time.Time { return t0 }})
	ref := New(nil, nil, Options{Now: func() time.Time { return t0 }})
	set := profile.NewSet()
	for id := uint64(1); id <= 50; id++ {
		p, q := &pstate{}, &pstate{}
		for k := range 30 {
			if rng.IntN(5) == 0 { // what audiences read changes
				clear(s.meta.Traits)
				for _, n := range names {
					if rng.IntN(2) == 0 {
						s.meta.Traits[n] = true
					}
				}
				ref.meta.Traits = maps.Clone(s.meta.Traits)
			}
			var fields []string
			for _, n := range names {
				if rng.IntN(3) == 0 {
					v := []string{`"a"`, `"b"`, `1`, `null`, `true`}[rng.IntN(5)]
					fields = append(fields, fmt.Sprintf("%q:%s", n, v))
				}
			}
			msg := fmt.Sprintf(`{"type":"identify","userId":"u%d","traits":{%s}}`, id, strings.Join(fields, ","))
			ev := &mosaic.Event{Type: mosaic.TypeIdentify, ReceivedAt: t0, Seq: uint64(k + 1), Message: []byte(msg)}
			if err := set.Apply(id, ev); err != nil {
				t.Fatal(err)
			}
			pr := set.Get(id)
			got := s.refreshTraits(id, p, pr)
			want := mapRefreshTraits(ref, q, pr)
			gotSet := map[string]bool{}
			for _, n := range got {
				gotSet[n] = true
			}
			if len(got) != len(gotSet) || !maps.Equal(gotSet, want) {
				t.Fatalf("profile %d, %s: refreshTraits = %v, want %v", id, msg, got, slices.Sorted(maps.Keys(want)))
			}
			if !slices.EqualFunc(p.traits, q.traits, func(a, b trait) bool { return a.name == b.name && a.raw == b.raw }) {
				t.Fatalf("profile %d, %s: traits = %+v, want %+v", id, msg, p.traits, q.traits)
			}
		}
	}
}
