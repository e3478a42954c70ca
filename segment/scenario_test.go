package segment

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// scenario is one file of testdata/scenarios: audiences, events sent at
// given times, and the members expected at given times.
type scenario struct {
	About     string            `json:"about"`
	Audiences map[string]string `json:"audiences"` // key → condition, text form
	Steps     []struct {
		At     string                     `json:"at"` // a duration after t0
		Send   []json.RawMessage          `json:"send"`
		Expect map[string]json.RawMessage `json:"expect"` // key → user IDs
	} `json:"steps"`
}

// TestScenarios runs every scenario twice: with the audiences live before
// the first event (real time), and created just before the first
// expectation (backfill, then real time). Each expectation is also checked
// against a preview of the condition.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sc scenario
		if err := json.Unmarshal(data, &sc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, mode := range []string{"live", "backfill"} {
			t.Run(strings.TrimSuffix(filepath.Base(f), ".json")+"/"+mode, func(t *testing.T) {
				runScenario(t, &sc, mode == "backfill")
			})
		}
	}
}

func runScenario(t *testing.T, sc *scenario, backfill bool) {
	e := newEnv(t)
	created := false
	create := func() {
		for _, key := range sortedKeys(sc.Audiences) {
			e.audience(key, sc.Audiences[key])
		}
		created = true
	}
	if !backfill {
		create()
	}
	var users []string
	for _, st := range sc.Steps {
		d, err := time.ParseDuration(st.At)
		if err != nil {
			t.Fatalf("step at %q: %v", st.At, err)
		}
		now := t0.Add(d)
		e.clock.Set(now)
		e.seg.Tick(now)
		if len(st.Send) > 0 {
			msgs := make([]string, len(st.Send))
			for i, m := range st.Send {
				var head struct {
					UserID string `json:"userId"`
				}
				_ = json.Unmarshal(m, &head)
				if !slices.Contains(users, head.UserID) {
					users = append(users, head.UserID)
				}
				msgs[i] = string(m)
			}
			e.send(msgs...)
		}
		if len(st.Expect) == 0 {
			continue
		}
		if !created {
			create()
		}
		for _, key := range sortedKeys(st.Expect) {
			want := []string{}
			if err := json.Unmarshal(st.Expect[key], &want); err != nil {
				t.Fatalf("expect %s: %v", key, err)
			}
			got := e.members(key, users...)
			if got == nil {
				got = []string{}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("at %s: members(%s) = %v, want %v", st.At, key, got, want)
			}
			raw, _ := json.Marshal(sc.Audiences[key])
			p, err := e.seg.Preview(context.Background(), raw, 10)
			if err != nil || p.Count != len(want) {
				t.Errorf("at %s: Preview(%s) = %+v, %v; want count %d", st.At, key, p, err, len(want))
				continue
			}
			// The sample is the members with the lowest IDs.
			var ids []uint64
			for _, u := range want {
				ids = append(ids, e.pid(u))
			}
			slices.Sort(ids)
			if ids = ids[:min(len(ids), 10)]; !slices.Equal(p.Sample, ids) && !(len(ids) == 0 && len(p.Sample) == 0) {
				t.Errorf("at %s: Preview(%s).Sample = %v, want %v", st.At, key, p.Sample, ids)
			}
		}
	}
}
