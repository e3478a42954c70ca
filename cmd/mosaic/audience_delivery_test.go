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
	"time"

	segment "github.com/segmentio/analytics-go/v3"
)

// audienceReceiver is a real webhook receiver for audience messages: it
// verifies each signature with the test's own Standard Webhooks code and
// keeps what it accepted, in arrival order.
type audienceReceiver struct {
	mu     sync.Mutex
	secret string
	badSig int
	got    []audienceMessage
}

type audienceMessage struct {
	WebhookID string
	Type      string `json:"type"`
	Data      struct {
		Audience struct{ ID, Key string } `json:"audience"`
		Profile  struct {
			ID          string              `json:"id"`
			UserID      string              `json:"user_id"`
			Identifiers map[string][]string `json:"identifiers"`
			Traits      map[string]any      `json:"traits"`
			Hashed      map[string]string   `json:"hashed"`
		} `json:"profile"`
		Snapshot *struct{ ID string }   `json:"snapshot"`
		Cause    *struct{ Kind string } `json:"cause"`
	} `json:"data"`
}

func (h *audienceReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.secret == "" { // the secret is not known yet: "not ready", retried
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if !verifySignature(h.secret, r.Header, body) {
		h.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var m audienceMessage
	if err := json.Unmarshal(body, &m); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	m.WebhookID = r.Header.Get("webhook-id")
	h.got = append(h.got, m)
}

// find returns the accepted messages for a user.
func (h *audienceReceiver) find(user string) []audienceMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []audienceMessage
	for _, m := range h.got {
		if m.Data.Profile.UserID == user {
			out = append(out, m)
		}
	}
	return out
}

func consentContext(marketing bool) *segment.Context {
	return &segment.Context{Extra: map[string]any{"consent": map[string]any{"categoryPreferences": map[string]any{"marketing": marketing}}}}
}

// TestAudienceDeliveryEndToEnd: identifies sent with the real Segment SDK
// make profiles enter an audience; a webhook destination subscribed to it
// gets a snapshot of the members on connect, then a signed
// audience.entered for a new member and audience.exited when it leaves,
// with the destination's mapping; a profile that refused marketing gets
// nothing; a snapshot on demand sends the current members again.
func TestAudienceDeliveryEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args ...string) {
		rcv := &audienceReceiver{}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		m := startMain(t, append(args, "--webhook-allow-cidr", "127.0.0.0/8", "--delivery-retry", "50ms")...)
		src := createSource(t, m, "app")
		if status, body := do(t, "POST", m.URL()+"/api/v1/audiences", adminHeader(), `{"key":"dutch","condition":"trait country = \"NL\""}`); status != 201 {
			t.Fatalf("POST /api/v1/audiences = %d %s", status, body)
		}
		poll(t, m, "/api/v1/audiences/dutch", "live", func(b []byte) bool { return strings.Contains(string(b), `"state":"live"`) })

		seg, err := segment.NewWithConfig(src.WriteKey, segment.Config{Endpoint: m.URL(), Interval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer seg.Close()
		identify := func(user, country string, marketing bool) {
			t.Helper()
			err := seg.Enqueue(segment.Identify{UserId: user, Context: consentContext(marketing),
				Traits: segment.NewTraits().Set("country", country).SetEmail(" " + user + "@Example.com")})
			if err != nil {
				t.Fatal(err)
			}
		}
		// A member before the destination exists: it comes in the snapshot.
		identify("early", "NL", true)
		poll(t, m, "/api/v1/audiences/dutch/members", "early's entry", func(b []byte) bool { return strings.Contains(string(b), `"total":1`) })

		status, resp := do(t, "POST", m.URL()+"/api/v1/destinations", adminHeader(), fmt.Sprintf(`{"name":"crm","type":"webhook",
			"settings":{"url":%q},"purposes":["marketing"],"audiences":["dutch"],"mapping":{"traits":["country","email"],"hash":["email"]}}`, srv.URL))
		var dest struct{ ID, Secret string }
		if err := json.Unmarshal(resp, &dest); status != http.StatusCreated || err != nil {
			t.Fatalf("POST /api/v1/destinations = %d %s", status, resp)
		}
		rcv.mu.Lock()
		rcv.secret = dest.Secret
		rcv.mu.Unlock()
		if status, body := do(t, "POST", m.URL()+"/api/v1/destinations", adminHeader(), fmt.Sprintf(`{"name":"bad","type":"webhook",
			"settings":{"url":%q},"purposes":["marketing"],"audiences":["nope"]}`, srv.URL)); status != 400 || !strings.Contains(string(body), "nope") {
			t.Errorf("destination with an unknown audience = %d %s, want 400 naming it", status, body)
		}

		identify("ann", "NL", true)
		identify("bob", "NL", false)
		for start := time.Now(); len(rcv.find("early")) < 1 || len(rcv.find("ann")) < 1; time.Sleep(20 * time.Millisecond) {
			if time.Since(start) > 15*time.Second {
				_, st := do(t, "GET", m.URL()+"/api/v1/destinations/"+dest.ID+"/deliveries", adminHeader(), "")
				_, ch := do(t, "GET", m.URL()+"/api/v1/audiences/changes", adminHeader(), "")
				t.Fatalf("early's snapshot and ann's entry never arrived; deliveries %s; changes %s", st, ch)
			}
		}
		identify("ann", "DE", true)
		waitUntil(t, "ann's exit", func() bool { return len(rcv.find("ann")) >= 2 })

		early, ann := rcv.find("early"), rcv.find("ann")
		if e := early[0]; e.Type != "audience.entered" || e.Data.Snapshot == nil || e.Data.Audience.Key != "dutch" || !strings.HasPrefix(e.Data.Profile.ID, "p") {
			t.Errorf("early's message = %+v, want an audience.entered of dutch marked as a snapshot", e)
		}
		if a := ann[0]; a.Type != "audience.entered" || a.Data.Snapshot != nil || a.Data.Cause == nil || a.Data.Cause.Kind != "event" {
			t.Errorf("ann's first message = %+v, want audience.entered caused by an event", a)
		}
		if a := ann[1]; a.Type != "audience.exited" || a.Data.Profile.ID != ann[0].Data.Profile.ID {
			t.Errorf("ann's second message = %+v, want audience.exited of the same profile", a)
		}
		wantHash := "" // SHA-256 of the normalised email
		if a := ann[0]; a.Data.Profile.Traits["country"] != "NL" || a.Data.Profile.Traits["email"] != nil || len(a.Data.Profile.Identifiers["email"]) != 0 {
			t.Errorf("ann's profile = %+v, want country and the email only hashed", a.Data.Profile)
		} else {
			wantHash = a.Data.Profile.Hashed["email_sha256"]
		}
		if len(wantHash) != 64 {
			t.Errorf("ann's hashed email = %q, want a hex SHA-256", wantHash)
		}
		if ann[0].WebhookID == ann[1].WebhookID {
			t.Errorf("entry and exit share webhook-id %s", ann[0].WebhookID)
		}

		status, resp = do(t, "POST", m.URL()+"/api/v1/destinations/"+dest.ID+"/snapshot", adminHeader(), "")
		if status != http.StatusAccepted || !strings.Contains(string(resp), `"messages":2`) {
			t.Fatalf("POST snapshot = %d %s, want 202 with 2 messages (early and bob; ann left)", status, resp)
		}
		waitUntil(t, "the snapshot on demand", func() bool { return len(rcv.find("early")) >= 2 })
		if e := rcv.find("early"); e[1].Data.Snapshot == nil || e[1].Data.Snapshot.ID == e[0].Data.Snapshot.ID || e[1].WebhookID == e[0].WebhookID {
			t.Errorf("second snapshot of early = %+v, want a new snapshot with a new webhook-id", e[1])
		}
		code, out, errOut := runCLI(t, "destinations", "snapshot", dest.ID, "--server", m.URL(), "--admin-token", testToken)
		if code != 0 || !strings.Contains(out, `"messages": 2`) {
			t.Errorf("mosaic destinations snapshot = %d %s %s", code, out, errOut)
		}
		// bob refused marketing: his entry and both snapshots are blocked.
		checkStats(t, m, dest.ID, 5, 3)
		if got := rcv.find("bob"); len(got) != 0 {
			t.Errorf("bob got %d messages; he refused marketing", len(got))
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if rcv.badSig != 0 {
			t.Errorf("%d requests failed signature verification", rcv.badSig)
		}
	})
}
