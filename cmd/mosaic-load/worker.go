package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Back-off after failures, so a worker does not spin while the server is
// down (crash tests) or overloaded (429).
const (
	transportBackoff  = 50 * time.Millisecond
	defaultRetryAfter = 100 * time.Millisecond
	maxRetryAfter     = time.Second
)

// worker is one client: one request in flight at a time, its own event
// generator, buffers and latency histogram.
type worker struct {
	r    *Runner
	gen  *Generator
	hist Histogram
	body []byte
	zbuf bytes.Buffer
	gz   *gzip.Writer
	ids  []string
	resp []byte
}

func (r *Runner) newWorker() *worker {
	var seed [32]byte
	rand.Read(seed[:])
	w := &worker{r: r, gen: r.catalog.NewGenerator(seed), body: make([]byte, 0, 1024*r.cfg.eventsPerRequest())}
	if r.cfg.Gzip {
		w.gz = gzip.NewWriter(&w.zbuf)
	}
	return w
}

// loop sends requests until the run is over.
func (w *worker) loop(ctx context.Context) {
	for w.r.sending(ctx) {
		if w.r.pace != nil && !w.r.pace.wait(ctx, w.r.deadline) {
			return
		}
		path, ok := w.build()
		if !ok {
			return
		}
		if pause := w.send(ctx, path); pause > 0 {
			sleepUntil(ctx, time.Now().Add(min(pause, time.Until(w.r.deadline))))
		}
	}
}

// build fills w.body and w.ids with one request's events and returns the
// path to post them to; false when there is nothing left to send.
func (w *worker) build() (string, bool) {
	if w.r.journeys != nil {
		return w.buildJourneys()
	}
	now := formatTime(time.Now())
	w.body, w.ids = w.body[:0], w.ids[:0]
	if w.r.cfg.Mode == "track" {
		var ev Event
		w.body, ev = w.gen.AppendEvent(w.body, now, now)
		w.ids = append(w.ids, ev.MessageID)
		return "/v1/" + ev.Kind, true
	}
	w.body = append(w.body, `{"batch":[`...)
	for i := range w.r.cfg.Batch {
		if i > 0 {
			w.body = append(w.body, ',')
		}
		var ev Event
		w.body, ev = w.gen.AppendEvent(w.body, now, "")
		w.ids = append(w.ids, ev.MessageID)
	}
	w.body = append(append(append(w.body, `],"sentAt":"`...), now...), `"}`...)
	return "/v1/batch", true
}

// payload returns the body as sent, gzipped with -gzip.
func (w *worker) payload() []byte {
	if w.gz == nil {
		return w.body
	}
	w.zbuf.Reset()
	w.gz.Reset(&w.zbuf)
	w.gz.Write(w.body)
	w.gz.Close()
	return w.zbuf.Bytes()
}

// send posts the built request to path and accounts for its outcome. It
// returns how long to pause before the next one.
func (w *worker) send(ctx context.Context, path string) time.Duration {
	body := w.payload()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.r.target+path, bytes.NewReader(body))
	if err != nil {
		w.r.stats.addError("bad request", err.Error())
		return transportBackoff
	}
	w.setHeaders(req)
	w.r.stats.requests.Add(1)
	w.r.stats.bytesSent.Add(uint64(len(body)))
	start := time.Now()
	resp, err := w.r.client.Do(req)
	if err != nil {
		w.r.stats.addError(classifyError(err), err.Error())
		return transportBackoff
	}
	w.resp, err = readBody(resp, w.resp[:0])
	w.hist.Record(time.Since(start))
	if err != nil {
		// No complete answer, so no acknowledgement to trust.
		w.r.stats.addError(classifyError(err), err.Error())
		return transportBackoff
	}
	return w.account(resp)
}

func (w *worker) setHeaders(req *http.Request) {
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", w.r.auth)
	req.Header.Set("User-Agent", "mosaic-load/1")
	if w.gz != nil {
		req.Header.Set("Content-Encoding", "gzip")
	}
}

// account counts an answered request. Only a 200 whose body rejects no
// event acknowledges the events; those ids go to the recorder.
func (w *worker) account(resp *http.Response) time.Duration {
	switch {
	case resp.StatusCode == http.StatusOK && !bytes.Contains(w.resp, []byte(`"rejected"`)):
		w.r.stats.ackedRequests.Add(1)
		w.r.stats.ackedEvents.Add(uint64(len(w.ids)))
		if w.r.recorder != nil {
			w.r.recorder.Record(w.ids)
		}
		return 0
	case resp.StatusCode == http.StatusOK:
		// Some events were rejected: generated events never should be,
		// so count it and record none rather than guess which were kept.
		w.r.stats.addError("HTTP 200 with rejected events", truncate(w.resp, 300))
		return 0
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		w.r.stats.addError(statusKind(resp.StatusCode), truncate(w.resp, 300))
		return retryAfter(resp.Header.Get("Retry-After"))
	default:
		w.r.stats.addError(statusKind(resp.StatusCode), truncate(w.resp, 300))
		return transportBackoff
	}
}

// readBody reads and closes a response body into buf, so the connection
// can be reused.
func readBody(resp *http.Response, buf []byte) ([]byte, error) {
	defer resp.Body.Close()
	b := bytes.NewBuffer(buf)
	_, err := b.ReadFrom(io.LimitReader(resp.Body, 1<<20))
	return b.Bytes(), err
}

// retryAfter parses a Retry-After header in seconds, capped so that a run
// keeps probing the server.
func retryAfter(v string) time.Duration {
	s, err := strconv.Atoi(v)
	if err != nil || s < 0 {
		return defaultRetryAfter
	}
	return min(time.Duration(s)*time.Second, maxRetryAfter)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
