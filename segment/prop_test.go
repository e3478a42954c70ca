package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// propConditions mix the kinds whose real-time upkeep differs: windows,
// sums over properties, traits, consent, negation, references and
// computed traits.
var propConditions = []string{
	`count(event "Order Completed" within 2d) >= 2`,
	`sum(revenue of event "Order Completed" within 3d) > 50 or trait plan = "pro"`,
	`consent marketing and not count(event "Product Viewed" where category = "shoes" within 1d) >= 1`,
	`in audience p0 or computed views_2d >= 2`,
	`not consent marketing`,
	// Several audiences reading one computed trait: an event reaching them
	// works it out once for all (subject.computed), timers at other moments
	// again.
	`computed views_2d >= 1 and not computed views_2d >= 3`,
	`computed views_2d >= 1 and count(event "Product Viewed" where category = "hats" within 1d) >= 1`,
}

// TestRealTimeBackfillPreviewAgree: for random events (out of order by
// event time, with consent and traits), the audiences kept in real time
// since before the first event, the same conditions backfilled afterwards,
// and previews agree, now and as time passes.
func TestRealTimeBackfillPreviewAgree(t *testing.T) {
	e := newEnv(t)
	e.computed(ComputedTraitSpec{Key: "views_2d", Event: "Product Viewed", Agg: "count", Within: "2d"})
	for i, c := range propConditions {
		e.audience(fmt.Sprintf("p%d", i), c)
	}
	base := t0
	iter := 0
	rapid.Check(t, func(rt *rapid.T) {
		iter++
		users := []string{}
		for u := range rapid.IntRange(1, 4).Draw(rt, "users") {
			users = append(users, fmt.Sprintf("i%d_u%d", iter, u))
		}
		n := rapid.IntRange(0, 10).Draw(rt, "events")
		now := base
		var sent []string // users with a profile
		for range n {
			now = now.Add(time.Duration(rapid.IntRange(0, 30).Draw(rt, "gap_h")) * time.Hour)
			at := now.Add(-time.Duration(rapid.IntRange(0, 40).Draw(rt, "late_h")) * time.Hour)
			u := rapid.SampledFrom(users).Draw(rt, "user")
			e.clock.Set(now)
			e.seg.Tick(now)
			e.send(propEvent(rt, u, at))
			if !slices.Contains(sent, u) {
				sent = append(sent, u)
			}
		}
		slices.Sort(sent)
		for i, c := range propConditions {
			e.audience(fmt.Sprintf("b%d_%d", iter, i), forRun(c, iter))
		}
		for step := range 3 {
			if step > 0 {
				now = now.Add(time.Duration(rapid.IntRange(1, 60).Draw(rt, "wait_h")) * time.Hour)
			}
			e.clock.Set(now)
			e.seg.Tick(now)
			for i, c := range propConditions {
				live := e.members(fmt.Sprintf("p%d", i), sent...)
				back := e.members(fmt.Sprintf("b%d_%d", iter, i), sent...)
				if !slices.Equal(live, back) {
					rt.Fatalf("%s at %v: real time %v, backfill %v", c, now, live, back)
				}
				raw, _ := json.Marshal(c)
				p, err := e.seg.Preview(context.Background(), raw, 0)
				view, _ := e.seg.Audience(fmt.Sprintf("p%d", i))
				if err != nil || p.Count != view.Size {
					rt.Fatalf("%s at %v: preview %+v, %v; real-time size %d", c, now, p, err, view.Size)
				}
			}
		}
		for i := len(propConditions) - 1; i >= 0; i-- { // readers first
			if err := e.seg.DeleteAudience(context.Background(), e.seg.mustAudience(fmt.Sprintf("b%d_%d", iter, i))); err != nil {
				rt.Fatalf("delete: %v", err)
			}
		}
		base = now.Add(30 * 24 * time.Hour) // the next run starts after every window
	})
}

// forRun points a condition's reference to this run's backfilled copy.
func forRun(c string, iter int) string {
	if c == propConditions[3] {
		return fmt.Sprintf(`in audience b%d_0 or computed views_2d >= 2`, iter)
	}
	return c
}

func (s *Segments) mustAudience(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.audByKey[key].ID
}

func propEvent(rt *rapid.T, u string, at time.Time) string {
	ts := at.Format(time.RFC3339)
	switch rapid.IntRange(0, 3).Draw(rt, "kind") {
	case 0:
		return fmt.Sprintf(`{"type":"track","userId":%q,"event":"Order Completed","timestamp":%q,"properties":{"revenue":%d}}`,
			u, ts, rapid.IntRange(0, 60).Draw(rt, "revenue"))
	case 1:
		return fmt.Sprintf(`{"type":"track","userId":%q,"event":"Product Viewed","timestamp":%q,"properties":{"category":%q}}`,
			u, ts, rapid.SampledFrom([]string{"shoes", "hats"}).Draw(rt, "category"))
	case 2:
		return fmt.Sprintf(`{"type":"identify","userId":%q,"timestamp":%q,"traits":{"plan":%q}}`,
			u, ts, rapid.SampledFrom([]string{"pro", "free"}).Draw(rt, "plan"))
	}
	return fmt.Sprintf(`{"type":"page","userId":%q,"timestamp":%q,"context":{"consent":{"categoryPreferences":{"marketing":%v}}}}`,
		u, ts, rapid.Bool().Draw(rt, "granted"))
}
