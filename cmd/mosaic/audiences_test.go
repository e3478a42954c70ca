package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	segment "github.com/segmentio/analytics-go/v3"
)

type audienceChangesJSON struct {
	Changes []struct {
		ProfileID string `json:"profile_id"`
		Event     string `json:"event"`
		At        time.Time
		Cause     struct {
			Kind  string `json:"kind"`
			Event string `json:"event"`
		} `json:"cause"`
	} `json:"changes"`
}

// poll calls GET path until check accepts the body.
func poll(t *testing.T, m *Main, path string, what string, check func([]byte) bool) []byte {
	t.Helper()
	var status int
	var body []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		status, body = do(t, "GET", m.URL()+path, adminHeader(), "")
		if status == 200 && check(body) {
			return body
		}
	}
	t.Fatalf("GET %s = %d %s; never %s", path, status, body, what)
	return nil
}

// timelineNames reads a profile's whole timeline by pages of limit and
// returns each item's event name, or its type when it has none.
func timelineNames(t *testing.T, m *Main, path string, limit int) []string {
	t.Helper()
	var names []string
	for before := ""; ; {
		status, body := do(t, "GET", fmt.Sprintf("%s%s?limit=%d&before=%s", m.URL(), path, limit, url.QueryEscape(before)), adminHeader(), "")
		var page struct {
			Events []struct {
				Type     string          `json:"type"`
				Name     string          `json:"name"`
				Audience json.RawMessage `json:"audience"`
			} `json:"events"`
			NextBefore string `json:"next_before"`
		}
		if status != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("GET %s = %d %s", path, status, body)
		}
		for _, e := range page.Events {
			if strings.HasPrefix(e.Name, "Audience ") && !strings.Contains(string(e.Audience), `"key":"nl_buyers"`) {
				t.Errorf("timeline item %s names no audience nl_buyers: %s", e.Name, e.Audience)
			}
			names = append(names, cmp.Or(e.Name, e.Type))
		}
		if page.NextBefore == "" || len(names) > 20 {
			return names
		}
		before = page.NextBefore
	}
}

