package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestRetentionEndToEnd sets a 7-day retention on one source, runs the
// purge with a clock 8 days ahead, and checks that the source's events
// left the log and the profiles they built, while another source's events
// stay; and that the inventory lists sources, retention and personal
// traits.
func TestRetentionEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		m := startMain(t, serveArgs...)
		web, crm := createSource(t, m, "web"), createSource(t, m, "crm")
		postConsentBatch(t, m, web.WriteKey, nil, `[{"type":"page","anonymousId":"anon-ret-1","name":"Home"},
			{"type":"track","userId":"u-both","event":"Viewed"}]`)
		postConsentBatch(t, m, crm.WriteKey, nil, `[{"type":"identify","userId":"u-both","traits":{"email":"both@ret-mail.nl","plan":"gold"}}]`)
		getProfile(t, m, "user_id:u-both", func(p profileJSON) bool { return p.EventCounts.Total == 2 })
		for body, want := range map[string]int{`{"days":5}`: 400, `{}`: 400, `{"days":7}`: 200} {
			if status, b := do(t, "PUT", m.URL()+"/api/v1/sources/"+web.ID+"/retention", adminHeader(), body); status != want {
				t.Errorf("PUT retention %s = %d %s, want %d", body, status, b, want)
			}
		}
		if status, _ := do(t, "PUT", m.URL()+"/api/v1/sources/nope/retention", adminHeader(), `{"days":7}`); status != 404 {
			t.Errorf("PUT retention of an unknown source = %d, want 404", status)
		}

		if n, err := m.Requests.PurgeExpired(context.Background(), time.Now().AddDate(0, 0, 6)); err != nil || n != 0 {
			t.Fatalf("purge 6 days on = %d, %v, want nothing expired", n, err)
		}
		n, err := m.Requests.PurgeExpired(context.Background(), time.Now().AddDate(0, 0, 8))
		if err != nil || n != 2 {
			t.Fatalf("purge 8 days on = %d, %v, want the 2 web events", n, err)
		}
		if status, _ := do(t, "GET", m.URL()+"/api/v1/profiles/anonymous_id:anon-ret-1", adminHeader(), ""); status != 404 {
			t.Errorf("profile built only from expired events = %d, want 404", status)
		}
		p := getProfile(t, m, "user_id:u-both", func(profileJSON) bool { return true })
		if p.EventCounts.Total != 1 || p.Traits["plan"] != "gold" {
			t.Errorf("profile after purge = %+v, want only the crm identify", p)
		}

		status, b := do(t, "GET", m.URL()+"/api/v1/privacy/inventory", adminHeader(), "")
		var inv struct {
			Sources []struct {
				Name          string
				RetentionDays int `json:"retention_days"`
			}
			PersonalData []string `json:"personal_data_traits"`
			OtherTraits  []string `json:"other_traits"`
			Purposes     []any
		}
		if status != 200 || json.Unmarshal(b, &inv) != nil || len(inv.Sources) != 2 || len(inv.Purposes) != 6 {
			t.Fatalf("inventory = %d %s", status, b)
		}
		if inv.Sources[0].Name != "web" || inv.Sources[0].RetentionDays != 7 || inv.Sources[1].RetentionDays != 0 {
			t.Errorf("inventory sources = %+v, want web 7 days, crm unlimited", inv.Sources)
		}
		if strings.Join(inv.PersonalData, ",") != "email" || strings.Join(inv.OtherTraits, ",") != "plan" {
			t.Errorf("inventory traits = %v personal, %v other; want email, plan", inv.PersonalData, inv.OtherTraits)
		}
	})
}
