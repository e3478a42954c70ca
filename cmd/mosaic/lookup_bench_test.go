package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/mosaic-cdp/mosaic/synth"
)

// lookupServer is the real server with the journeys of some thousands of
// people ingested through the Tracking API, processed and saved, and a
// prediction fit done: what a web page's profile lookup meets.
type lookupServer struct {
	m    *Main
	h    http.Handler // the server's own handler, as net/http calls it
	refs []string     // identifiers "type:value" of the journeys, as mosaic-load probe picks them
}

// lookupPeople is how many people the lookup benchmark's server knows.
const lookupPeople = 5000

func newLookupServer(tb testing.TB, people int) *lookupServer {
	tb.Helper()
	var cli CLI
	parser, err := kong.New(&cli, kong.Configuration(configLoader), kong.DefaultEnvars("MOSAIC"), kong.Exit(func(int) {}))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := parser.Parse([]string{"serve", "--data", tb.TempDir(), "--addr", "127.0.0.1:0", "--admin-token", testToken, "--log-level", "error"}); err != nil {
		tb.Fatal(err)
	}
	m := NewMain(cli.Serve, io.Discard)
	if err := m.Open(context.Background()); err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	s := &lookupServer{m: m, h: m.httpServer.Handler}
	key := s.createSource(tb)
	s.ingest(tb, key, people)
	if err := m.Settle(context.Background()); err != nil {
		tb.Fatal(err)
	}
	s.fit(tb)
	s.keepFound(tb)
	return s
}

// keepFound drops the refs no profile has (junk values such as
// user_id:undefined are not identifiers), which probe counts apart.
func (s *lookupServer) keepFound(tb testing.TB) {
	tb.Helper()
	found := s.refs[:0]
	for _, ref := range s.refs {
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, lookupRequest(ref))
		switch w.Code {
		case http.StatusOK:
			found = append(found, ref)
		case http.StatusNotFound, http.StatusBadRequest:
		default:
			tb.Fatalf("GET /api/v1/profiles/%s = %d %s", ref, w.Code, w.Body)
		}
	}
	if len(found) < len(s.refs)/2 {
		tb.Fatalf("%d of %d identifiers found, want most", len(found), len(s.refs))
	}
	s.refs = found
}

// serve runs a request through the server's handler.
func (s *lookupServer) serve(tb testing.TB, method, path, body string, header http.Header) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.7:41000"
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	return w
}

func (s *lookupServer) createSource(tb testing.TB) string {
	tb.Helper()
	w := s.serve(tb, "POST", "/api/v1/sources", `{"name":"shop"}`, adminHeader())
	var src testSource
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &src) != nil {
		tb.Fatalf("POST /api/v1/sources = %d %s, want 201", w.Code, w.Body)
	}
	return src.WriteKey
}

