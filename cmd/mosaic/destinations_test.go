package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver is a real webhook receiver: it verifies every request's
// Standard Webhooks signature with its own code, answers 503 while down,
// and records the messages it accepted.
type hookReceiver struct {
	mu      sync.Mutex
	secret  string
	down    bool
	refused int
	badSig  int
	got     []hookMessage // accepted, in arrival order
	ids     map[string]int
}

type hookMessage struct {
	WebhookID string
	Type      string `json:"type"`
	Data      struct {
		Event      string            `json:"event"`
		UserID     string            `json:"userId"`
		Properties map[string]any    `json:"properties"`
		Hashed     map[string]string `json:"hashed"`
	} `json:"data"`
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !verifySignature(h.secret, r.Header, body) {
		h.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if h.down {
		h.refused++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var m hookMessage
	if err := json.Unmarshal(body, &m); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	m.WebhookID = r.Header.Get("webhook-id")
	h.ids[m.WebhookID]++
	h.got = append(h.got, m)
}

// verifySignature checks the signature as a receiver following the
// Standard Webhooks spec would.
func verifySignature(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// track is one Tracking API call with a consent signal.
func trackBody(user string, i int, consent string) string {
	ctx := ""
	if consent != "" {
		ctx = `,"context":{"consent":{"categoryPreferences":` + consent + `}}`
	}
	return fmt.Sprintf(`{"type":"track","userId":%q,"event":"Order Completed","messageId":"%s-%d","properties":{"n":%d,"email":" %s@Example.com "}%s}`,
		user, user, i, i, user, ctx)
}

func TestWebhookDeliveryEndToEnd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args ...string) {
		rcv := &hookReceiver{down: true, ids: map[string]int{}}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		m := startMain(t, append(args, "--webhook-allow-cidr", "127.0.0.0/8", "--delivery-retry", "50ms")...)
		src := createSource(t, m, "web")

		body := fmt.Sprintf(`{"name":"crm hook","type":"webhook","settings":{"url":%q,"headers":{"Authorization":"Bearer s3cret"}},
			"purposes":["marketing"],"events":{"sources":[%q],"names":["Order Completed"]},"mapping":{"hash":["email"]}}`, srv.URL, src.ID)
		status, resp := do(t, "POST", m.URL()+"/api/v1/destinations", adminHeader(), body)
		var dest struct{ ID, Secret string }
		if err := json.Unmarshal(resp, &dest); status != http.StatusCreated || err != nil || !strings.HasPrefix(dest.Secret, "whsec_") {
			t.Fatalf("POST /api/v1/destinations = %d %s, want 201 with a whsec_ secret", status, resp)
		}
		rcv.mu.Lock()
		rcv.secret = dest.Secret
		rcv.mu.Unlock()
		status, resp = do(t, "GET", m.URL()+"/api/v1/destinations/"+dest.ID, adminHeader(), "")
		if status != 200 || strings.Contains(string(resp), dest.Secret) || strings.Contains(string(resp), "s3cret") {
			t.Errorf("GET destination = %d %s: want it without the secret and header values", status, resp)
		}

		const perUser = 30
		users := map[string]string{"alice": `{"marketing":true}`, "bob": `{"marketing":true,"advertising":false}`,
			"carol": `{"Marketing":true}`, "dave": `{"marketing":false}`, "erin": ""}
		wk := http.Header{"Content-Type": {"application/json"}}
		wk.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(src.WriteKey+":")))
		for i := range perUser {
			var batch []string
			for user, consent := range users {
				batch = append(batch, trackBody(user, i, consent))
			}
			status, resp := do(t, "POST", m.URL()+"/v1/batch", wk, `{"batch":[`+strings.Join(batch, ",")+`]}`)
			if status != 200 {
				t.Fatalf("POST /v1/batch = %d %s", status, resp)
			}
		}
		waitUntil(t, "the receiver to refuse deliveries while down", func() bool {
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			return rcv.refused >= 3
		})
		rcv.mu.Lock()
		rcv.down = false
		rcv.mu.Unlock()
		want := 3 * perUser
		waitUntil(t, "every consented message delivered", func() bool {
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			return len(rcv.ids) >= want
		})

		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if rcv.badSig != 0 {
			t.Errorf("%d requests failed signature verification", rcv.badSig)
		}
		next := map[string]int{}
		wantHash := map[string]string{}
		for u := range users {
			h := sha256.Sum256([]byte(u + "@example.com"))
			wantHash[u] = hex.EncodeToString(h[:])
		}
		for _, msg := range rcv.got {
			u := msg.Data.UserID
			n := int(msg.Data.Properties["n"].(float64))
			if u == "dave" || u == "erin" {
				t.Errorf("message for %s delivered: consent was not granted", u)
			}
			if n < next[u]-1 || n > next[u] {
				t.Errorf("%s: message %d arrived after %d: order per profile broken", u, n, next[u]-1)
			}
			if n == next[u] {
				next[u]++
			}
			if _, raw := msg.Data.Properties["email"]; raw || msg.Data.Hashed["email_sha256"] != wantHash[u] {
				t.Errorf("%s: properties %v hashed %v: want only the SHA-256 of the normalised email", u, msg.Data.Properties, msg.Data.Hashed)
			}
		}
		for id, n := range rcv.ids {
			if n > 1 {
				t.Errorf("message %s accepted %d times, want once", id, n)
			}
		}
		checkStats(t, m, dest.ID, want, 2*perUser)
	})
}

func checkStats(t *testing.T, m *Main, id string, delivered, blocked int) {
	t.Helper()
	var st struct {
		Delivered, Blocked int
		ByPurpose          map[string]int `json:"blocked_by_purpose"`
	}
	waitUntil(t, "stats to settle", func() bool {
		_, resp := do(t, "GET", m.URL()+"/api/v1/destinations/"+id+"/stats", adminHeader(), "")
		_ = json.Unmarshal(resp, &st)
		return st.Delivered == delivered && st.Blocked == blocked
	})
	if st.ByPurpose["marketing"] != blocked {
		t.Errorf("blocked by purpose = %v, want marketing: %d", st.ByPurpose, blocked)
	}
	code, out, errOut := runCLI(t, "destinations", "stats", id, "--server", m.URL(), "--admin-token", testToken)
	if code != 0 || !strings.Contains(out, fmt.Sprintf(`"delivered": %d`, delivered)) {
		t.Errorf("mosaic destinations stats = %d %s %s", code, out, errOut)
	}
}

// waitUntil polls cond; the deadline only bounds a broken test.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
