// Package collecttest holds what the Tracking API's benchmarks share,
// here and in the packages that measure what they add to it (clean): the
// browser event they send, its batch, and the loop that serves a request
// and reports the cost per event.
package collecttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// CountingLog is an event log that counts records and stores nothing, so
// benchmarks measure the handler's own cost (the log has its own).
type CountingLog struct{ N atomic.Int64 }

// Append counts records.
func (c *CountingLog) Append(_ context.Context, records [][]byte) (uint64, error) {
	return uint64(c.N.Add(int64(len(records)))), nil
}

// BrowserEvent is a realistic browser track call of about 700 bytes, with
// a user agent, the address ip in context.ip, and context.traits.
func BrowserEvent(i int, ip string) string {
	return fmt.Sprintf(`{"type":"track","messageId":"ajs-next-1714564800000-%08d","anonymousId":"4b8e0c2a-7a7e-4d2a-9f0e-1f2e3d4c5b6a","userId":"user-%d",`+
		`"event":"Product Viewed","timestamp":"2024-05-01T11:59:58.000Z","sentAt":"2024-05-01T12:00:00.000Z",`+
		`"properties":{"product_id":"p-%d","sku":"SKU-1234","category":"Shoes","name":"Trail Runner","brand":"Acme","price":89.99,"currency":"EUR","position":3},`+
		`"context":{"ip":"%s","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",`+
		`"page":{"path":"/shoes/trail-runner","referrer":"https://www.google.com/","search":"","title":"Trail Runner | Acme","url":"https://shop.example/shoes/trail-runner"},`+
		`"library":{"name":"analytics.js","version":"next-1.84.3"},"locale":"en-US","traits":{"email":"ada@example.com","plan":"pro"}},"integrations":{}}`, i, i%1000, i%50, ip)
}

// BatchBody is a batch of the events ev(0) … ev(n-1) with a sentAt.
func BatchBody(n int, ev func(i int) string) []byte {
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = ev(i)
	}
	return []byte(`{"batch":[` + strings.Join(msgs, ",") + `],"sentAt":"2024-05-01T12:00:00.000Z"}`)
}

// Request is a reusable POST of a body to a Tracking API handler.
type Request struct {
	h    http.Handler
	r    *http.Request
	body []byte
	rd   bytes.Reader
	w    discardWriter
}

// NewRequest prepares a POST of body to path of h, authenticated with
// writeKey, with more headers as name, value pairs.
func NewRequest(h http.Handler, path, writeKey string, body []byte, headers ...string) *Request {
	r := httptest.NewRequest(http.MethodPost, path, nil)
	r.Header.Set("Content-Type", "application/json")
	r.SetBasicAuth(writeKey, "")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	r.ContentLength = int64(len(body))
	return &Request{h: h, r: r, body: body, w: discardWriter{h: make(http.Header)}}
}

// Serve sends the request once and returns the response's status.
func (q *Request) Serve() int {
	q.rd.Reset(q.body)
	q.r.Body = io.NopCloser(&q.rd)
	clear(q.w.h)
	q.h.ServeHTTP(&q.w, q.r)
	return q.w.status
}

// Loop serves the request b.N times, failing on a status other than 200,
// and reports the CPU time per event (cpu-ns/event: user and system, all
// threads, which on a shared machine distorts less than wall time) and
// the wall time per event (ns/event).
func (q *Request) Loop(b *testing.B, events int) {
	b.SetBytes(int64(len(q.body)))
	b.ReportAllocs()
	cpu := CPUTime()
	for b.Loop() {
		if s := q.Serve(); s != http.StatusOK {
			b.Fatalf("status %d", s)
		}
	}
	b.ReportMetric(float64((CPUTime()-cpu).Nanoseconds())/float64(b.N*events), "cpu-ns/event")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
}

// discardWriter is a ResponseWriter that keeps nothing but the status, so
// benchmarks do not measure a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

// CPUTime is the CPU time (user and system) the process used so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
