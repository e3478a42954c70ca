package main

import (
	"strings"
	"testing"
)

// TestAudienceConsentReadsPrivacyModel: the condition consent(...) follows
// the privacy consent model, so decisions made through the consent API
// (which no event's categoryPreferences carries) and the Global Privacy
// Control header move profiles in and out of audiences.
func TestAudienceConsentReadsPrivacyModel(t *testing.T) {
	m := startMain(t)
	src := createSource(t, m, "web")
	for _, a := range []string{`{"key":"mkt","condition":"consent marketing"}`, `{"key":"sellable","condition":"consent sale_sharing"}`} {
		if status, body := do(t, "POST", m.URL()+"/api/v1/audiences", adminHeader(), a); status != 201 {
			t.Fatalf("POST audience %s = %d %s", a, status, body)
		}
	}
	poll(t, m, "/api/v1/audiences/mkt", "live", func(b []byte) bool { return strings.Contains(string(b), `"state":"live"`) })
	postConsentBatch(t, m, src.WriteKey, nil, `[{"type":"identify","userId":"u-c1","traits":{"plan":"gold"}},
		{"type":"identify","userId":"u-c2","context":{"consent":{"categoryPreferences":{"sale_sharing":true}}}}]`)
	members := func(aud, want string) {
		t.Helper()
		poll(t, m, "/api/v1/audiences/"+aud+"/members", aud+" with "+want, func(b []byte) bool { return strings.Contains(string(b), want) })
	}
	members("mkt", `"total":0`)
	members("sellable", `"total":1`)

	put := func(ref, body string) {
		t.Helper()
		if status, b := do(t, "PUT", m.URL()+"/api/v1/profiles/"+ref+"/consent", adminHeader(), body); status != 200 {
			t.Fatalf("PUT consent %s = %d %s", body, status, b)
		}
	}
	put("user_id:u-c1", `{"purposes":{"marketing":true}}`)
	members("mkt", `"total":1`)
	put("user_id:u-c1", `{"purposes":{"marketing":false}}`)
	members("mkt", `"total":0`)

	// GPC on collection opts the profile out of sale_sharing.
	postConsentBatch(t, m, src.WriteKey, map[string][]string{"Sec-GPC": {"1"}}, `[{"type":"track","userId":"u-c2","event":"Viewed"}]`)
	members("sellable", `"total":0`)
}

// TestConfiguredPurposes: --purposes sets the installation's purposes,
// and every place that names one refuses others: the consent API,
// destination purposes and the consent(...) condition.
func TestConfiguredPurposes(t *testing.T) {
	m := startMain(t, "--purposes", "necessary:granted,marketing,support_chat")
	status, b := do(t, "GET", m.URL()+"/api/v1/privacy/purposes", adminHeader(), "")
	if status != 200 || !strings.Contains(string(b), "support_chat") || strings.Contains(string(b), "advertising") {
		t.Errorf("GET purposes = %d %s, want necessary, marketing, support_chat", status, b)
	}
	src := createSource(t, m, "web")
	postConsentBatch(t, m, src.WriteKey, nil, `[{"type":"identify","userId":"u-p1"}]`)
	getProfile(t, m, "user_id:u-p1", func(profileJSON) bool { return true })
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"PUT", "/api/v1/profiles/user_id:u-p1/consent", `{"purposes":{"support_chat":true}}`, 200},
		{"PUT", "/api/v1/profiles/user_id:u-p1/consent", `{"purposes":{"advertising":true}}`, 400},
		{"POST", "/api/v1/audiences", `{"key":"chat","condition":"consent support_chat"}`, 201},
		{"POST", "/api/v1/audiences", `{"key":"ads","condition":"consent advertising"}`, 400},
		{"POST", "/api/v1/audiences", `{"key":"ads2","condition":{"consent":"advertising"}}`, 400},
		{"POST", "/api/v1/audiences/preview", `{"condition":"consent marketting"}`, 400},
		{"POST", "/api/v1/destinations", `{"name":"d1","type":"file","settings":{"directory":"x"},"purposes":["advertising"],"events":{}}`, 400},
		{"POST", "/api/v1/destinations", `{"name":"d2","type":"file","settings":{"directory":"x"},"purposes":["support_chat"],"events":{}}`, 201},
	} {
		status, b := do(t, c.method, m.URL()+c.path, adminHeader(), c.body)
		if status != c.want {
			t.Errorf("%s %s %s = %d %s, want %d", c.method, c.path, c.body, status, b, c.want)
		}
		if status == 400 && c.want == 400 && !strings.Contains(string(b), "support_chat") {
			t.Errorf("%s %s: the error does not list the purposes: %s", c.method, c.path, b)
		}
	}
	poll(t, m, "/api/v1/audiences/chat/members", "the member", func(b []byte) bool { return strings.Contains(string(b), `"total":1`) })
}
