package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	segment "github.com/segmentio/analytics-go/v3"
)

type schemaFieldJSON struct {
	SourceID string   `json:"source_id"`
	Kind     string   `json:"kind"`
	Event    string   `json:"event"`
	Name     string   `json:"name"`
	Types    []string `json:"types"`
	Count    int64    `json:"count"`
}

// waitSchema waits until the schema reflects every event in the log.
func waitSchema(t *testing.T, m *Main) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := m.Engine.WaitProcessed(ctx, m.Log.LastSeq()); err != nil {
		t.Fatalf("dedupe stage: %v", err)
	}
	if err := m.Schema.WaitProcessed(ctx, m.Engine.Processed()); err != nil {
		t.Fatalf("schema stage: %v", err)
	}
}

// getSchema pages through GET /api/v1/schema with query and returns every
// field, keyed "kind event name".
func getSchema(t *testing.T, m *Main, query string, limit int) map[string]schemaFieldJSON {
	t.Helper()
	out := map[string]schemaFieldJSON{}
	cursor := ""
	for range 100 {
		u := m.URL() + "/api/v1/schema?" + query + "&limit=" + itoa(limit) + "&cursor=" + url.QueryEscape(cursor)
		status, body := do(t, "GET", u, adminHeader(), "")
		var page struct {
			Fields []schemaFieldJSON `json:"fields"`
			Next   string            `json:"next"`
		}
		if err := json.Unmarshal(body, &page); status != 200 || err != nil {
			t.Fatalf("GET %s = %d %s", u, status, body)
		}
		if len(page.Fields) > limit {
			t.Fatalf("GET %s gave %d fields, want at most %d", u, len(page.Fields), limit)
		}
		for _, f := range page.Fields {
			out[f.Kind+" "+f.Event+" "+f.Name] = f
		}
		if cursor = page.Next; cursor == "" {
			return out
		}
	}
	t.Fatal("GET /api/v1/schema: the pages never end")
	return nil
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// sendOrders sends the shop's events with the real Segment SDK.
func sendOrders(t *testing.T, m *Main, writeKey string, extra ...segment.Message) {
	t.Helper()
	seg, err := segment.NewWithConfig(writeKey, segment.Config{Endpoint: m.URL(), Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []segment.Message{
		segment.Track{UserId: "u1", Event: "Order Completed", Properties: segment.NewProperties().
			Set("order_id", "o1").Set("revenue", "12,50").Set("address", map[string]any{"city": "Utrecht"})},
		segment.Track{UserId: "u2", Event: "Order Completed", Properties: segment.NewProperties().
			Set("order_id", "o2").Set("revenue", 7).Set("coupon", "WELKOM")},
		segment.Track{UserId: "u1", Event: "Signed Up"},
		segment.Identify{UserId: "u1", Traits: segment.NewTraits().SetEmail("a@voorbeeld.nl").Set("vip", true)},
		segment.Group{UserId: "u1", GroupId: "g1", Traits: segment.NewTraits().Set("employees", 40)},
	}
	for _, msg := range append(msgs, extra...) {
		if err := seg.Enqueue(msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := seg.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaOverview sends events with the real SDK and reads them back as
// the schema overview, drafts a plan that, blocking, accepts the same
// events again, and restarts: the schema and the violation counts are the
// same, not counted twice.
func TestSchemaOverview(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		dir := t.TempDir()
		args := append([]string{"--data", dir}, serveArgs...)
		m := startMain(t, args...)
		web, crm := createSource(t, m, "web"), createSource(t, m, "crm")
		sendOrders(t, m, web.WriteKey)
		h := http.Header{"Content-Type": {"application/json"}}
		if status, b := do(t, "POST", m.URL()+"/v1/identify", h, `{"writeKey":"`+crm.WriteKey+`","userId":"c1","traits":{"loyalty":"gold"}}`); status != 200 {
			t.Fatalf("identify = %d %s", status, b)
		}
		allEvents(t, m, web.ID, 5)
		waitSchema(t, m)

		want := map[string]struct {
			types string
			count int64
		}{
			"event Order Completed ":                {`[]`, 2},
			"event Signed Up ":                      {`[]`, 1},
			"property Order Completed order_id":     {`["string"]`, 2},
			"property Order Completed revenue":      {`["integer","number"]`, 2}, // "12,50" was cleaned to 12.5
			"property Order Completed coupon":       {`["string"]`, 1},
			"property Order Completed address":      {`["object"]`, 1},
			"property Order Completed address.city": {`["string"]`, 1},
			"trait  email":                          {`["string"]`, 1},
			"trait  vip":                            {`["boolean"]`, 1},
			"group_trait  employees":                {`["integer"]`, 1},
		}
		check := func(t *testing.T, got map[string]schemaFieldJSON, times int64) {
			t.Helper()
			for k, w := range want {
				f, ok := got[k]
				if !ok || mustJSON(f.Types) != w.types || f.Count != w.count*times || f.SourceID != web.ID {
					t.Errorf("schema field %q = %+v, want types %s count %d", k, f, w.types, w.count*times)
				}
			}
			if len(got) != len(want) {
				t.Errorf("schema of web has %d fields, want %d: %v", len(got), len(want), got)
			}
		}
		check(t, getSchema(t, m, "source=web", 1000), 1)
		check(t, getSchema(t, m, "source="+web.ID, 3), 1) // paged
		props := getSchema(t, m, "source=web&kind=property&event="+url.QueryEscape("Order Completed"), 1000)
		if len(props) != 5 {
			t.Errorf("properties of Order Completed: %d, want 5", len(props))
		}
		all := getSchema(t, m, "", 1000)
		if f := all["trait  loyalty"]; f.SourceID != crm.ID || f.Count != 1 {
			t.Errorf("crm's trait loyalty = %+v, want it in the unfiltered schema", f)
		}
		for q, code := range map[string]int{"kind=colour": 400, "cursor=nonsense": 400, "source=nope": 404, "limit=0": 400} {
			if status, body := do(t, "GET", m.URL()+"/api/v1/schema?"+q, adminHeader(), ""); status != code {
				t.Errorf("GET /api/v1/schema?%s = %d %s, want %d", q, status, body, code)
			}
		}

		// Draft a plan, block on it, and send the same events again: all
		// are accepted; an event the plan does not know is quarantined.
		status, body := do(t, "POST", m.URL()+"/api/v1/sources/web/plan/draft?days=7", adminHeader(), "")
		if status != 200 {
			t.Fatalf("draft = %d %s", status, body)
		}
		var plan map[string]any
		if err := json.Unmarshal(body, &plan); err != nil {
			t.Fatal(err)
		}
		order, _ := plan["events"].(map[string]any)["Order Completed"].(map[string]any)
		if mustJSON(order["required"]) != `["order_id","revenue"]` {
			t.Errorf("drafted Order Completed = %v, want order_id and revenue required", order)
		}
		plan["mode"] = "block"
		if status, body := do(t, "PUT", m.URL()+"/api/v1/sources/"+web.ID+"/plan", adminHeader(), mustJSON(plan)); status != 200 {
			t.Fatalf("PUT drafted plan = %d %s", status, body)
		}
		sendOrders(t, m, web.WriteKey, segment.Track{UserId: "u3", Event: "Cart Abandoned"})
		allEvents(t, m, web.ID, 10)
		status, body = do(t, "GET", m.URL()+"/api/v1/sources/"+web.ID+"/rejected", adminHeader(), "")
		if n := strings.Count(string(body), `"code":"plan_violation"`); status != 200 || n != 1 {
			t.Errorf("quarantine = %d %s, want only Cart Abandoned refused by the plan", status, body)
		}
		waitSchema(t, m)
		check(t, getSchema(t, m, "source=web", 1000), 2)

		// Extending the plan adds what it lacks; then the event passes.
		if status, body := do(t, "POST", m.URL()+"/api/v1/sources/web/plan/draft?extend=true&save=true", adminHeader(), ""); status != 200 {
			t.Fatalf("extend = %d %s", status, body)
		} else if !strings.Contains(string(body), `"mode":"block"`) {
			t.Errorf("extended plan = %s, want the current plan's block mode kept", body)
		}

		// Restart: nothing counted twice, violations kept.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Fatal(err)
		}
		m2 := startMain(t, args...)
		waitSchema(t, m2)
		check(t, getSchema(t, m2, "source=web", 1000), 2)
		status, body = do(t, "GET", m2.URL()+"/api/v1/sources/"+web.ID+"/violations", adminHeader(), "")
		if status != 200 || !strings.Contains(string(body), `"unplanned_events":["Cart Abandoned"]`) || !strings.Contains(string(body), `"count":1`) {
			t.Errorf("violations after restart = %d %s, want Cart Abandoned unplanned once", status, body)
		}
	})
}
