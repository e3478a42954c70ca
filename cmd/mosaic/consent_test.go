package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/identity"
)

type consentJSON struct {
	Profile  string `json:"profile"`
	Purposes map[string]struct {
		Granted  bool `json:"granted"`
		Default  bool `json:"default"`
		Decision *struct {
			Source        string `json:"source"`
			PolicyVersion string `json:"policy_version"`
			Signal        string `json:"signal"`
		} `json:"decision"`
	} `json:"purposes"`
	History []struct {
		Purpose    string    `json:"purpose"`
		Granted    bool      `json:"granted"`
		Source     string    `json:"source"`
		Time       time.Time `json:"time"`
		Actor      string    `json:"actor"`
		Overridden bool      `json:"overridden"`
	} `json:"history"`
}

func (c consentJSON) granted() map[string]bool {
	out := map[string]bool{}
	for p, s := range c.Purposes {
		out[p] = s.Granted
	}
	return out
}

// getConsent polls a profile's consent until check accepts it.
func getConsent(t *testing.T, m *Main, ref, query string, check func(consentJSON) bool) consentJSON {
	t.Helper()
	var c consentJSON
	var status int
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) {
		status, body = do(t, "GET", m.URL()+"/api/v1/profiles/"+url.PathEscape(ref)+"/consent"+query, adminHeader(), "")
		if status == 200 && json.Unmarshal(body, &c) == nil && check(c) {
			return c
		}
	}
	t.Fatalf("consent of %s%s = %d %s; never as expected", ref, query, status, body)
	return c
}

func postConsentBatch(t *testing.T, m *Main, key string, header http.Header, batch string) {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range header {
		h[k] = v
	}
	if status, b := do(t, "POST", m.URL()+"/v1/batch", h, `{"writeKey":"`+key+`","batch":`+batch+`}`); status != 200 {
		t.Fatalf("batch = %d %s", status, b)
	}
}

