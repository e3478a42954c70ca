package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}}
}

// TestRolesEndToEnd: role tokens made through the API; a marketer sees
// profiles with personal data masked unless granted, cannot change consent
// or read the audit log; the audit log names who did what; the configured
// admin token keeps working.
func TestRolesEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		m := startMain(t, serveArgs...)
		src := createSource(t, m, "web")
		postConsentBatch(t, m, src.WriteKey, nil, `[{"type":"identify","userId":"u-5","traits":{"email":"bo@shop.nl","name":"Bo","plan":"gold"}}]`)
		getProfile(t, m, "user_id:u-5", func(profileJSON) bool { return true })
		tokens := map[string]string{}
		for name, body := range map[string]string{
			"mk":     `{"name":"mk","role":"marketer"}`,
			"mk-pii": `{"name":"mk-pii","role":"marketer","pii":true}`,
			"dpo":    `{"name":"dpo","role":"privacy"}`,
		} {
			status, b := do(t, "POST", m.URL()+"/api/v1/tokens", adminHeader(), body)
			var out struct{ Token string }
			if status != 201 || json.Unmarshal(b, &out) != nil {
				t.Fatalf("POST tokens %s = %d %s", body, status, b)
			}
			tokens[name] = out.Token
		}
		status, b := do(t, "GET", m.URL()+"/api/v1/profiles/user_id:u-5", bearer(tokens["mk"]), "")
		if status != 200 || strings.Contains(string(b), "bo@shop.nl") || strings.Contains(string(b), `"Bo"`) || !strings.Contains(string(b), `"gold"`) {
			t.Errorf("marketer reads profile = %d %s; want email and name masked, plan shown", status, b)
		}
		status, b = do(t, "GET", m.URL()+"/api/v1/profiles/user_id:u-5", bearer(tokens["mk-pii"]), "")
		if status != 200 || !strings.Contains(string(b), "bo@shop.nl") {
			t.Errorf("marketer with PII reads profile = %d %s; want the email", status, b)
		}
		if status, _ := do(t, "PUT", m.URL()+"/api/v1/profiles/user_id:u-5/consent", bearer(tokens["mk"]), `{"purposes":{"marketing":true}}`); status != 403 {
			t.Errorf("marketer PUT consent = %d, want 403", status)
		}
		if status, _ := do(t, "GET", m.URL()+"/api/v1/audit", bearer(tokens["mk"]), ""); status != 403 {
			t.Errorf("marketer GET audit = %d, want 403", status)
		}
		if status, b := do(t, "PUT", m.URL()+"/api/v1/profiles/user_id:u-5/consent", bearer(tokens["dpo"]), `{"purposes":{"marketing":true}}`); status != 200 || !strings.Contains(string(b), `"actor":"dpo"`) {
			t.Errorf("privacy officer PUT consent = %d %s, want 200 with actor dpo", status, b)
		}
		entries := auditEntries(t, m, "?actor=mk")
		var results []string
		for _, e := range entries {
			results = append(results, e.Action+" "+e.Result)
		}
		joined := strings.Join(results, "\n")
		if !strings.Contains(joined, "GET /api/v1/profiles/{ref} ok") || !strings.Contains(joined, "PUT /api/v1/profiles/{ref}/consent denied") {
			t.Errorf("audit of the marketer = %q, want the read and the denied change", results)
		}
	})
}