// ingest sends the journeys of people (mosaic-load's generator, seed 7)
// in batches of 500, plus group calls that put every tenth person in an
// account, and keeps the identifiers mosaic-load probe would look up.
func (s *lookupServer) ingest(tb testing.TB, writeKey string, people int) {
	tb.Helper()
	o := synth.DefaultOptions()
	o.People, o.Seed = people, 7
	g := synth.New(o)
	h := http.Header{"Content-Type": {"application/json"},
		"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(writeKey+":"))}}
	seen := map[string]bool{}
	var batch [][]byte
	send := func() {
		body := `{"batch":[` + string(bytes.Join(batch, []byte(","))) + `]}`
		if w := s.serve(tb, "POST", "/v1/batch", body, h); w.Code != http.StatusOK {
			tb.Fatalf("POST /v1/batch = %d %s", w.Code, w.Body)
		}
		batch = batch[:0]
	}
	for n := 0; ; n++ {
		m, ok := g.NextMessage()
		if !ok {
			break
		}
		batch = append(batch, bytes.Clone(m.JSON))
		var msg struct {
			UserID      string `json:"userId"`
			AnonymousID string `json:"anonymousId"`
		}
		if json.Unmarshal(m.JSON, &msg) != nil {
			tb.Fatalf("synth message does not decode: %s", m.JSON)
		}
		for _, ref := range []string{"user_id:" + msg.UserID, "anonymous_id:" + msg.AnonymousID} {
			if !strings.HasSuffix(ref, ":") && !seen[ref] {
				seen[ref] = true
				s.refs = append(s.refs, ref)
			}
		}
		if msg.UserID != "" && n%10 == 0 {
			batch = append(batch, fmt.Appendf(nil, `{"type":"group","userId":%q,"groupId":"acct-%d","traits":{"name":"Account %d","plan":"team","seats":%d,"active":true,"tags":["b2b","eu"]}}`,
				msg.UserID, n%97, n%97, n%50))
		}
		if len(batch) >= 500 {
			send()
		}
	}
	if len(batch) > 0 {
		send()
	}
}

// fit runs a prediction fit and waits for it, so profiles carry their
// predicted traits as on a server that has been up a while.
func (s *lookupServer) fit(tb testing.TB) {
	tb.Helper()
	if w := s.serve(tb, "POST", "/api/v1/predictions/fit", `{}`, adminHeader()); w.Code != http.StatusAccepted && w.Code != http.StatusOK {
		tb.Fatalf("POST /api/v1/predictions/fit = %d %s", w.Code, w.Body)
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		w := s.serve(tb, "GET", "/api/v1/predictions/fit", "", adminHeader())
		var run struct{ State, Error string }
		_ = json.Unmarshal(w.Body.Bytes(), &run)
		switch run.State {
		case "done":
			return
		case "failed":
			tb.Fatalf("prediction fit failed: %s", run.Error)
		}
	}
	tb.Fatal("prediction fit not done after 2 minutes")
}

// lookupRequest is GET /api/v1/profiles/{ref} with the admin token, as a
// web page's backend sends it.
func lookupRequest(ref string) *http.Request {
	req := httptest.NewRequest("GET", "/api/v1/profiles/"+url.PathEscape(ref), nil)
	req.RemoteAddr = "192.0.2.7:41000"
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "shop-backend/1.0")
	return req
}

// discardWriter is a ResponseWriter that keeps only the status and the
// size of the body, so the benchmark measures the server, not a recorder.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// BenchmarkProfileLookup measures GET /api/v1/profiles/{type}:{value}
// through the real server's handler: admin token check, audit of the
// read, identifier normalisation, graph lookup, the profile read from its
// partition, the predicted traits and the JSON answer. A request is built
// once per identifier, as net/http builds one per request before the
// handler runs; the audit log's group commits run beside the loop and
// count in its time and allocations.
func BenchmarkProfileLookup(b *testing.B) {
	s := newLookupServer(b, lookupPeople)
	reqs := make([]*http.Request, len(s.refs))
	for i, ref := range s.refs {
		reqs[i] = lookupRequest(ref)
	}
	w := &discardWriter{header: http.Header{}}
	var size int
	b.ReportAllocs()
	cpu0 := processCPU(b)
	for i := 0; b.Loop(); i++ {
		clear(w.header)
		w.status, w.n = 0, 0
		s.h.ServeHTTP(w, reqs[(i*7919)%len(reqs)])
		if w.status != http.StatusOK {
			b.Fatalf("GET %s = %d", reqs[(i*7919)%len(reqs)].URL.Path, w.status)
		}
		size += w.n
	}
	s.m.Audit.Flush() // the audit entries' writes are part of a lookup's cost
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(size)/float64(b.N), "B/answer")
}

// processCPU is the user and system CPU time the process has used, in
// nanoseconds: on a machine whose cores the stages share, what a lookup
// costs them, whichever goroutine spends it.
func processCPU(tb testing.TB) int64 {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
