package profile

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mosaic-cdp/mosaic"
)

// TestNamesInlinePastCap: once the name table is full, names are kept in
// the profiles themselves and everything works the same.
func TestNamesInlinePastCap(t *testing.T) {
	saved := names
	defer func() { names = saved }()
	names = newInterner(3) // fills with "web", "identify" and one trait name

	p := applyAll(t,
		event(1, "identify", `{"traits":{"b":1,"a":2,"c":3},"timestamp":"2024-05-01T10:00:00Z"}`),
		event(2, "track", `{"event":"Zed","context":{"traits":{"a":4}},"timestamp":"2024-05-02T10:00:00Z"}`))
	if n := len(*names.byID.Load()); n != 3 {
		t.Errorf("interned %d names, want 3", n)
	}
	checkView(t, p, `{"traits":{"a":4,"b":1,"c":3},"sources":{"web":2},
		"event_counts":{"total":2,"by_type":{"identify":1,"track":1},"by_event":{"Zed":1}}}`)
	q := clone(t, p)
	if !bytes.Equal(state(t, p), state(t, q)) {
		t.Errorf("binary round trip with inline names differs")
	}
}

// TestCaps: past the caps, the names that sort last are dropped.
func TestCaps(t *testing.T) {
	var traits, events []string
	for i := range maxTraits + 10 {
		traits = append(traits, fmt.Sprintf(`"t%04d":%d`, i, i))
	}
	p := applyAll(t, event(1, "identify", `{"traits":{`+strings.Join(traits, ",")+`}}`))
	for i := range maxCounts[kindEvent] + 5 {
		events = append(events, fmt.Sprintf(`{"event":"e%05d"}`, i))
	}
	for i, msg := range events {
		if err := Apply(p, event(uint64(i+2), "track", msg)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range maxGroups + 3 {
		if err := Apply(p, event(uint64(i+10000), "group", fmt.Sprintf(`{"groupId":"g%04d"}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	tr := p.Traits()
	if len(tr) != maxTraits || tr[len(tr)-1].Name != fmt.Sprintf("t%04d", maxTraits-1) {
		t.Errorf("kept %d traits up to %s, want %d up to t%04d", len(tr), tr[len(tr)-1].Name, maxTraits, maxTraits-1)
	}
	byEvent := p.CountsByEvent()
	if _, ok := byEvent[fmt.Sprintf("e%05d", maxCounts[kindEvent])]; len(byEvent) != maxCounts[kindEvent] || ok {
		t.Errorf("counted %d event names, want the first %d", len(byEvent), maxCounts[kindEvent])
	}
	gs := p.Groups()
	if len(gs) != maxGroups || gs[len(gs)-1].ID != fmt.Sprintf("g%04d", maxGroups-1) {
		t.Errorf("kept %d groups, want the first %d", len(gs), maxGroups)
	}
	if got := p.Events(); got != int64(1+len(events)+maxGroups+3) {
		t.Errorf("Events() = %d, want every event counted", got)
	}
	clone(t, p) // the binary form accepts what the caps allow
}

// TestApplyConcurrent: Apply on different profiles from several goroutines,
// with new names appearing at once (run with -race).
func TestApplyConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	ps := make([]*Profile, 4)
	for g := range ps {
		ps[g] = New(uint64(g))
		wg.Go(func() {
			for i := range 200 {
				msg := fmt.Sprintf(`{"traits":{"conc%d":%d,"shared":1},"event":"E%d"}`, i, g, i%7)
				ev := &mosaic.Event{Seq: uint64(i + 1), SourceID: fmt.Sprintf("src%d", i%3), Type: "identify",
					ReceivedAt: received, Message: []byte(msg)}
				if err := Apply(ps[g], ev); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for g, p := range ps {
		if n := len(p.Traits()); n != 201 {
			t.Errorf("profile %d has %d traits, want 201", g, n)
		}
	}
}
