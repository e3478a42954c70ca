package activate

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/store"
)

// deleteReceiver records deletion messages and answers with codes in turn
// (200 once they run out).
type deleteReceiver struct {
	mu     sync.Mutex
	codes  []int
	bodies [][]byte
	heads  []http.Header
}

func (r *deleteReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies, r.heads = append(r.bodies, body), append(r.heads, req.Header.Clone())
	code := http.StatusOK
	if len(r.codes) > 0 {
		code, r.codes = r.codes[0], r.codes[1:]
	}
	w.WriteHeader(code)
}

func TestDeletions(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ok, flaky, gone := &deleteReceiver{}, &deleteReceiver{codes: []int{500}}, &deleteReceiver{codes: []int{410}}
	svc := New(st, Options{Now: clk.Now, HTTP: loopbackClient()})
	dest := func(name, typ string, settings map[string]any, mapping *Mapping) *View {
		t.Helper()
		v, err := svc.Create(ctx, Input{Name: name, Type: typ, Settings: settings, Purposes: []string{"marketing"},
			Events: &EventFilter{}, Mapping: mapping})
		if err != nil {
			t.Fatalf("Create(%s) = %v", name, err)
		}
		return v
	}
	var servers []*httptest.Server
	for _, h := range []http.Handler{ok, flaky, gone} {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		servers = append(servers, s)
	}
	dOK := dest("ok", "webhook", map[string]any{"url": servers[0].URL}, &Mapping{Hash: []string{"email"}})
	dFlaky := dest("flaky", "webhook", map[string]any{"url": servers[1].URL}, nil)
	dGone := dest("gone", "webhook", map[string]any{"url": servers[2].URL}, nil)
	dFile := dest("file", "file", map[string]any{"directory": t.TempDir()}, nil)
	dNever := dest("never", "webhook", map[string]any{"url": servers[0].URL}, nil)

	jane, janeHash := "jane@example.com", HashIdentifier("email", "jane@example.com")
	msgs := []store.OutboxMessage{
		// ok received only the hash of the email, with the user ID.
		{ID: "m1", DestinationID: dOK.ID, ProfileKey: "p0000000000000001", Type: "event", Payload: []byte(`{"data":{"userId":"u1","hashed":{"email_sha256":"` + janeHash + `"}}}`)},
		{ID: "m2", DestinationID: dFlaky.ID, ProfileKey: "p0000000000000001", Type: "event", Payload: []byte(`{"data":{"traits":{"email":"` + jane + `"}}}`)},
		{ID: "m3", DestinationID: dGone.ID, ProfileKey: "user_id:u1", Type: "event", Payload: []byte(`{"data":{"userId":"u1"}}`)},
		{ID: "m4", DestinationID: dFile.ID, ProfileKey: "p0000000000000001", Type: "event", Payload: []byte(`{"data":{"userId":"u1"}}`)},
		// never was not sent anything yet: its message is only removed.
		{ID: "m5", DestinationID: dNever.ID, ProfileKey: "p0000000000000001", Type: "event", Payload: []byte(`{"data":{"userId":"u1"}}`)},
		// someone else's message stays.
		{ID: "m6", DestinationID: dOK.ID, ProfileKey: "p0000000000000002", Type: "event", Payload: []byte(`{"data":{"userId":"u12"}}`)},
	}
	for i := range msgs {
		msgs[i].CreatedAt = clk.Now()
	}
	if err := st.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	var finish []store.DeliveryUpdate
	for _, m := range msgs[:4] {
		finish = append(finish, store.DeliveryUpdate{Seq: seqOf(t, st, m.DestinationID, m.ID), ProfileKey: m.ProfileKey, DestinationID: m.DestinationID,
			Status: store.DeliveryDelivered, Attempts: 1, DoneAt: clk.Now()})
	}
	if err := st.FinishDeliveries(ctx, finish); err != nil {
		t.Fatal(err)
	}

	del := NewDeletions(st, DeletionOptions{Now: clk.Now, HTTP: loopbackClient(), RetryBase: time.Second, MaxAge: time.Hour})
	hash := func(id identity.Identifier) string { return "h(" + id.String() + ")" }
	ids := []identity.Identifier{{Type: "user_id", Value: "u1"}, {Type: "email", Value: jane}}
	notices, err := del.Erase(ctx, "req1", []string{"p0000000000000001", "user_id:u1"}, ids, hash)
	if err != nil {
		t.Fatalf("Erase = %v", err)
	}
	status := func(ns []store.DeletionNotice) map[string]string {
		out := map[string]string{}
		for _, n := range ns {
			out[n.DestinationName] = n.Status
		}
		return out
	}
	want := map[string]string{"ok": "queued", "flaky": "queued", "gone": "queued", "file": "not_supported"}
	if got := status(notices); !maps.Equal(got, want) {
		t.Errorf("Erase statuses = %v, want %v", got, want)
	}
	for _, n := range notices {
		if n.DestinationName == "ok" && !slices.Equal(n.IdentifierHashes, []string{"h(user_id:u1)", "h(email:" + jane + ")"}) {
			t.Errorf("ok's notice hashes = %v", n.IdentifierHashes)
		}
	}
	left, _ := st.PersonOutbox(ctx, []string{"p0000000000000001", "p0000000000000002"}, nil)
	if len(left) != 1 || left[0].ID != "m6" {
		t.Errorf("outbox after Erase = %v, want only m6", left)
	}
	if again, err := del.Erase(ctx, "req1", []string{"p0000000000000001"}, ids, hash); err != nil || len(again) != 4 {
		t.Errorf("Erase again = %d notices, %v, want the same 4", len(again), err)
	}

	del.Deliver(ctx)
	want = map[string]string{"ok": "delivered", "flaky": "queued", "gone": "failed", "file": "not_supported"}
	got, _ := st.DeletionNotices(ctx, "req1")
	if s := status(got); !maps.Equal(s, want) {
		t.Errorf("after one round = %v, want %v", s, want)
	}
	clk.Advance(time.Minute)
	del.Deliver(ctx)
	got, _ = st.DeletionNotices(ctx, "req1")
	want["flaky"] = "delivered"
	if s := status(got); !maps.Equal(s, want) {
		t.Errorf("after the retry = %v, want %v", s, want)
	}
	for _, n := range got {
		if n.Payload != nil {
			t.Errorf("notice to %s keeps its payload after %s", n.DestinationName, n.Status)
		}
	}

	if len(ok.bodies) != 1 {
		t.Fatalf("ok received %d messages, want 1", len(ok.bodies))
	}
	if err := verify(secretOf(t, st, dOK.ID), ok.heads[0], ok.bodies[0]); err != nil {
		t.Errorf("deletion message signature: %v", err)
	}
	var msg struct {
		Type string        `json:"type"`
		Data DeleteMessage `json:"data"`
	}
	if err := json.Unmarshal(ok.bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	wantSubjects := []DeleteSubject{{Type: "user_id", Value: "u1"}, {Type: "email", SHA256: janeHash}}
	if msg.Type != "delete" || msg.Data.RequestID != "req1" || !slices.Equal(msg.Data.Identifiers, wantSubjects) {
		t.Errorf("deletion message = %+v, want type delete with %v", msg, wantSubjects)
	}
	if len(flaky.bodies) != 2 || string(flaky.bodies[0]) != string(flaky.bodies[1]) || flaky.heads[0].Get("webhook-id") != flaky.heads[1].Get("webhook-id") {
		t.Errorf("flaky got %d attempts; a retry must repeat the message and its webhook-id", len(flaky.bodies))
	}
}

func seqOf(t *testing.T, st store.OutboxStore, destID, id string) int64 {
	t.Helper()
	ds, err := st.Deliveries(context.Background(), destID, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == id {
			return d.Seq
		}
	}
	t.Fatalf("no message %s for %s", id, destID)
	return 0
}

func secretOf(t *testing.T, st store.OutboxStore, id string) string {
	t.Helper()
	sd, err := st.Destination(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var cfg storedConfig
	if err := json.Unmarshal(sd.Config, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Secret
}
