package audience

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestExplainGolden explains the example for one profile and
// compares the JSON with testdata/explain.golden.json, the shape the
// explain API returns and docs/audiences.md shows.
func TestExplainGolden(t *testing.T) {
	c, err := Parse(`trait country = "NL" and count(event "Order Completed" where revenue > 10 within 30d) >= 2 and consent marketing and not in audience "vip" and birthday within 7d`)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	s := &memSubject{
		traits:    map[string]Value{"country": String("NL"), "birthday": String("1990-03-14")},
		consent:   map[string]bool{"marketing": true},
		audiences: map[string]bool{},
	}
	s.addEvent("Order Completed", time.Date(2026, 2, 14, 9, 30, 0, 0, time.UTC), `{"revenue": 45}`)
	s.addEvent("Order Completed", time.Date(2026, 3, 2, 17, 5, 0, 0, time.UTC), `{"revenue": 8}`)
	s.addEvent("Order Completed", time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC), `{"revenue": 120}`)
	r := Explain(c, s, now)
	if e := Evaluate(c, s, now); e.Value != r.Value || !e.NextChange.Equal(r.NextChange) {
		t.Errorf("Explain = %v next %v, Evaluate = %v next %v; want the same", r.Value, r.NextChange, e.Value, e.NextChange)
	}
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.Explain); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/explain.golden.json"
	if *update {
		writeFile(t, golden, out.String())
	}
	if want := readFile(t, golden); out.String() != want {
		t.Errorf("Explain (-want +got):\n%s", cmp.Diff(want, out.String()))
	}
}

// TestExplainAggregates checks the numbers an aggregate's explanation
// carries, including the case of no events and the cap on listed events.
func TestExplainAggregates(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &memSubject{}
	for i := range MaxExplainedEvents + 5 {
		s.addEvent("Page Viewed", now.Add(-time.Duration(i+1)*time.Minute), `{"ms": 10}`)
	}
	tests := []struct {
		src       string
		matched   int
		listed    int
		aggregate *float64
	}{
		{`count(event "Page Viewed") >= 1`, MaxExplainedEvents + 5, MaxExplainedEvents, ptr(float64(MaxExplainedEvents + 5))},
		// The event exactly one hour old has just left the window.
		{`sum(ms of event "Page Viewed" within 1h) > 0`, 59, 59, ptr(590.0)},
		{`avg(ms of event "Nothing") > 0`, 0, 0, nil},
		{`sum(ms of event "Nothing") >= 0`, 0, 0, ptr(0.0)},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			c, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			x := Explain(c, s, now).Explain
			if x.Matched != tt.matched || len(x.Events) != tt.listed || !cmp.Equal(x.Aggregate, tt.aggregate) {
				t.Errorf("Explain(%s) matched %d, listed %d, aggregate %v; want %d, %d, %v",
					tt.src, x.Matched, len(x.Events), fmtPtr(x.Aggregate), tt.matched, tt.listed, fmtPtr(tt.aggregate))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func fmtPtr(f *float64) any {
	if f == nil {
		return "none"
	}
	return *f
}
