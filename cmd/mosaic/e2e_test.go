package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	rudder "github.com/rudderlabs/analytics-go/v4"
	segment "github.com/segmentio/analytics-go/v3"
)

type storedEvent struct {
	Seq         uint64         `json:"seq"`
	SourceID    string         `json:"source_id"`
	MessageID   string         `json:"messageId"`
	Type        string         `json:"type"`
	Event       string         `json:"event"`
	UserID      string         `json:"userId"`
	AnonymousID string         `json:"anonymousId"`
	ReceivedAt  time.Time      `json:"receivedAt"`
	Timestamp   time.Time      `json:"timestamp"`
	Traits      map[string]any `json:"traits"`
	Properties  map[string]any `json:"properties"`
	Context     map[string]any `json:"context"`
}

// allEvents pages through /api/v1/events for a source until want events
// arrived or the deadline passed.
func allEvents(t *testing.T, m *Main, sourceID string, want int) []storedEvent {
	t.Helper()
	var evs []storedEvent
	var after uint64
	deadline := time.Now().Add(15 * time.Second)
	for len(evs) < want && time.Now().Before(deadline) {
		url := fmt.Sprintf("%s/api/v1/events?source=%s&after=%d&limit=1000&wait=1s", m.URL(), sourceID, after)
		status, body := do(t, "GET", url, adminHeader(), "")
		if status != http.StatusOK {
			t.Fatalf("GET events = %d %s", status, body)
		}
		var page struct {
			Events    []storedEvent `json:"events"`
			NextAfter uint64        `json:"next_after"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, page.Events...)
		after = page.NextAfter
	}
	return evs
}

// callback records the SDK's verdict on each message.
type callback struct {
	mu       sync.Mutex
	ok, fail int
	errs     []error
}

func (c *callback) success() { c.mu.Lock(); c.ok++; c.mu.Unlock() }
func (c *callback) failure(err error) {
	c.mu.Lock()
	c.fail++
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

type segmentCallback struct{ *callback }

func (c segmentCallback) Success(segment.Message)            { c.success() }
func (c segmentCallback) Failure(_ segment.Message, e error) { c.failure(e) }

type rudderCallback struct{ *callback }

func (c rudderCallback) Success(rudder.Message)            { c.success() }
func (c rudderCallback) Failure(_ rudder.Message, e error) { c.failure(e) }

func TestSegmentAndRudderStackSDKs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args ...string) {
		m := startMain(t, args...)
		src := createSource(t, m, "sdk-test")

		segCB := &callback{}
		seg, err := segment.NewWithConfig(src.WriteKey, segment.Config{
			Endpoint: m.URL(), Interval: 50 * time.Millisecond, BatchSize: 20, Callback: segmentCallback{segCB},
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 25 {
			if err := seg.Enqueue(segment.Track{UserId: "seg-user", Event: "Order Completed",
				Properties: segment.NewProperties().Set("revenue", float64(i)+0.5).Set("currency", "EUR")}); err != nil {
				t.Fatal(err)
			}
		}
		if err := seg.Enqueue(segment.Identify{UserId: "seg-user", Traits: segment.NewTraits().SetEmail("Ada@Example.com")}); err != nil {
			t.Fatal(err)
		}
		if err := seg.Close(); err != nil {
			t.Fatalf("segment Close: %v", err)
		}

		rudCB := &callback{}
		rud, err := rudder.NewWithConfig(src.WriteKey, rudder.Config{
			DataPlaneUrl: m.URL(), Interval: 50 * time.Millisecond, BatchSize: 20, Callback: rudderCallback{rudCB},
		})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if err := rud.Enqueue(rudder.Page{AnonymousId: "anon-1", Name: "Home"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := rud.Enqueue(rudder.Alias{PreviousId: "anon-1", UserId: "rud-user"}); err != nil {
			t.Fatal(err)
		}
		if err := rud.Close(); err != nil {
			t.Fatalf("rudder Close: %v", err)
		}

		if segCB.ok != 26 || segCB.fail != 0 {
			t.Errorf("segment SDK: %d ok, %d failed (%v), want 26 ok", segCB.ok, segCB.fail, segCB.errs)
		}
		if rudCB.ok != 11 || rudCB.fail != 0 {
			t.Errorf("rudderstack SDK: %d ok, %d failed (%v), want 11 ok", rudCB.ok, rudCB.fail, rudCB.errs)
		}

		evs := allEvents(t, m, src.ID, 37)
		counts := map[string]int{}
		seen := map[string]bool{}
		var lastSeq uint64
		for _, e := range evs {
			counts[e.Type]++
			if e.SourceID != src.ID || e.MessageID == "" || e.ReceivedAt.IsZero() || e.Timestamp.IsZero() {
				t.Errorf("event %+v: want source_id, messageId, receivedAt and timestamp set", e)
			}
			if seen[e.MessageID] {
				t.Errorf("messageId %s shown twice", e.MessageID)
			}
			if e.Seq <= lastSeq {
				t.Errorf("seq %d after %d: want increasing", e.Seq, lastSeq)
			}
			seen[e.MessageID], lastSeq = true, e.Seq
		}
		want := map[string]int{"track": 25, "identify": 1, "page": 10, "alias": 1}
		for typ, n := range want {
			if counts[typ] != n {
				t.Errorf("%s events = %d, want %d (all: %v)", typ, counts[typ], n, counts)
			}
		}

		status, body := do(t, "GET", m.URL()+"/api/v1/sources/"+src.ID+"/stats", adminHeader(), "")
		var stats struct{ Received, Stored, Duplicates, Rejected int64 }
		if err := json.Unmarshal(body, &stats); status != 200 || err != nil {
			t.Fatalf("stats = %d %s", status, body)
		}
		if stats.Stored != 37 || stats.Received != 37 || stats.Duplicates != 0 || stats.Rejected != 0 {
			t.Errorf("stats = %+v, want 37 received and stored", stats)
		}
	})
}

func TestDuplicatesSeenOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args ...string) {
		m := startMain(t, args...)
		src := createSource(t, m, "dupes")
		h := http.Header{"Content-Type": {"application/json"}}
		body := `{"writeKey":"` + src.WriteKey + `","batch":[
		{"type":"track","event":"A","userId":"u1","messageId":"m-1"},
		{"type":"track","event":"A","userId":"u1","messageId":"m-1"},
		{"type":"track","event":"B","userId":"u1","messageId":"m-2"}]}`
		for range 3 {
			if status, b := do(t, "POST", m.URL()+"/v1/batch", h, body); status != 200 {
				t.Fatalf("batch = %d %s", status, b)
			}
		}
		evs := allEvents(t, m, src.ID, 2)
		time.Sleep(200 * time.Millisecond) // a wrongly shown duplicate would be processed by now
		evs = append(evs, allEvents(t, m, src.ID, 0)...)
		if len(evs) != 2 {
			t.Fatalf("events = %d, want 2 (each messageId once): %+v", len(evs), evs)
		}
		var stats struct{ Received, Stored, Duplicates int64 }
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			_, b := do(t, "GET", m.URL()+"/api/v1/sources/"+src.ID+"/stats", adminHeader(), "")
			_ = json.Unmarshal(b, &stats)
			if stats.Duplicates == 7 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if stats.Stored != 2 || stats.Duplicates != 7 || stats.Received != 9 {
			t.Errorf("stats = %+v, want 2 stored, 7 duplicates, 9 received", stats)
		}
	})
}

func TestAdminAuthentication(t *testing.T) {
	m := startMain(t)
	src := createSource(t, m, "auth")
	basic := func(user string) http.Header {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, "")
		return http.Header{"Authorization": req.Header["Authorization"], "Content-Type": {"application/json"}}
	}
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   string
		want   int
	}{
		{"admin without token", "GET", "/api/v1/sources", nil, "", 401},
		{"admin with wrong token", "GET", "/api/v1/sources", http.Header{"Authorization": {"Bearer nope"}}, "", 401},
		{"admin with write key as basic auth", "GET", "/api/v1/sources", basic(src.WriteKey), "", 401},
		{"admin with write key as bearer", "GET", "/api/v1/sources", http.Header{"Authorization": {"Bearer " + src.WriteKey}}, "", 401},
		{"admin with token", "GET", "/api/v1/sources", adminHeader(), "", 200},
		{"tracking with admin token", "POST", "/v1/track", adminHeader(), `{"userId":"u","event":"E"}`, 401},
		{"tracking with admin token as basic", "POST", "/v1/track", basic(testToken), `{"userId":"u","event":"E"}`, 401},
		{"tracking with write key", "POST", "/v1/track", basic(src.WriteKey), `{"userId":"u","event":"E"}`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, tt.method, m.URL()+tt.path, tt.header, tt.body)
			if status != tt.want {
				t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, status, body, tt.want)
			}
			if status >= 400 {
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("error body %s: want {\"error\": {\"code\", \"message\"}}", body)
				}
			}
		})
	}
}

func TestSourceLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args ...string) {
		m := startMain(t, args...)
		src := createSource(t, m, "web")
		track := func() int {
			h := http.Header{"Content-Type": {"application/json"}}
			status, _ := do(t, "POST", m.URL()+"/v1/track", h, `{"writeKey":"`+src.WriteKey+`","userId":"u","event":"E"}`)
			return status
		}
		if got := track(); got != 200 {
			t.Fatalf("track with new key = %d, want 200", got)
		}
		if status, body := do(t, "GET", m.URL()+"/api/v1/sources/"+src.ID, adminHeader(), ""); status != 200 || !strings.Contains(string(body), src.WriteKey) {
			t.Errorf("GET source = %d %s", status, body)
		}
		if status, body := do(t, "POST", m.URL()+"/api/v1/sources", adminHeader(), `{"name":"web"}`); status != 409 {
			t.Errorf("create duplicate name = %d %s, want 409", status, body)
		}
		if status, body := do(t, "POST", m.URL()+"/api/v1/sources", adminHeader(), `{"name":""}`); status != 400 {
			t.Errorf("create empty name = %d %s, want 400", status, body)
		}
		if status, body := do(t, "DELETE", m.URL()+"/api/v1/sources/"+src.ID, adminHeader(), ""); status != 204 {
			t.Fatalf("DELETE = %d %s, want 204", status, body)
		}
		if got := track(); got != 401 {
			t.Errorf("track with deleted key = %d, want 401", got)
		}
		if status, _ := do(t, "GET", m.URL()+"/api/v1/sources/"+src.ID, adminHeader(), ""); status != 404 {
			t.Errorf("GET deleted source = %d, want 404", status)
		}
	})
}

func TestRejectedAreQuarantined(t *testing.T) {
	forEachBackend(t, func(t *testing.T, args ...string) {
		m := startMain(t, args...)
		src := createSource(t, m, "bad")
		h := http.Header{"Content-Type": {"application/json"}}
		body := `{"writeKey":"` + src.WriteKey + `","batch":[
		{"type":"track","event":"Good","userId":"u1"},
		{"type":"track","userId":"u1"},
		{"type":"track","event":"NoId"}]}`
		status, resp := do(t, "POST", m.URL()+"/v1/batch", h, body)
		if status != 200 || !strings.Contains(string(resp), `"rejected"`) {
			t.Fatalf("batch = %d %s, want 200 listing the rejected", status, resp)
		}
		if evs := allEvents(t, m, src.ID, 1); len(evs) != 1 || evs[0].Event != "Good" {
			t.Errorf("stored = %+v, want only the good event", evs)
		}
		status, resp = do(t, "GET", m.URL()+"/api/v1/sources/"+src.ID+"/rejected", adminHeader(), "")
		var q struct {
			Rejected []struct {
				Index int             `json:"index"`
				Code  string          `json:"code"`
				Event json.RawMessage `json:"event"`
			} `json:"rejected"`
		}
		if err := json.Unmarshal(resp, &q); status != 200 || err != nil {
			t.Fatalf("rejected = %d %s", status, resp)
		}
		if len(q.Rejected) != 2 || q.Rejected[0].Index != 1 || q.Rejected[1].Index != 2 {
			t.Fatalf("rejected = %s, want indexes 1 and 2", resp)
		}
		if !strings.Contains(string(q.Rejected[1].Event), "NoId") {
			t.Errorf("rejected raw event = %s, want the event as sent", q.Rejected[1].Event)
		}
	})
}

func TestOperationsEndpoints(t *testing.T) {
	m := startMain(t)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		status, body := do(t, "GET", m.URL()+path, nil, "")
		if status != 200 {
			t.Errorf("GET %s = %d %s, want 200", path, status, body)
		}
	}
	if status, _ := do(t, "GET", m.URL()+"/debug/pprof/", nil, ""); status != 401 {
		t.Errorf("pprof without the admin token = %d, want 401", status)
	}
	if status, _ := do(t, "GET", m.URL()+"/debug/pprof/heap", adminHeader(), ""); status != 200 {
		t.Errorf("pprof heap with the admin token = %d, want 200", status)
	}
	_, body := do(t, "GET", m.URL()+"/metrics", nil, "")
	for _, metric := range []string{"mosaic_eventlog_bytes", "mosaic_eventlog_commit_seconds", "mosaic_dedupe_lag_records", "mosaic_profiles_lag_records", "go_goroutines"} {
		if !strings.Contains(string(body), metric) {
			t.Errorf("/metrics lacks %s", metric)
		}
	}
}
