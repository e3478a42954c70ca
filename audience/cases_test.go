package audience

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// evalCase is one file of testdata/cases: a subject, a condition, and what
// the condition must give at given moments. Time is only ever the argument
// to Evaluate: these tests are driven by a fake clock and never sleep.
type evalCase struct {
	Description string          `json:"description"`
	Condition   json.RawMessage `json:"condition"` // the text form as a JSON string, or the tree
	Subject     subjectJSON     `json:"subject"`
	Checks      []struct {
		At         time.Time  `json:"at"`
		Value      bool       `json:"value"`
		NextChange *time.Time `json:"next_change"` // null: time alone cannot change it
	} `json:"checks"`
	// Timeline replays what the engine's timers do: evaluate at From, then
	// at each NextChange until Until, and lists the flips that happen.
	Timeline *struct {
		From  time.Time `json:"from"`
		Until time.Time `json:"until"`
		Start bool      `json:"start"`
		Flips []flip    `json:"flips"`
	} `json:"timeline"`
}

type flip struct {
	At    time.Time `json:"at"`
	Value bool      `json:"value"`
}

func TestCases(t *testing.T) {
	files, err := filepath.Glob("testdata/cases/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in testdata/cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			tc, c, s := loadCase(t, file)
			for _, ch := range tc.Checks {
				r := Evaluate(c, s, ch.At)
				var next *time.Time
				if !r.NextChange.IsZero() {
					next = &r.NextChange
				}
				if r.Value != ch.Value || !cmp.Equal(next, ch.NextChange) {
					t.Errorf("Evaluate(%s) at %s = %v next %v, want %v next %v",
						Format(c), ch.At.Format(time.RFC3339), r.Value, fmtTime(next), ch.Value, fmtTime(ch.NextChange))
				}
				if x := Explain(c, s, ch.At); x.Value != r.Value || !x.NextChange.Equal(r.NextChange) {
					t.Errorf("Explain at %s = %v next %v, want Evaluate's %v next %v", ch.At, x.Value, x.NextChange, r.Value, r.NextChange)
				}
			}
			if tc.Timeline != nil {
				start, flips := replay(t, c, s, tc.Timeline.From, tc.Timeline.Until)
				if start != tc.Timeline.Start {
					t.Errorf("value at %s = %v, want %v", tc.Timeline.From, start, tc.Timeline.Start)
				}
				if diff := cmp.Diff(tc.Timeline.Flips, flips); diff != "" {
					t.Errorf("flips from %s to %s (-want +got):\n%s", tc.Timeline.From, tc.Timeline.Until, diff)
				}
			}
		})
	}
}

func loadCase(t *testing.T, file string) (*evalCase, *Condition, *memSubject) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var tc evalCase
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&tc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	c, err := conditionOf(tc.Condition)
	if err != nil {
		t.Fatalf("%s: condition: %v", file, err)
	}
	s, err := tc.Subject.subject()
	if err != nil {
		t.Fatalf("%s: subject: %v", file, err)
	}
	return &tc, c, s
}

// conditionOf reads a condition written as a JSON string (the text form)
// or as the tree.
func conditionOf(raw json.RawMessage) (*Condition, error) {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return Parse(text)
	}
	return Decode(raw)
}

// replay evaluates c the way the engine's timers will: at from, then at
// each NextChange up to until. It returns the first value and the flips.
func replay(t *testing.T, c *Condition, s Subject, from, until time.Time) (bool, []flip) {
	t.Helper()
	r := Evaluate(c, s, from)
	start, flips := r.Value, []flip{}
	for at, steps := from, 0; !r.NextChange.IsZero() && !r.NextChange.After(until); steps++ {
		if !r.NextChange.After(at) || steps > 10000 {
			t.Fatalf("NextChange %s at %s does not move forward", r.NextChange, at)
		}
		at = r.NextChange
		next := Evaluate(c, s, at)
		if next.Value != r.Value {
			flips = append(flips, flip{At: at, Value: next.Value})
		}
		r = next
	}
	return start, flips
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339Nano)
}
