package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mosaic-cdp/mosaic"
)

// countingLog is a benchmark-only Appender: it counts records and stores
// nothing, so the benchmarks measure the handler's own cost. The event
// log's cost is measured by its own benchmarks.
type countingLog struct{ n atomic.Int64 }

func (c *countingLog) Append(_ context.Context, records [][]byte) (uint64, error) {
	return uint64(c.n.Add(int64(len(records)))), nil
}

// benchEvent is a realistic browser track call of about 700 bytes.
func benchEvent(i int) string {
	return fmt.Sprintf(`{"type":"track","messageId":"ajs-next-1714564800000-%08d","anonymousId":"4b8e0c2a-7a7e-4d2a-9f0e-1f2e3d4c5b6a","userId":"user-%d",`+
		`"event":"Product Viewed","timestamp":"2024-05-01T11:59:58.000Z","sentAt":"2024-05-01T12:00:00.000Z",`+
		`"properties":{"product_id":"p-%d","sku":"SKU-1234","category":"Shoes","name":"Trail Runner","brand":"Acme","price":89.99,"currency":"EUR","position":3},`+
		`"context":{"ip":"203.0.113.7","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",`+
		`"page":{"path":"/shoes/trail-runner","referrer":"https://www.google.com/","search":"","title":"Trail Runner | Acme","url":"https://shop.example/shoes/trail-runner"},`+
		`"library":{"name":"analytics.js","version":"next-1.84.3"},"locale":"en-US","traits":{"email":"ada@example.com","plan":"pro"}},"integrations":{}}`, i, i%1000, i%50)
}

// discardWriter is a ResponseWriter that keeps nothing but the status, so
// the benchmark does not measure a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

// benchServe sends body to path b.N times and reports the cost per event.
func benchServe(b *testing.B, path string, body []byte, events int, headers ...string) {
	app := &countingLog{}
	h := NewHandler(app, newMemSources(testSource), &memQuarantine{}, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	r := httptest.NewRequest(http.MethodPost, path, nil)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", basic(testKey))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	r.ContentLength = int64(len(body))
	var rd bytes.Reader
	w := &discardWriter{h: make(http.Header)}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(&rd)
		clear(w.h)
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
	if got := app.n.Load(); got != int64(b.N*events) {
		b.Fatalf("appended %d events, want %d", got, b.N*events)
	}
}

func batchBody(n int) []byte {
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = benchEvent(i)
	}
	return []byte(`{"batch":[` + strings.Join(msgs, ",") + `],"sentAt":"2024-05-01T12:00:00.000Z"}`)
}

// BenchmarkBatch: a 100-event batch (~70 KB) through ServeHTTP, with the
// counting Appender.
func BenchmarkBatch(b *testing.B) {
	benchServe(b, "/v1/batch", batchBody(100), 100)
}

// BenchmarkBatchGzip: the same batch gzipped, as the RudderStack SDKs send it.
func BenchmarkBatchGzip(b *testing.B) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(batchBody(100))
	_ = zw.Close()
	benchServe(b, "/v1/batch", buf.Bytes(), 100, "Content-Encoding", "gzip")
}

// BenchmarkTrack: one ~700-byte /v1/track call.
func BenchmarkTrack(b *testing.B) {
	benchServe(b, "/v1/track", []byte(benchEvent(1)), 1)
}

// BenchmarkNormalize: validation and normalisation alone, per event.
func BenchmarkNormalize(b *testing.B) {
	body := []byte(benchEvent(1))
	var s scanner
	var d decoded
	n := normalizer{newID: counterIDs(), lim: testLimits()}
	var out []byte
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decodeSingle(&s, &d, body); err != nil {
			b.Fatal(err)
		}
		_ = n.reset("track", &d.env, testNow)
		var err *mosaic.Error
		if out, _, err = n.normalize(out[:0], &d.items[0], d.members); err != nil {
			b.Fatal(err)
		}
	}
}