// TestAudiencesEndToEnd: events sent with the real Segment SDK make a
// profile enter an audience built on a computed trait (created with the
// CLI), visible in the API with an explanation; when its order leaves the
// one-hour window, it exits at that moment, without any scan, and both
// changes are in the ordered list with their causes.
func TestAudiencesEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		m := startMain(t, serveArgs...)
		src := createSource(t, m, "shop")
		status, body := do(t, "POST", m.URL()+"/api/v1/computed-traits", adminHeader(),
			`{"key":"orders_1h","event":"Order Completed","agg":"count","within":"1h"}`)
		if status != 201 {
			t.Fatalf("POST computed-traits = %d %s", status, body)
		}
		cli := []string{"--server", m.URL(), "--admin-token", testToken}
		code, out, errOut := runCLI(t, append([]string{"audiences", "create", "nl_buyers",
			"--where", `trait country = "NL" and computed orders_1h >= 1`}, cli...)...)
		if code != 0 || !strings.Contains(out, "nl_buyers") {
			t.Fatalf("audiences create = %d %s %s", code, out, errOut)
		}
		if status, body := do(t, "POST", m.URL()+"/api/v1/audiences", adminHeader(), `{"key":"bad","condition":"trait country = "}`); status != 400 || !strings.Contains(string(body), "1:17") {
			t.Errorf("bad condition = %d %s, want 400 naming the position", status, body)
		}
		poll(t, m, "/api/v1/audiences/nl_buyers", "live", func(b []byte) bool { return strings.Contains(string(b), `"state":"live"`) })

		// The order leaves the window 3 seconds from now.
		placed := time.Now().Add(-time.Hour + 3*time.Second)
		seg, err := segment.NewWithConfig(src.WriteKey, segment.Config{Endpoint: m.URL(), Interval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_ = seg.Enqueue(segment.Identify{UserId: "u-1", Traits: segment.NewTraits().Set("country", "NL")})
		_ = seg.Enqueue(segment.Track{UserId: "u-1", Event: "Order Completed", Timestamp: placed})
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
		poll(t, m, "/api/v1/audiences/nl_buyers/members", "the member", func(b []byte) bool { return strings.Contains(string(b), `"total":1`) })
		// The entry is in the profile's timeline, newest, above the events
		// that caused it, once saved with the next checkpoint. Events are
		// at their own time: the order was placed an hour ago.
		timeline := "/api/v1/profiles/user_id:u-1/events"
		poll(t, m, timeline, "the entry in the timeline", func(b []byte) bool { return strings.Contains(string(b), `"Audience Entered"`) })
		if got, want := timelineNames(t, m, timeline, 50), []string{"Audience Entered", "identify", "Order Completed"}; !slices.Equal(got, want) {
			t.Errorf("timeline = %q, want %q", got, want)
		}
		body = poll(t, m, "/api/v1/audiences/nl_buyers/explain/user_id:u-1", "explained", func([]byte) bool { return true })
		var x struct {
			Member      bool       `json:"member"`
			NextChange  *time.Time `json:"next_change"`
			Explanation struct {
				Value bool `json:"value"`
			} `json:"explanation"`
		}
		// The order's time is the SDK's timestamp corrected for clock skew
		// (a few milliseconds off placed).
		if err := json.Unmarshal(body, &x); err != nil || !x.Member || !x.Explanation.Value || x.NextChange == nil ||
			x.NextChange.Sub(placed.Add(time.Hour)).Abs() > time.Second {
			t.Fatalf("explain = %s; want a member whose next change is when the order leaves the window (%v)", body, placed.Add(time.Hour))
		}
		code, out, _ = runCLI(t, append([]string{"audiences", "list"}, cli...)...)
		if code != 0 || !strings.Contains(out, "nl_buyers") || !strings.Contains(out, " 1 ") {
			t.Errorf("audiences list = %d %s, want nl_buyers with 1 member", code, out)
		}
		if status, body := do(t, "POST", m.URL()+"/api/v1/audiences/preview", adminHeader(), `{"condition":"trait country = \"NL\" and computed orders_1h >= 1"}`); status != 200 || !strings.Contains(string(body), `"count":1`) {
			t.Errorf("preview = %d %s, want count 1", status, body)
		}

		// Time passes: the exit comes at the moment the order leaves.
		poll(t, m, "/api/v1/audiences/nl_buyers/members", "empty", func(b []byte) bool { return strings.Contains(string(b), `"total":0`) })
		body = poll(t, m, "/api/v1/audiences/changes?audience=nl_buyers", "both changes saved", func(b []byte) bool {
			return strings.Count(string(b), `"Audience `) == 2
		})
		var ch audienceChangesJSON
		if err := json.Unmarshal(body, &ch); err != nil {
			t.Fatal(err)
		}
		entered, exited := ch.Changes[0], ch.Changes[1]
		if entered.Event != "Audience Entered" || entered.Cause.Kind != "event" || exited.Event != "Audience Exited" || exited.Cause.Kind != "time" {
			t.Errorf("changes = %s, want an entry caused by an event, then an exit caused by time", body)
		}
		if d := exited.At.Sub(*x.NextChange); d.Abs() > time.Microsecond {
			t.Errorf("exit at %v, want the moment the order left the window, %v", exited.At, *x.NextChange)
		}
		// The exit is in the timeline too, and pages of one item walk the
		// same merged timeline as one page.
		poll(t, m, timeline, "the exit in the timeline", func(b []byte) bool { return strings.Contains(string(b), `"Audience Exited"`) })
		want := []string{"Audience Exited", "Audience Entered", "identify", "Order Completed"}
		if got := timelineNames(t, m, timeline, 50); !slices.Equal(got, want) {
			t.Errorf("timeline = %q, want %q", got, want)
		}
		if got := timelineNames(t, m, timeline, 1); !slices.Equal(got, want) {
			t.Errorf("timeline by pages of 1 = %q, want %q", got, want)
		}
		body = poll(t, m, "/api/v1/profiles/"+url.PathEscape(entered.ProfileID)+"/audiences", "profile view", func([]byte) bool { return true })
		if !strings.Contains(string(body), `"orders_1h":{"value":0}`) {
			t.Errorf("profile audiences = %s, want orders_1h = 0 now", body)
		}
		code, out, _ = runCLI(t, append([]string{"audiences", "members", "nl_buyers", "--csv"}, cli...)...)
		if code != 0 || strings.TrimSpace(out) != "profile_id,since" {
			t.Errorf("members --csv = %d %q, want only the header", code, out)
		}
	})
}
