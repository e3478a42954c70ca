package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"pgregory.net/rapid"
)

// genEvents draws a set of events with unique seqs that collide often
// where it matters: few trait names and values, timestamps from a small
// range (so equal times are common) or none, a few groups and sources.
func genEvents(t *rapid.T) []*mosaic.Event { return genEventsOf(t, false) }

// genEventsOf draws events as genEvents does, some with an enriched
// context (derived traits) if enriched. The trait history is left out of
// the tests of enriched events: a derived trait records a row only when
// its value changes as events arrive (see markSame), so with late events
// which event's row holds a value depends on the order of arrival.
func genEventsOf(t *rapid.T, enriched bool) []*mosaic.Event {
	n := rapid.IntRange(1, 25).Draw(t, "n")
	seqs := rapid.Permutation(rapidSeqs(n)).Draw(t, "seqs")
	evs := make([]*mosaic.Event, n)
	for i := range evs {
		evs[i] = genEventOf(t, seqs[i], enriched)
	}
	return evs
}

func rapidSeqs(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i*7 + 1)
	}
	return s
}

func genEvent(t *rapid.T, seq uint64) *mosaic.Event { return genEventOf(t, seq, false) }

func genEventOf(t *rapid.T, seq uint64, enriched bool) *mosaic.Event {
	typ := rapid.SampledFrom([]string{"identify", "track", "page", "screen", "group", "alias"}).Draw(t, "type")
	msg := map[string]any{"type": typ}
	if rapid.Bool().Draw(t, "hasTimestamp") {
		ts := time.Date(2024, 5, 1, 0, 0, rapid.IntRange(0, 4).Draw(t, "second"), 0, time.UTC)
		msg["timestamp"] = ts.Format(time.RFC3339Nano)
	}
	if typ == "identify" || typ == "group" {
		msg["traits"] = genTraits(t, "traits")
	}
	ctx := map[string]any{}
	if rapid.Bool().Draw(t, "hasContextTraits") {
		ctx["traits"] = genTraits(t, "context.traits")
	}
	if enriched && rapid.Bool().Draw(t, "enriched") { // derived traits (see readContext)
		ctx["browser"] = map[string]any{"name": rapid.SampledFrom([]string{"Chrome", "Safari"}).Draw(t, "browser")}
		ctx["device"] = map[string]any{"type": "mobile"}
		if rapid.Bool().Draw(t, "located") {
			ctx["location"] = map[string]any{"country": rapid.SampledFrom([]string{"NL", "BE"}).Draw(t, "country")}
		}
	}
	if len(ctx) > 0 {
		msg["context"] = ctx
	}
	switch typ {
	case "track":
		msg["event"] = rapid.SampledFrom([]string{"Order Completed", "Viewed", ""}).Draw(t, "event")
	case "page", "screen":
		msg["name"] = rapid.SampledFrom([]string{"Home", "Cart"}).Draw(t, "name")
	case "group":
		msg["groupId"] = rapid.SampledFrom([]string{"acme", "globex", ""}).Draw(t, "groupId")
	}
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatalf("json.Marshal(%v) = %v", msg, err)
	}
	return &mosaic.Event{Seq: seq, Type: typ, Message: b, MessageID: fmt.Sprintf("m%d", seq),
		SourceID:   rapid.SampledFrom([]string{"web", "ios", ""}).Draw(t, "source"),
		ReceivedAt: time.Date(2024, 5, 1, 0, 0, rapid.IntRange(0, 4).Draw(t, "received"), 0, time.UTC)}
}

func genTraits(t *rapid.T, label string) map[string]any {
	return rapid.MapOfN(
		rapid.SampledFrom([]string{"email", "plan", "name", "tags", "é"}),
		rapid.SampledFrom([]any{"a", "b", 1, nil, []any{"x"}, map[string]any{"k": 1}}),
		0, 4).Draw(t, label)
}

// TestApplyOrderIndependent: applying a set of events in any order gives
// the same profile.
func TestApplyOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		evs := genEventsOf(t, true)
		want := state(t, applyAll(t, evs...))
		shuffled := rapid.Permutation(evs).Draw(t, "order")
		if got := state(t, applyAll(t, shuffled...)); !bytes.Equal(got, want) {
			t.Fatalf("state after shuffled Apply differs:\n%s", diffStates(t, got, want))
		}
	})
}

