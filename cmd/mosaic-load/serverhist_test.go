package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mosaic-cdp/mosaic/api"
)

// exposition returns what the server's /metrics would answer after
// observing lookups and other requests (seconds).
func exposition(t *testing.T, lookups, others []float64) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	h := api.NewLatency(reg) // the server's own histogram, buckets and all
	for _, s := range lookups {
		h.WithLabelValues(lookupRoute).Observe(s)
	}
	for _, s := range others {
		h.WithLabelValues("GET /api/v1/sources").Observe(s)
	}
	w := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	return w.Body.String()
}

func buckets(t *testing.T, text string) bucketCounts {
	t.Helper()
	b, err := parseLookupBuckets(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServerLatency(t *testing.T) {
	many := func(n int, s float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	cases := []struct {
		name           string
		before, during []float64 // lookups before the probe, and during it
		others         []float64
		count          uint64
		p50, p99       float64 // ms; -1: above every bucket
		over5          uint64
	}{
		{"all fast", nil, many(100, 0.0001), many(50, 2), 100, 0.2, 0.2, 0},
		{"one in a hundred slow", nil, append(many(99, 0.0004), 0.006), nil, 100, 0.5, 0.5, 1},
		{"two in a hundred slow", nil, append(many(98, 0.0004), 0.006, 0.02), nil, 100, 0.5, 7.5, 2},
		{"before the probe does not count", many(1000, 0.3), many(10, 0.0015), nil, 10, 2, 2, 0},
		{"beyond every bucket", nil, many(3, 60), nil, 3, -1, -1, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := buckets(t, exposition(t, c.before, c.others))
			after := buckets(t, exposition(t, append(c.before, c.during...), c.others))
			s, err := serverLatency(before, after)
			if err != nil {
				t.Fatal(err)
			}
			ms := func(p *float64) float64 {
				if p == nil {
					return -1
				}
				return *p
			}
			if s.Count != c.count || ms(s.P50LeMs) != c.p50 || ms(s.P99LeMs) != c.p99 || s.Over5Ms != c.over5 {
				t.Errorf("got count %d, p50 ≤ %v, p99 ≤ %v, over 5 ms %d; want %d, %v, %v, %d",
					s.Count, ms(s.P50LeMs), ms(s.P99LeMs), s.Over5Ms, c.count, c.p50, c.p99, c.over5)
			}
		})
	}
}

func TestServerLatencyRestart(t *testing.T) {
	before := buckets(t, exposition(t, []float64{0.001, 0.001}, nil))
	after := buckets(t, exposition(t, []float64{0.001}, nil))
	if _, err := serverLatency(before, after); err == nil {
		t.Error("a histogram that went back (a restarted server) gave no error")
	}
}

func TestServerLatencyMissing(t *testing.T) {
	none := buckets(t, "# HELP other_metric x\n# TYPE other_metric counter\nother_metric 1\n")
	if _, err := serverLatency(none, none); err == nil {
		t.Error("a server without the histogram gave figures")
	}
	if _, err := parseLookupBuckets(strings.NewReader("not { an exposition")); err == nil {
		t.Error("garbage parsed without an error")
	}
}
