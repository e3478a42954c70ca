package identity

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/scenarios")

// A scenario (testdata/scenarios/NAME.json) is a list of steps, each a
// Segment message or a split, with hand-written expectations; its golden
// file (NAME.golden.json) holds the full outcome. Step N is the event with
// log position N, so goldens name events by their step.
type scenario struct {
	Description string          `json:"description"`
	Rules       json.RawMessage `json:"rules"`   // overrides of DefaultRules
	Extract     ExtractConfig   `json:"extract"` // how to read identifiers
	Steps       []step          `json:"steps"`
	Expect      expectations    `json:"expect"`
}

type step struct {
	Source  string          `json:"source"`
	Message json.RawMessage `json:"message"`
	// Split separates Identifier from the profile that holds ProfileOf.
	Split *struct {
		ProfileOf  string `json:"profile_of"`
		Identifier string `json:"identifier"`
	} `json:"split"`
	// SplitMerge undoes the merge step Step made in the profile holding
	// ProfileOf.
	SplitMerge *struct {
		ProfileOf string `json:"profile_of"`
		Step      uint64 `json:"step"`
	} `json:"split_merge"`
}

// expectations are checked independently of the golden file.
type expectations struct {
	Together [][]string `json:"together"` // identifiers that share a profile
	Apart    [][]string `json:"apart"`    // identifiers in different profiles
	Nowhere  []string   `json:"nowhere"`  // identifiers in no profile
	Profiles int        `json:"profiles"` // how many profiles in the end
	Refused  []struct {
		Step       int    `json:"step"`
		Identifier string `json:"identifier"`
		Rule       string `json:"rule"`
	} `json:"refused"`
	Merges []struct {
		Step int `json:"step"`
	} `json:"merges"`
	Explain []struct {
		A, B  string
		Steps []uint64 `json:"steps"`
	} `json:"explain"`
}

// golden is the recorded outcome of a scenario.
type golden struct {
	Events   []goldenEvent               `json:"events"`
	Profiles map[ProfileID][]string      `json:"profiles"`
	History  map[ProfileID][]goldenEntry `json:"history"`
}

type goldenEvent struct {
	Step    int         `json:"step"`
	Split   *SplitPlan  `json:"split,omitempty"`
	Profile ProfileID   `json:"profile,omitempty"`
	New     bool        `json:"new,omitempty"`
	Created []ProfileID `json:"created,omitempty"`
	Merges  []Merge     `json:"merges,omitempty"`
	Refused []Refusal   `json:"refused,omitempty"`
	Dropped []Dropped   `json:"dropped,omitempty"`
	// For a split: the profiles after it, and the events resolved again.
	Rebuilt []ProfileID   `json:"rebuilt_profiles,omitempty"`
	Again   []goldenEvent `json:"resolved_again,omitempty"`
}

type goldenEntry struct {
	Kind        string      `json:"kind"`
	Seq         uint64      `json:"seq"`
	MessageID   string      `json:"message_id"`
	Identifiers []string    `json:"identifiers"`
	Profiles    []ProfileID `json:"profiles"`
	Rule        string      `json:"rule,omitempty"`
	Reason      string      `json:"reason"`
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.json")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		n++
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) { runScenario(t, f) })
	}
	if n < 9 {
		t.Fatalf("found %d scenarios, want at least 9", n)
	}
}

func runScenario(t *testing.T, file string) {
	sc := readScenario(t, file)
	rules := DefaultRules()
	if len(sc.Rules) > 0 {
		if err := json.Unmarshal(sc.Rules, &rules); err != nil {
			t.Fatalf("rules: %v", err)
		}
	}
	x, err := NewExtractor(sc.Extract)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, rules)
	var got golden
	for i, st := range sc.Steps {
		got.Events = append(got.Events, runStep(t, h, x, i+1, st))
		if err := checkGraph(h.g); err != nil {
			t.Fatalf("after step %d: %v", i+1, err)
		}
	}
	checkExpectations(t, h, sc.Expect)
	checkReplay(t, h)
	got.Profiles = identifierSets(h.g)
	got.History = map[ProfileID][]goldenEntry{}
	for id := range got.Profiles {
		if hist := goldenHistory(h.g.History(id)); len(hist) > 0 {
			got.History[id] = hist
		}
	}
	compareGolden(t, strings.TrimSuffix(file, ".json")+".golden.json", got)
}

