package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report is the outcome of a run, printed as text or, with -json, as JSON
// for the benchmark documentation.
type Report struct {
	URL              string                `json:"url"`
	SourceID         string                `json:"source_id,omitempty"`
	Mode             string                `json:"mode"`
	EventsPerRequest int                   `json:"events_per_request"`
	Concurrency      int                   `json:"concurrency"`
	Rate             float64               `json:"rate,omitempty"`
	Gzip             bool                  `json:"gzip"`
	Seconds          float64               `json:"seconds"`
	Requests         uint64                `json:"requests"`
	AckedRequests    uint64                `json:"acked_requests"`
	AckedEvents      uint64                `json:"acked_events"`
	EventsPerSecond  float64               `json:"events_per_second"`
	RequestsPerSec   float64               `json:"requests_per_second"`
	Latency          LatencyReport         `json:"latency_ms"`
	Errors           map[string]ErrorCount `json:"errors"`
	BytesSent        uint64                `json:"bytes_sent"`
	Recorded         uint64                `json:"recorded,omitempty"`
	Journeys         int                   `json:"journeys,omitempty"`          // people, with -journeys
	JourneysComplete bool                  `json:"journeys_complete,omitempty"` // every journey message was sent (acknowledged or not)
}

// LatencyReport summarises request latencies in milliseconds, over every
// request that got an HTTP answer.
type LatencyReport struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// report builds the final report of a run that took elapsed.
func (r *Runner) report(elapsed time.Duration, h *Histogram) *Report {
	secs := elapsed.Seconds()
	rep := &Report{
		URL: r.cfg.base.String(), Mode: r.cfg.Mode, EventsPerRequest: r.cfg.eventsPerRequest(),
		Concurrency: r.cfg.Concurrency, Rate: r.cfg.Rate, Gzip: r.cfg.Gzip, Seconds: secs,
		Requests:      r.stats.requests.Load(),
		AckedRequests: r.stats.ackedRequests.Load(),
		AckedEvents:   r.stats.ackedEvents.Load(),
		Latency:       latencyReport(h),
		Errors:        r.stats.errorCounts(),
		BytesSent:     r.stats.bytesSent.Load(),
	}
	rep.EventsPerSecond = float64(rep.AckedEvents) / secs
	rep.RequestsPerSec = float64(rep.AckedRequests) / secs
	if r.recorder != nil {
		rep.Recorded = r.recorder.Count()
	}
	if r.journeys != nil {
		rep.Journeys, rep.JourneysComplete = r.cfg.Journeys, r.journeys.complete()
	}
	return rep
}

func latencyReport(h *Histogram) LatencyReport {
	return LatencyReport{
		Count: h.Count(), Mean: ms(h.Mean()),
		P50: ms(h.Quantile(0.50)), P90: ms(h.Quantile(0.90)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()),
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText writes the report for a person.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "target      %s (%s mode, %d events/request, %d clients", rep.URL, rep.Mode, rep.EventsPerRequest, rep.Concurrency)
	if rep.Gzip {
		b.WriteString(", gzip")
	}
	if rep.Rate > 0 {
		fmt.Fprintf(&b, ", rate %g req/s", rep.Rate)
	}
	fmt.Fprintf(&b, ")\nduration    %.1fs\n", rep.Seconds)
	fmt.Fprintf(&b, "events      %d acknowledged, %.0f/s\n", rep.AckedEvents, rep.EventsPerSecond)
	fmt.Fprintf(&b, "requests    %d sent, %d acknowledged, %.0f/s\n", rep.Requests, rep.AckedRequests, rep.RequestsPerSec)
	l := rep.Latency
	fmt.Fprintf(&b, "latency     p50 %.2fms  p90 %.2fms  p99 %.2fms  p99.9 %.2fms  max %.2fms  mean %.2fms\n", l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
	fmt.Fprintf(&b, "sent        %.1f MB (%.1f MB/s)\n", float64(rep.BytesSent)/1e6, float64(rep.BytesSent)/1e6/rep.Seconds)
	if rep.Journeys > 0 {
		state := "all sent"
		if !rep.JourneysComplete {
			state = "not all sent before the run ended"
		}
		fmt.Fprintf(&b, "journeys    %d people, %s\n", rep.Journeys, state)
	}
	if rep.Recorded > 0 {
		fmt.Fprintf(&b, "recorded    %d messageIds\n", rep.Recorded)
	}
	writeErrors(&b, rep.Errors)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeErrors(b *strings.Builder, errs map[string]ErrorCount) {
	if len(errs) == 0 {
		b.WriteString("errors      none\n")
		return
	}
	for i, k := range slices.Sorted(maps.Keys(errs)) {
		label := ""
		if i == 0 {
			label = "errors"
		}
		fmt.Fprintf(b, "%-11s %s: %d (e.g. %s)\n", label, k, errs[k].Count, oneLine(errs[k].Example))
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// progressSnapshot is what the previous progress line saw.
type progressSnapshot struct {
	at     time.Duration
	events uint64
}

// printProgress writes one line of progress and returns what it saw.
func printProgress(w io.Writer, s *stats, at time.Duration, last progressSnapshot) progressSnapshot {
	now := progressSnapshot{at: at, events: s.ackedEvents.Load()}
	rate := float64(now.events-last.events) / (now.at - last.at).Seconds()
	fmt.Fprintf(w, "mosaic-load: %5.1fs  %d events acknowledged (%.0f/s)  %d requests  %d errors\n",
		at.Seconds(), now.events, rate, s.requests.Load(), s.totalErrors())
	return now
}
