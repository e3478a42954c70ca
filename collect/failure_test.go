package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mosaic-cdp/mosaic"
)

func TestTooManyRequests(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.MaxInFlight = 1 })
	e.log.gate, e.log.entered = make(chan struct{}), make(chan struct{}, 1)
	var wg sync.WaitGroup
	var first int
	wg.Go(func() { first = e.post(t, "/v1/track", []byte(`{"userId":"u","event":"E"}`)).Code })
	<-e.log.entered // the first request holds the only slot, waiting on the log
	w := e.post(t, "/v1/track", []byte(`{"userId":"u","event":"E"}`))
	if resp := decodeResponse(t, w); w.Code != 429 || resp.Error.Code != mosaic.ETOOMANY || w.Header().Get("Retry-After") != "1" {
		t.Errorf("second request = %d %s (Retry-After %q), want 429 too_many_requests with Retry-After 1", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
	close(e.log.gate)
	wg.Wait()
	if first != 200 {
		t.Errorf("first request = %d, want 200", first)
	}
	e.log.entered = nil
	if w := e.post(t, "/v1/track", []byte(`{"userId":"u","event":"E"}`)); w.Code != 200 {
		t.Errorf("request after the slot was freed = %d, want 200", w.Code)
	}
}

// errNoSpaceLike is how a log might report a full disk without wrapping
// syscall.ENOSPC.
var errNoSpaceLike = errors.New("eventlog: no space left")

func TestStorageFailures(t *testing.T) {
	tests := []struct {
		name      string
		logErr    error
		quarErr   error
		srcErr    error
		body      []byte
		isNoSpace func(error) bool
		code      string
	}{
		{name: "disk full", logErr: fmt.Errorf("append: %w", syscall.ENOSPC), body: batchOf(track("m1")), code: mosaic.EUNAVAILABLE},
		{name: "disk full by IsNoSpace", logErr: errNoSpaceLike, body: batchOf(track("m1")), code: mosaic.EUNAVAILABLE,
			isNoSpace: func(err error) bool { return errors.Is(err, errNoSpaceLike) }},
		{name: "log closed", logErr: errors.New("eventlog: closed"), body: batchOf(track("m1")), code: mosaic.EUNAVAILABLE},
		{name: "quarantine failing", quarErr: errors.New("database is locked"), body: batchOf(track("m1"), `{}`), code: mosaic.EUNAVAILABLE},
		{name: "source lookup failing", srcErr: errors.New("database is locked"), body: batchOf(track("m1")), code: mosaic.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.IsNoSpace = tt.isNoSpace })
			e.log.setFail(tt.logErr)
			e.q.fail, e.src.fail = tt.quarErr, tt.srcErr
			w := e.post(t, "/v1/batch", tt.body)
			resp := decodeResponse(t, w)
			if w.Code != 503 || resp.Error.Code != tt.code || w.Header().Get("Retry-After") == "" {
				t.Fatalf("POST = %d %s (Retry-After %q), want 503 %s with Retry-After", w.Code, w.Body, w.Header().Get("Retry-After"), tt.code)
			}
			if n := len(e.log.events(t)); n != 0 {
				t.Errorf("stored %d events, want none", n)
			}
			// Once storage works again, so does the API, with no restart.
			e.log.setFail(nil)
			e.q.fail, e.src.fail = nil, nil
			if w := e.post(t, "/v1/batch", batchOf(track("m2"))); w.Code != 200 {
				t.Errorf("POST after recovery = %d %s, want 200", w.Code, w.Body)
			}
		})
	}
}

func TestNoSpaceSaysSo(t *testing.T) {
	e := newTestEnv(t)
	e.log.setFail(fmt.Errorf("fdatasync: %w", syscall.ENOSPC))
	w := e.post(t, "/v1/track", []byte(`{"userId":"u","event":"E"}`))
	if resp := decodeResponse(t, w); resp.Error.Message != errNoSpace.Message || w.Header().Get("Retry-After") != "5" {
		t.Errorf("disk-full answer = %s (Retry-After %q), want the disk-full message and Retry-After 5", w.Body, w.Header().Get("Retry-After"))
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newTestEnv(t, func(o *Options) { o.Registerer = reg })
	body := batchOf(track("m1"), track("m2"), `{"type":"track"}`)
	e.post(t, "/v1/batch", body)
	e.post(t, "/v1/t", []byte(`{}`), "Authorization", "Bearer x")
	// A second handler on the same registry shares the metrics.
	NewHandler(e.log, e.src, e.q, Options{Registerer: reg})
	want := map[string]float64{
		`mosaic_collect_requests_total{route="/v1/batch",status="200"}`: 1,
		`mosaic_collect_requests_total{route="/v1/t",status="401"}`:     1,
		`mosaic_collect_events_total{}`:                                 2,
		`mosaic_collect_received_bytes_total{}`:                         float64(len(body)),
		`mosaic_collect_rejected_events_total{code="missing_identity"}`: 1,
		`mosaic_collect_append_seconds_count{}`:                         1,
	}
	got := gather(t, reg)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("metric %s = %v, want %v", k, got[k], v)
		}
	}
}

// gather flattens a registry's metrics to "name{labels}" -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels bytes.Buffer
			for i, l := range m.GetLabel() {
				if i > 0 {
					labels.WriteByte(',')
				}
				fmt.Fprintf(&labels, "%s=%q", l.GetName(), l.GetValue())
			}
			name := mf.GetName()
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[name+"{"+labels.String()+"}"] = m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[name+"_count{"+labels.String()+"}"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestRequestAfterClientGone(t *testing.T) {
	e := newTestEnv(t)
	e.log.gate = make(chan struct{}) // never opens: only the context ends the wait
	r := httptest.NewRequest(http.MethodPost, "/v1/track", bytes.NewReader([]byte(`{"userId":"u","event":"E"}`)))
	r.Header.Set("Authorization", basic(testKey))
	ctx, cancel := context.WithCancel(r.Context())
	cancel()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r.WithContext(ctx))
	if w.Code != 503 {
		t.Errorf("POST with a cancelled context = %d, want 503", w.Code)
	}
}