func readScenario(t *testing.T, file string) scenario {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var sc scenario
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return sc
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// runStep resolves the message of step n (log position n) or applies its
// split.
func runStep(t *testing.T, h *harness, x *Extractor, n int, st step) goldenEvent {
	t.Helper()
	ge := goldenEvent{Step: n}
	switch {
	case st.Split != nil:
		plan, err := h.g.Split(mustLookup(t, h.g, st.Split.ProfileOf), mustParse(t, st.Split.Identifier))
		if err != nil {
			t.Fatalf("step %d: Split = %v", n, err)
		}
		return splitStep(h, ge, plan)
	case st.SplitMerge != nil:
		p := mustLookup(t, h.g, st.SplitMerge.ProfileOf)
		plan, err := h.g.SplitMerge(p, st.SplitMerge.Step, h.res[st.SplitMerge.Step].Merges[0].Absorbed)
		if err != nil {
			t.Fatalf("step %d: SplitMerge = %v", n, err)
		}
		return splitStep(h, ge, plan)
	}
	ev := messageEvent(t, uint64(n), st)
	ids, drops, err := x.Extract(&ev)
	if err != nil {
		t.Fatalf("step %d: Extract = %v", n, err)
	}
	at := t0.Add(time.Duration(n) * time.Minute)
	res := h.resolve(Input{Seq: ev.Seq, SourceID: ev.SourceID, MessageID: ev.MessageID, Time: at, Identifiers: slices.Clone(ids)})
	ge.setResult(res)
	ge.Dropped = slices.Clone(drops)
	return ge
}

func (ge *goldenEvent) setResult(res Result) {
	ge.Profile, ge.New, ge.Created, ge.Merges, ge.Refused = res.Profile, res.New, res.Created, res.Merges, res.Refused
}

func splitStep(h *harness, ge goldenEvent, plan SplitPlan) goldenEvent {
	ge.Split = &plan
	out, events := h.split(plan)
	for _, p := range out.Profiles {
		ge.Rebuilt = append(ge.Rebuilt, p.ID)
	}
	for i, in := range events {
		again := goldenEvent{Step: int(in.Seq)}
		again.setResult(out.Results[i])
		ge.Again = append(ge.Again, again)
	}
	return ge
}

func messageEvent(t *testing.T, seq uint64, st step) mosaic.Event {
	t.Helper()
	var head struct {
		Type      string `json:"type"`
		MessageID string `json:"messageId"`
	}
	if err := json.Unmarshal(st.Message, &head); err != nil {
		t.Fatalf("step %d: message: %v", seq, err)
	}
	if head.MessageID == "" {
		head.MessageID = fmt.Sprintf("msg-%d", seq)
	}
	src := st.Source
	if src == "" {
		src = "web"
	}
	return mosaic.Event{Seq: seq, SourceID: src, MessageID: head.MessageID, Type: head.Type, Message: st.Message}
}

func mustParse(t *testing.T, s string) Identifier {
	t.Helper()
	id, err := ParseIdentifier(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustLookup(t *testing.T, g *Graph, s string) ProfileID {
	t.Helper()
	p, ok := g.Lookup(mustParse(t, s))
	if !ok {
		t.Fatalf("Lookup(%s) found no profile", s)
	}
	return p
}

func goldenHistory(ds []Decision) []goldenEntry {
	var out []goldenEntry
	for _, d := range ds {
		e := goldenEntry{Kind: d.Kind, Seq: d.Seq, MessageID: d.MessageID, Profiles: d.Profiles, Rule: d.Rule, Reason: d.Reason}
		for _, id := range d.Identifiers {
			e.Identifiers = append(e.Identifiers, id.String())
		}
		out = append(out, e)
	}
	return out
}

// checkExpectations checks the hand-written expectations against the
// graph and the latest result of each event (after any split).
func checkExpectations(t *testing.T, h *harness, want expectations) {
	t.Helper()
	for _, group := range want.Together {
		p := mustLookup(t, h.g, group[0])
		for _, s := range group[1:] {
			if q := mustLookup(t, h.g, s); q != p {
				t.Errorf("Lookup(%s) = %s, want %s, the profile of %s", s, q, p, group[0])
			}
		}
	}
	for _, pair := range want.Apart {
		if p, q := mustLookup(t, h.g, pair[0]), mustLookup(t, h.g, pair[1]); p == q {
			t.Errorf("%s and %s are both in %s, want them apart", pair[0], pair[1], p)
		}
	}
	for _, s := range want.Nowhere {
		if p, ok := h.g.Lookup(mustParse(t, s)); ok {
			t.Errorf("Lookup(%s) = %s, want no profile", s, p)
		}
	}
	if n := len(view(h.g)); want.Profiles != 0 && n != want.Profiles {
		t.Errorf("profiles = %d, want %d", n, want.Profiles)
	}
	for _, r := range want.Refused {
		refused := h.res[uint64(r.Step)].Refused
		ok := slices.ContainsFunc(refused, func(got Refusal) bool {
			return got.Identifier.String() == r.Identifier && got.Rule == r.Rule
		})
		if !ok {
			t.Errorf("step %d refused %v, want %s refused by rule %s", r.Step, refused, r.Identifier, r.Rule)
		}
	}
	for _, m := range want.Merges {
		if len(h.res[uint64(m.Step)].Merges) == 0 {
			t.Errorf("step %d merged nothing, want a merge", m.Step)
		}
	}
	for _, e := range want.Explain {
		chain, err := h.g.Explain(mustParse(t, e.A), mustParse(t, e.B))
		if err != nil {
			t.Fatalf("Explain(%s, %s) = %v", e.A, e.B, err)
		}
		var seqs []uint64
		for _, d := range chain {
			seqs = append(seqs, d.Seq)
		}
		if !slices.Equal(seqs, e.Steps) {
			t.Errorf("Explain(%s, %s) steps = %v, want %v", e.A, e.B, seqs, e.Steps)
		}
	}
}

// checkReplay checks that resolving the log again, with the rules the
// splits left, gives the same profiles and the same event stamps.
func checkReplay(t *testing.T, h *harness) {
	t.Helper()
	r := h.replay()
	if d := cmp.Diff(view(h.g), view(r.g)); d != "" {
		t.Errorf("replay differs from incremental processing (-incremental +replay):\n%s", d)
	}
	if d := cmp.Diff(h.stamps(), r.stamps()); d != "" {
		t.Errorf("replay stamps events differently (-incremental +replay):\n%s", d)
	}
}

func compareGolden(t *testing.T, file string, got golden) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(b)); d != "" {
		t.Errorf("outcome differs from %s (-want +got):\n%s", file, d)
	}
}
