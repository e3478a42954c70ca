package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// deleteHook records every message a webhook destination receives,
// checking its signature.
type deleteHook struct {
	mu     sync.Mutex
	secret string
	bodies []string
	badSig int
}

func (h *deleteHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !verifySignature(h.secret, r.Header, body) {
		h.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h.bodies = append(h.bodies, string(body))
}

func (h *deleteHook) deletes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, b := range h.bodies {
		if strings.HasPrefix(b, `{"data":`) && strings.Contains(b, `"type":"delete"`) {
			out = append(out, b)
		}
	}
	return out
}

// TestErasureTellsDestinations erases a person whose events went to a
// webhook and a file export: the webhook gets one signed deletion message
// with the identifiers it had been sent, the file export is reported as
// not supporting it, the person's messages leave the outbox, and the
// request keeps only keyed hashes.
func TestErasureTellsDestinations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args ...string) {
		hook := &deleteHook{}
		srv := httptest.NewServer(hook)
		defer srv.Close()
		m := startMain(t, append(args, "--webhook-allow-cidr", "127.0.0.0/8", "--delivery-retry", "50ms")...)
		src := createSource(t, m, "web")
		newDest := func(body string) string {
			t.Helper()
			status, resp := do(t, "POST", m.URL()+"/api/v1/destinations", adminHeader(), body)
			var d struct{ ID, Secret string }
			if status != http.StatusCreated || json.Unmarshal(resp, &d) != nil {
				t.Fatalf("POST destination = %d %s", status, resp)
			}
			if strings.Contains(body, `"webhook"`) {
				hook.mu.Lock()
				hook.secret = d.Secret
				hook.mu.Unlock()
			}
			return d.ID
		}
		hookID := newDest(fmt.Sprintf(`{"name":"crm","type":"webhook","settings":{"url":%q},"purposes":["marketing"],"events":{"sources":[%q]}}`, srv.URL, src.ID))
		fileID := newDest(fmt.Sprintf(`{"name":"lake","type":"file","settings":{"directory":%q},"purposes":["marketing"],"events":{"sources":[%q]}}`, t.TempDir(), src.ID))

		postConsentBatch(t, m, src.WriteKey, nil, `[
			{"type":"identify","userId":"user-dq-1","traits":{"email":"dora.quist@dq-mail.nl","name":"Dora Quist"},"context":{"consent":{"categoryPreferences":{"marketing":true}}}},
			{"type":"track","userId":"user-dq-1","event":"Order Completed","context":{"consent":{"categoryPreferences":{"marketing":true}}}},
			{"type":"track","userId":"user-ot-2","event":"Order Completed","context":{"consent":{"categoryPreferences":{"marketing":true}}}}]`)
		delivered := func(id string, n int) func() bool {
			return func() bool {
				_, b := do(t, "GET", m.URL()+"/api/v1/destinations/"+id+"/stats", adminHeader(), "")
				var s struct{ Delivered int }
				return json.Unmarshal(b, &s) == nil && s.Delivered >= n
			}
		}
		waitUntil(t, "the webhook to receive the 3 events", delivered(hookID, 3))
		waitUntil(t, "the file export to write the 3 events", delivered(fileID, 3))

		acc := submitRequest(t, m, `{"type":"access","identifier":{"type":"user_id","value":"user-dq-1"}}`)
		_, export := do(t, "GET", m.URL()+"/api/v1/privacy/requests/"+acc.ID+"/export", adminHeader(), "")
		var x struct {
			Destinations []struct {
				DestinationName string `json:"destination_name"`
				Status          string `json:"status"`
			} `json:"destinations"`
		}
		if err := json.Unmarshal(export, &x); err != nil || len(x.Destinations) != 4 {
			t.Errorf("the access export lists %d destination messages, want 4 (2 events to each of crm and lake): %v", len(x.Destinations), err)
		}
		for _, d := range x.Destinations {
			if d.Status != "delivered" || (d.DestinationName != "crm" && d.DestinationName != "lake") {
				t.Errorf("export destination message = %+v, want delivered to crm or lake", d)
			}
		}

		er := submitRequest(t, m, `{"type":"erase","identifier":{"type":"email","value":"dora.quist@dq-mail.nl"}}`)
		type dest struct {
			Name        string   `json:"name"`
			Status      string   `json:"status"`
			Identifiers []string `json:"identifier_hashes"`
		}
		var outcome struct {
			Destinations []dest `json:"destinations"`
		}
		waitUntil(t, "the deletion message delivered", func() bool {
			_, b := do(t, "GET", m.URL()+"/api/v1/privacy/requests/"+er.ID, adminHeader(), "")
			var r requestJSON
			if json.Unmarshal(b, &r) != nil || json.Unmarshal(r.Outcome, &outcome) != nil {
				return false
			}
			return len(outcome.Destinations) == 2 && outcome.Destinations[0].Status == "delivered"
		})
		if d := outcome.Destinations; d[0].Name != "crm" || d[1].Name != "lake" || d[1].Status != "not_supported" || len(d[0].Identifiers) != 2 {
			t.Errorf("destinations outcome = %+v, want crm delivered with 2 identifier hashes, lake not_supported", d)
		}
		_, b := do(t, "GET", m.URL()+"/api/v1/privacy/requests/"+er.ID, adminHeader(), "")
		if strings.Contains(string(b), "dora") || strings.Contains(string(b), "user-dq-1") {
			t.Errorf("the request record holds an identifier in clear: %s", b)
		}

		dels := hook.deletes()
		if len(dels) != 1 {
			t.Fatalf("the webhook got %d deletion messages, want 1 (all: %v)", len(dels), hook.bodies)
		}
		var msg struct {
			Type string
			Data struct {
				RequestID   string `json:"request_id"`
				Identifiers []struct{ Type, Value string }
			}
		}
		if err := json.Unmarshal([]byte(dels[0]), &msg); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, id := range msg.Data.Identifiers {
			got[id.Type] = id.Value
		}
		if msg.Data.RequestID != er.ID || len(got) != 2 || got["user_id"] != "user-dq-1" || got["email"] != "dora.quist@dq-mail.nl" {
			t.Errorf("deletion message = %s, want the request ID, the user ID and the email sent", dels[0])
		}
		if strings.Contains(dels[0], "Dora Quist") {
			t.Errorf("the deletion message carries more than identifiers: %s", dels[0])
		}
		if hook.badSig != 0 {
			t.Errorf("%d messages failed signature verification", hook.badSig)
		}
		for _, id := range []string{hookID, fileID} {
			_, b := do(t, "GET", m.URL()+"/api/v1/destinations/"+id+"/deliveries", adminHeader(), "")
			if strings.Contains(string(b), "dq-1") || strings.Contains(string(b), "dora") {
				t.Errorf("deliveries of %s still list the erased person: %s", id, b)
			}
			if !strings.Contains(string(b), "msg_") {
				t.Errorf("deliveries of %s lost the other person's message too: %s", id, b)
			}
		}
	})
}