// TestMergeOrderIndependent: spreading events over several profiles and
// merging them, early or late, in any direction and any order, gives the
// same state as applying all events to one profile.
func TestMergeOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		evs := genEvents(t)
		want := state(t, applyAll(t, evs...))
		k := rapid.IntRange(1, 4).Draw(t, "profiles")
		live := make([]*Profile, k)
		for i := range live {
			live[i] = New(uint64(i + 1))
		}
		for _, ev := range rapid.Permutation(evs).Draw(t, "order") {
			if len(live) > 1 && rapid.Bool().Draw(t, "mergeNow") {
				live = mergeTwo(t, live)
			}
			p := rapid.SampledFrom(live).Draw(t, "target")
			if err := Apply(p, ev); err != nil {
				t.Fatalf("Apply(seq %d) = %v", ev.Seq, err)
			}
		}
		for len(live) > 1 {
			live = mergeTwo(t, live)
		}
		if got := state(t, live[0]); !bytes.Equal(got, want) {
			t.Fatalf("state after merges differs:\n%s", diffStates(t, got, want))
		}
	})
}

// mergeTwo merges one random live profile into another.
func mergeTwo(t *rapid.T, live []*Profile) []*Profile {
	i := rapid.IntRange(0, len(live)-1).Draw(t, "absorbed")
	j := rapid.IntRange(0, len(live)-2).Draw(t, "survivor")
	absorbed := live[i]
	live = slices.Delete(slices.Clone(live), i, i+1)
	Merge(live[j], absorbed)
	return live
}

// TestMergeCommutativeAssociative checks the algebra directly.
func TestMergeCommutativeAssociative(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var ps [3]*Profile
		for i := range ps {
			ps[i] = New(uint64(i + 1))
			for _, ev := range genEvents(t) {
				ev.Seq = ev.Seq*3 + uint64(i) // seqs unique across the three
				if err := Apply(ps[i], ev); err != nil {
					t.Fatalf("Apply = %v", err)
				}
			}
		}
		ab, ba := clone(t, ps[0]), clone(t, ps[1])
		Merge(ab, ps[1])
		Merge(ba, ps[0])
		if got, want := state(t, ab), state(t, ba); !bytes.Equal(got, want) {
			t.Fatalf("Merge(a, b) != Merge(b, a):\n%s", diffStates(t, got, want))
		}
		left, bc := clone(t, ab), clone(t, ps[1])
		Merge(left, ps[2])
		Merge(bc, ps[2])
		right := clone(t, ps[0])
		Merge(right, bc)
		if got, want := state(t, left), state(t, right); !bytes.Equal(got, want) {
			t.Fatalf("(a+b)+c != a+(b+c):\n%s", diffStates(t, got, want))
		}
	})
}

// TestBinaryRoundTrip: UnmarshalBinary(MarshalBinary(p)) is p.
func TestBinaryRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := applyAll(t, genEvents(t)...)
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary = %v", err)
		}
		var q Profile
		if err := q.UnmarshalBinary(b); err != nil {
			t.Fatalf("UnmarshalBinary(MarshalBinary(p)) = %v", err)
		}
		if diff := cmp.Diff(viewJSON(t, p), viewJSON(t, &q)); diff != "" {
			t.Fatalf("View after round trip differs (-want +got):\n%s", diff)
		}
		b2, _ := q.MarshalBinary()
		if !bytes.Equal(b, b2) {
			t.Fatalf("MarshalBinary after round trip differs")
		}
		// The decoded profile keeps working like the original.
		more := genEvent(t, 1000)
		if err := errorsJoin(Apply(p, more), Apply(&q, more)); err != nil {
			t.Fatalf("Apply = %v", err)
		}
		if !bytes.Equal(state(t, p), state(t, &q)) {
			t.Fatalf("Apply after round trip differs")
		}
	})
}

func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func clone(t tb, p *Profile) *Profile {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary = %v", err)
	}
	var q Profile
	if err := q.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary = %v", err)
	}
	return &q
}

// diffStates explains how two binary states differ, as their views.
func diffStates(t tb, got, want []byte) string {
	t.Helper()
	var g, w Profile
	if err := errorsJoin(g.UnmarshalBinary(got), w.UnmarshalBinary(want)); err != nil {
		return err.Error()
	}
	return cmp.Diff(viewJSON(t, &w), viewJSON(t, &g))
}

// TestEachTraitMatchesTraits: EachTrait reads the names and values Traits
// returns, each once.
func TestEachTraitMatchesTraits(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := applyAll(t, genEvents(t)...)
		want := map[string]string{}
		for _, tr := range p.Traits() {
			want[tr.Name] = string(tr.Value)
		}
		got := map[string]string{}
		p.EachTrait(func(name string, value []byte) {
			if _, dup := got[name]; dup {
				t.Fatalf("EachTrait gave %q twice", name)
			}
			got[name] = string(value)
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("EachTrait differs from Traits (-want +got):\n%s", diff)
		}
	})
}
