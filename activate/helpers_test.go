package activate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "mosaic.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// loopbackClient is the guarded client with loopback allowed, as
// --webhook-allow-cidr 127.0.0.0/8 gives.
func loopbackClient() *http.Client {
	return Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}.Client(8)
}

// verify checks a Standard Webhooks signature, written here from the spec
// independently of Sign: split the header on spaces, keep v1 entries,
// compare in constant time.
func verify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing webhook headers")
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, entry := range strings.Split(sigs, " ") {
		version, sig, ok := strings.Cut(entry, ",")
		if ok && version == "v1" && hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no matching signature")
}

// reply is what the receiver answers to one attempt.
type reply struct {
	code       int
	retryAfter string
	delay      time.Duration // before answering
	reset      bool          // close the connection without answering
}

// receiver is a real HTTP server answering each message ID's attempts as
// scripted (200 once the script runs out) and recording what it got.
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	secret string

	mu       sync.Mutex
	script   map[string][]reply
	attempts map[string]int
	got      []received // successful deliveries, in arrival order
	badSigs  int
	down     bool // answer 503 to everything, as a receiver that is down
}

type received struct {
	id   string
	body []byte
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t, script: map[string][]reply{}, attempts: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) on(id string, replies ...reply) {
	r.mu.Lock()
	r.script[id] = replies
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	if err := verify(r.secret, req.Header, body); err != nil {
		r.badSigs++
	}
	n := r.attempts[id]
	r.attempts[id]++
	rep := reply{code: 200}
	if s := r.script[id]; n < len(s) {
		rep = s[n]
	}
	if r.down {
		rep = reply{code: 503}
	}
	if rep.code == 200 {
		r.got = append(r.got, received{id: id, body: body})
	}
	r.mu.Unlock()
	if rep.delay > 0 {
		time.Sleep(rep.delay)
	}
	if rep.reset {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	if rep.code >= 300 && rep.code < 400 {
		w.Header().Set("Location", "https://elsewhere.example/")
	}
	w.WriteHeader(rep.code)
}

func (r *receiver) deliveredIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, len(r.got))
	for i, g := range r.got {
		ids[i] = g.id
	}
	return ids
}

// waitFor polls cond until it holds; the deadline only bounds a broken
// test, it is not a timing assertion.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// enqueue adds messages for (id, profile) pairs to dest.
func enqueue(t testing.TB, st store.OutboxStore, dest string, now time.Time, pairs ...string) {
	t.Helper()
	var msgs []store.OutboxMessage
	for i := 0; i < len(pairs); i += 2 {
		msgs = append(msgs, store.OutboxMessage{ID: pairs[i], DestinationID: dest, ProfileKey: pairs[i+1], Type: "event",
			Payload: []byte(`{"type":"event.track","data":{"id":"` + pairs[i] + `"}}`), CreatedAt: now})
	}
	if err := st.Enqueue(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
}

// allowAll grants every purpose.
type allowAll struct{}

func (allowAll) Granted(context.Context, string, []string) (bool, error) { return true, nil }
