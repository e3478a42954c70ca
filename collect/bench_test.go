package collect

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/collect/collecttest"
)

// benchEvent is the benchmarks' browser track call of about 700 bytes.
func benchEvent(i int) string { return collecttest.BrowserEvent(i, "203.0.113.7") }

// benchServe sends body to path b.N times and reports the cost per event,
// with an event log that counts and stores nothing.
func benchServe(b *testing.B, path string, body []byte, events int, headers ...string) {
	app := &collecttest.CountingLog{}
	h := NewHandler(app, newMemSources(testSource), &memQuarantine{}, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	collecttest.NewRequest(h, path, testKey, body, headers...).Loop(b, events)
	if got := app.N.Load(); got != int64(b.N*events) {
		b.Fatalf("appended %d events, want %d", got, b.N*events)
	}
}

func batchBody(n int) []byte { return collecttest.BatchBody(n, benchEvent) }

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
