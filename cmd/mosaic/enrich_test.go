package main

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/clean/mmdbtest"
)

const iphoneAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

// TestEnrichment: an event sent through the Tracking API from a browser
// behind a trusted proxy comes back from the admin API, in the event list
// and on the profile's timeline, with the browser, OS, device type and
// country of its user agent and address; a source set to truncate keeps
// only the address's network. The profile keeps them as last-seen traits,
// which an audience selects on.
func TestEnrichment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "geo.mmdb")
	err := mmdbtest.Write(db, "dbip-city", []mmdbtest.Network{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Record: map[string]any{"country_code": "NL", "city": "Amsterdam"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := startMain(t, "--geoip-db", db, "--trusted-proxies", "127.0.0.1")
	web, private := createSource(t, m, "web"), createSource(t, m, "private")
	status, body := do(t, "POST", m.URL()+"/api/v1/audiences", adminHeader(),
		`{"key":"dutch_mobile","condition":"trait last_device_type = \"mobile\" and trait last_country = \"NL\""}`)
	if status != http.StatusCreated {
		t.Fatalf("POST audiences = %d %s", status, body)
	}
	status, body = do(t, "PUT", m.URL()+"/api/v1/sources/"+private.ID+"/cleaning", adminHeader(), `{"ip":"truncate"}`)
	if status != http.StatusOK {
		t.Fatalf("PUT cleaning = %d %s", status, body)
	}
	for _, src := range []testSource{web, private} {
		h := http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {"192.0.2.77"}}
		msg := `{"writeKey":"` + src.WriteKey + `","userId":"u-` + src.Name + `","event":"Viewed","context":{"userAgent":"` + iphoneAgent + `"}}`
		if status, body := do(t, "POST", m.URL()+"/v1/track", h, msg); status != http.StatusOK {
			t.Fatalf("POST /v1/track = %d %s", status, body)
		}
	}

	for _, c := range []struct {
		src    testSource
		wantIP string
	}{{web, "192.0.2.77"}, {private, "192.0.2.0"}} {
		evs := allEvents(t, m, c.src.ID, 1)
		if len(evs) != 1 {
			t.Fatalf("source %s: %d events, want 1", c.src.Name, len(evs))
		}
		checkEnriched(t, "GET /api/v1/events of "+c.src.Name, evs[0].Context, c.wantIP)
	}

	// The timeline also shows the audience's "Audience Entered" once the
	// profile qualifies, so the tracked event is picked out by name.
	type timelineEvent struct {
		Name    string `json:"name"`
		Message struct {
			Context map[string]any `json:"context"`
		} `json:"message"`
	}
	var viewed []timelineEvent
	deadline := time.Now().Add(10 * time.Second)
	for len(viewed) == 0 && time.Now().Before(deadline) {
		status, body = do(t, "GET", m.URL()+"/api/v1/profiles/user_id:u-web/events", adminHeader(), "")
		var timeline struct {
			Events []timelineEvent `json:"events"`
		}
		if status == http.StatusOK {
			json.Unmarshal(body, &timeline)
		}
		viewed = viewed[:0]
		for _, ev := range timeline.Events {
			if ev.Name == "Viewed" {
				viewed = append(viewed, ev)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(viewed) != 1 {
		t.Fatalf("timeline of user_id:u-web = %d %s, want one Viewed event", status, body)
	}
	checkEnriched(t, "the profile's timeline", viewed[0].Message.Context, "192.0.2.77")

	p := getProfile(t, m, "user_id:u-web", func(p profileJSON) bool { return p.Traits["last_os"] != nil })
	got, _ := json.Marshal(p.Traits)
	want := `{"last_browser":"Mobile Safari","last_city":"Amsterdam","last_country":"NL","last_device_type":"mobile","last_os":"iOS"}`
	if string(got) != want {
		t.Errorf("traits of user_id:u-web = %s, want %s", got, want)
	}
	poll(t, m, "/api/v1/audiences/dutch_mobile/members", "both members", func(b []byte) bool { return strings.Contains(string(b), `"total":2`) })
}

func checkEnriched(t *testing.T, where string, ctx map[string]any, wantIP string) {
	t.Helper()
	got, _ := json.Marshal(map[string]any{"browser": ctx["browser"], "os": ctx["os"], "device": ctx["device"], "location": ctx["location"], "ip": ctx["ip"]})
	want := `{"browser":{"name":"Mobile Safari","version":"17.4"},"device":{"manufacturer":"Apple","model":"iPhone","type":"mobile"},` +
		`"ip":"` + wantIP + `","location":{"city":"Amsterdam","country":"NL"},"os":{"name":"iOS","version":"17.4"}}`
	if string(got) != want {
		t.Errorf("%s: context =\n %s\nwant\n %s", where, got, want)
	}
}

// TestEnrichmentFlags: a geolocation database that cannot be opened, or a
// bad proxy list, stops the server at start with the reason.
func TestEnrichmentFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.mmdb")
	code, _, stderr := runCLI(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--geoip-db", missing)
	if code == 0 || !strings.Contains(stderr, "--geoip-db") || !strings.Contains(stderr, missing) {
		t.Errorf("serve --geoip-db %s = %d, stderr %q; want a failure naming the flag and the file", missing, code, stderr)
	}
	code, _, stderr = runCLI(t, "serve", "--data", t.TempDir(), "--trusted-proxies", "10.0.0.0/33")
	if code == 0 || !strings.Contains(stderr, "--trusted-proxies") {
		t.Errorf("serve --trusted-proxies 10.0.0.0/33 = %d, stderr %q; want a failure naming the flag", code, stderr)
	}
}
