package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	segment "github.com/segmentio/analytics-go/v3"
)

const orderPlan = `{"mode": "%s", "events": {"Order Completed": {
  "type": "object", "required": ["order_id", "revenue"],
  "properties": {"order_id": {"type": "string"}, "revenue": {"type": "number", "minimum": 0},
                 "currency": {"enum": ["EUR", "USD"]}}}}}`

// TestTrackingPlanModes sends the same events with the real Segment SDK
// under each plan mode and checks what is stored, flagged and quarantined,
// and the violations summary.
func TestTrackingPlanModes(t *testing.T) {
	for _, mode := range []string{"allow", "flag", "block"} {
		t.Run(mode, func(t *testing.T) {
			m := startMain(t)
			src := createSource(t, m, "web")
			status, body := do(t, "PUT", m.URL()+"/api/v1/sources/"+src.ID+"/plan", adminHeader(), strings.ReplaceAll(orderPlan, "%s", mode))
			if status != http.StatusOK {
				t.Fatalf("PUT plan = %d %s", status, body)
			}
			cb := &callback{}
			seg, err := segment.NewWithConfig(src.WriteKey, segment.Config{Endpoint: m.URL(), Interval: 50 * time.Millisecond, BatchSize: 10, Callback: segmentCallback{cb}})
			if err != nil {
				t.Fatal(err)
			}
			send := func(event string, p segment.Properties) {
				if err := seg.Enqueue(segment.Track{UserId: "u1", Event: event, Properties: p}); err != nil {
					t.Fatal(err)
				}
			}
			send("Order Completed", segment.NewProperties().Set("order_id", "o1").Set("revenue", 10.0).Set("currency", "EUR"))
			send("Order Completed", segment.NewProperties().Set("order_id", "o2").Set("currency", "GBP"))
			send("Signed Up", segment.NewProperties())
			if err := seg.Close(); err != nil {
				t.Fatal(err)
			}

			wantStored := map[string]int{"allow": 3, "flag": 3, "block": 1}[mode]
			evs := allEvents(t, m, src.ID, wantStored)
			if len(evs) != wantStored {
				t.Fatalf("stored %d events, want %d", len(evs), wantStored)
			}
			flagged := 0
			for _, ev := range evs {
				if _, ok := ev.Context["violations"]; ok {
					flagged++
				}
			}
			if want := map[string]int{"flag": 2}[mode]; flagged != want {
				t.Errorf("%d events flagged, want %d", flagged, want)
			}
			status, body = do(t, "GET", m.URL()+"/api/v1/sources/"+src.ID+"/rejected", adminHeader(), "")
			if n := strings.Count(string(body), `"code":"plan_violation"`); status != 200 || n != map[string]int{"block": 2}[mode] {
				t.Errorf("quarantine = %d %s, want %d plan violations", status, body, map[string]int{"block": 2}[mode])
			}

			status, body = do(t, "GET", m.URL()+"/api/v1/sources/"+src.ID+"/violations", adminHeader(), "")
			var sum struct {
				Violations []struct {
					Event, Property, Keyword string
					Count                    int
				}
				Unplanned []string `json:"unplanned_events"`
			}
			if err := json.Unmarshal(body, &sum); err != nil || status != 200 {
				t.Fatalf("violations = %d %s", status, body)
			}
			got := map[string]int{}
			for _, v := range sum.Violations {
				got[v.Event+"/"+v.Property+"/"+v.Keyword] = v.Count
			}
			want := map[string]int{"Order Completed/revenue/required": 1, "Order Completed/currency/enum": 1, "Signed Up//unplanned": 1}
			if mustJSON(got) != mustJSON(want) || mustJSON(sum.Unplanned) != `["Signed Up"]` {
				t.Errorf("violations = %v unplanned %v, want %v", got, sum.Unplanned, want)
			}
		})
	}
}

func TestCleaningConfigAPI(t *testing.T) {
	m := startMain(t)
	src := createSource(t, m, "web")
	url := m.URL() + "/api/v1/sources/" + src.ID + "/cleaning"
	if status, body := do(t, "PUT", url, adminHeader(), `{"disabled":["email"],"default_region":"be"}`); status != 200 || !strings.Contains(string(body), `"default_region":"BE"`) {
		t.Fatalf("PUT cleaning = %d %s", status, body)
	}
	if status, body := do(t, "PUT", url, adminHeader(), `{"disabled":["colour"]}`); status != 400 || !strings.Contains(string(body), "Unknown cleaning step") {
		t.Errorf("PUT bad step = %d %s, want 400", status, body)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if status, b := do(t, "POST", m.URL()+"/v1/identify", h, `{"writeKey":"`+src.WriteKey+`","userId":"u","traits":{"email":" X@Y.BE ","phone":"0470 12 34 56"}}`); status != 200 {
		t.Fatalf("identify = %d %s", status, b)
	}
	ev := allEvents(t, m, src.ID, 1)[0]
	if ev.Traits["email"] != " X@Y.BE " || ev.Traits["phone"] != "+32470123456" {
		t.Errorf("traits = %v, want the email untouched and the phone in E.164 for BE", ev.Traits)
	}
}
