package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The server's own record of how long lookups took: the admin API's
// histogram of answer times for the lookup route. Beside the probe's
// figures it tells the server's share of a lookup from the client's and
// the machine's (the probe usually shares the server's cores).
const (
	serverHistogram = "mosaic_api_request_seconds"
	lookupRoute     = "GET /api/v1/profiles/{ref}"
)

// bucketCounts are a histogram's cumulative counts by upper bound, in the
// order the server lists them.
type bucketCounts struct {
	bounds []float64 // seconds; the last is +Inf
	counts []uint64
}

// ServerLatency is the server's histogram of lookups during the probe:
// the 50th and 99th percentiles as the smallest bucket bound that holds
// them (nil: above every bound), and how many took more than 5 ms.
type ServerLatency struct {
	Count   uint64   `json:"count"`
	P50LeMs *float64 `json:"p50_at_most_ms"`
	P99LeMs *float64 `json:"p99_at_most_ms"`
	Over5Ms uint64   `json:"over_5ms"`
}

// lookupBuckets reads the server's lookup histogram from /metrics: empty
// until the server answered a lookup (or if it keeps none).
func (p *prober) lookupBuckets(ctx context.Context) (b bucketCounts, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.base.String()+"/metrics", nil)
	if err != nil {
		return b, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return b, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return b, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	return parseLookupBuckets(resp.Body)
}

// parseLookupBuckets finds the lookup route's buckets in a Prometheus text
// exposition; none if it holds no lookup yet.
func parseLookupBuckets(r io.Reader) (b bucketCounts, err error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return b, fmt.Errorf("read the server's metrics: %w", err)
	}
	f := families[serverHistogram]
	if f == nil {
		return b, nil // no request answered yet, or a server without it
	}
	for _, m := range f.GetMetric() {
		route := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" {
				route = l.GetValue()
			}
		}
		if route != lookupRoute || m.GetHistogram() == nil {
			continue
		}
		h := m.GetHistogram()
		for _, bk := range h.GetBucket() {
			b.bounds = append(b.bounds, bk.GetUpperBound())
			b.counts = append(b.counts, bk.GetCumulativeCount())
		}
		if len(b.bounds) == 0 || !math.IsInf(b.bounds[len(b.bounds)-1], 1) {
			b.bounds = append(b.bounds, math.Inf(1))
			b.counts = append(b.counts, h.GetSampleCount())
		}
		return b, nil
	}
	return b, nil // requests answered, but no lookup yet
}

// serverLatency is what the server recorded between before and after.
func serverLatency(before, after bucketCounts) (ServerLatency, error) {
	if len(after.bounds) == 0 {
		return ServerLatency{}, fmt.Errorf("the server reports no lookup times (%s: a version without it?)", serverHistogram)
	}
	if len(before.bounds) == 0 { // no lookup before: all zero
		before = bucketCounts{bounds: after.bounds, counts: make([]uint64, len(after.counts))}
	}
	if len(before.bounds) != len(after.bounds) {
		return ServerLatency{}, fmt.Errorf("the server's lookup histogram changed its buckets during the probe (restarted?)")
	}
	diff := make([]uint64, len(after.counts))
	for i := range diff {
		if after.counts[i] < before.counts[i] {
			return ServerLatency{}, fmt.Errorf("the server's lookup histogram went back during the probe (restarted?)")
		}
		diff[i] = after.counts[i] - before.counts[i]
	}
	var s ServerLatency
	s.Count = diff[len(diff)-1]
	at := func(q float64) *float64 {
		need := uint64(math.Ceil(q * float64(s.Count)))
		for i, c := range diff {
			if c >= need && !math.IsInf(after.bounds[i], 1) {
				v := after.bounds[i] * 1000
				return &v
			}
		}
		return nil
	}
	if s.Count > 0 {
		s.P50LeMs, s.P99LeMs = at(0.50), at(0.99)
	}
	fiveMs := -1
	for i, bound := range after.bounds {
		if bound == 0.005 {
			fiveMs = i
		}
	}
	if fiveMs < 0 {
		return s, fmt.Errorf("the server's lookup histogram has no 5 ms bucket")
	}
	s.Over5Ms = s.Count - diff[fiveMs]
	return s, nil
}