// TestConsentEndToEnd drives consent through the real server: a CMP's
// categories and the Sec-GPC header on a device, a login linking it to a
// person, an invalid TC string, a grant and a withdrawal through the API,
// the sticky GPC opt-out, the state at a past moment, and the same answers
// after a restart and after 'mosaic replay'.
func TestConsentEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, serveArgs ...string) {
		dir := t.TempDir()
		m := startMain(t, append([]string{"--data", dir}, serveArgs...)...)
		src := createSource(t, m, "web")

		postConsentBatch(t, m, src.WriteKey, http.Header{"Sec-Gpc": {"1"}}, `[
			{"type":"page","anonymousId":"dev-1","name":"Home","context":{"consent":{"policyVersion":"2026-01",
				"categoryPreferences":{"Analytics":true,"Advertising":true,"DataSharing":true}}}}]`)
		dev := getConsent(t, m, "anonymous_id:dev-1", "", func(c consentJSON) bool { return c.Purposes["analytics"].Granted })
		want := map[string]bool{"necessary": true, "analytics": true, "personalisation": false, "marketing": false, "advertising": true, "sale_sharing": false}
		if got := dev.granted(); !equalMaps(got, want) {
			t.Errorf("device consent = %v, want %v (GPC beats the DataSharing category)", got, want)
		}
		if d := dev.Purposes["sale_sharing"].Decision; d == nil || d.Source != "gpc" || d.PolicyVersion != "2026-01" {
			t.Errorf("sale_sharing decision = %+v, want from gpc under policy 2026-01", d)
		}
		beforeLogin := time.Now().UTC()
		time.Sleep(5 * time.Millisecond)

		// The login links the device to the person; the earlier spec
		// sample TC string is not valid TCF 2.2, so it is no consent.
		postConsentBatch(t, m, src.WriteKey, nil, `[
			{"type":"identify","anonymousId":"dev-1","userId":"u-1","traits":{"email":"ann@shop.nl"},
			 "context":{"consent":{"tcfString":"COvFyGBOvFyGBAbAAAENAPCAAOAAAAAAAAAAAEEUACCKAAA"}}}]`)
		person := getConsent(t, m, "user_id:u-1", "", func(c consentJSON) bool { return !c.Purposes["analytics"].Granted })
		if person.Profile != dev.Profile || person.Purposes["analytics"].Decision.Source != "tcf" || person.Purposes["advertising"].Granted {
			t.Errorf("after login = %+v, want the device's profile with TCF denials", person)
		}

		// One API call grants marketing and withdraws advertising.
		status, body := do(t, "PUT", m.URL()+"/api/v1/profiles/email:ann@shop.nl/consent", adminHeader(),
			`{"purposes":{"marketing":true,"advertising":false},"policy_version":"2026-02","source":"cmp"}`)
		var put consentJSON
		if err := json.Unmarshal(body, &put); status != 200 || err != nil || !put.Purposes["marketing"].Granted || put.Purposes["advertising"].Granted {
			t.Fatalf("PUT consent = %d %s, want marketing granted, advertising denied at once", status, body)
		}
		// A device grant after GPC does not opt back in; an explicit one does.
		postConsentBatch(t, m, src.WriteKey, nil, `[{"type":"track","userId":"u-1","event":"Saved",
			"context":{"consent":{"categoryPreferences":{"Analytics":true,"DataSharing":true,"Marketing":true}}}}]`)
		c := getConsent(t, m, "user_id:u-1", "", func(c consentJSON) bool { return c.Purposes["analytics"].Granted })
		if c.Purposes["sale_sharing"].Granted {
			t.Errorf("sale_sharing granted by a device category after GPC: %+v", c.Purposes["sale_sharing"])
		}
		for _, bad := range []string{`{"purposes":{}}`, `{"purposes":{"spam":true}}`, `{"purposes":{"marketing":true},"source":"guess"}`, `{"purpose":{"marketing":true}}`} {
			if status, body := do(t, "PUT", m.URL()+"/api/v1/profiles/user_id:u-1/consent", adminHeader(), bad); status != 400 {
				t.Errorf("PUT %s = %d %s, want 400", bad, status, body)
			}
		}
		if status, _ := do(t, "PUT", m.URL()+"/api/v1/profiles/user_id:nobody/consent", adminHeader(), `{"purposes":{"marketing":true}}`); status != 404 {
			t.Errorf("PUT consent of an unknown profile = %d, want 404", status)
		}
		do(t, "PUT", m.URL()+"/api/v1/profiles/user_id:u-1/consent", adminHeader(), `{"purposes":{"sale_sharing":true}}`)
		final := getConsent(t, m, "user_id:u-1", "", func(c consentJSON) bool { return c.Purposes["sale_sharing"].Granted })
		want = map[string]bool{"necessary": true, "analytics": true, "personalisation": false, "marketing": true, "advertising": false, "sale_sharing": true}
		if got := final.granted(); !equalMaps(got, want) {
			t.Errorf("final consent = %v, want %v", got, want)
		}

		// The past: before the login, the device's consent as it was.
		past := getConsent(t, m, "user_id:u-1", "?at="+beforeLogin.Format(time.RFC3339Nano), func(consentJSON) bool { return true })
		if got := past.granted(); !equalMaps(got, dev.granted()) {
			t.Errorf("consent at %s = %v, want the device's %v", beforeLogin, got, dev.granted())
		}
		for _, h := range past.History {
			if h.Time.After(beforeLogin) {
				t.Errorf("history at %s has a later decision %+v", beforeLogin, h)
			}
		}

		// The consent gate other parts call.
		id, err := identity.ParseProfileID(final.Profile)
		if err != nil {
			t.Fatal(err)
		}
		for purposes, want := range map[string]bool{"marketing": true, "advertising": false, "nonsense": false} {
			if got, err := m.Consent.Granted(context.Background(), uint64(id), []string{purposes}); got != want || err != nil {
				t.Errorf("Granted(%s) = %v, %v, want %v", purposes, got, err, want)
			}
		}

		// Restart, then replay: the same consent and history.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Fatal(err)
		}
		m2 := startMain(t, append([]string{"--data", dir}, serveArgs...)...)
		again := getConsent(t, m2, "user_id:u-1", "", func(consentJSON) bool { return true })
		if !equalMaps(again.granted(), want) || len(again.History) != len(final.History) {
			t.Errorf("after restart = %v with %d records, want %v with %d", again.granted(), len(again.History), want, len(final.History))
		}
		if err := m2.Close(ctx); err != nil {
			t.Fatal(err)
		}
		args := []string{"replay", "--data", dir}
		if len(serveArgs) > 0 {
			args = append(args, serveArgs...)
		}
		if code, out, errOut := runCLI(t, args...); code != 0 {
			t.Fatalf("replay = %d %q %q", code, out, errOut)
		}
		m3 := startMain(t, append([]string{"--data", dir}, serveArgs...)...)
		replayed := getConsent(t, m3, "user_id:u-1", "", func(consentJSON) bool { return true })
		if !equalMaps(replayed.granted(), want) || len(replayed.History) != len(final.History) {
			t.Errorf("after replay = %v with %d records, want %v with %d", replayed.granted(), len(replayed.History), want, len(final.History))
		}
	})
}

func equalMaps(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
