package clean_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/clean/mmdbtest"
	"github.com/mosaic-cdp/mosaic/collect"
	"github.com/mosaic-cdp/mosaic/collect/collecttest"
)

// The benchmarks below measure what cleaning and enrichment add to the
// Tracking API's CPU per event, on the batch of browser events the collect
// benchmarks use: the same handler without a cleaner, with one, and with
// one and a geolocation database; and the read-time user-agent step.

type oneSource struct{ src *mosaic.Source }

func (s oneSource) SourceByWriteKey(_ context.Context, key string) (*mosaic.Source, error) {
	if key != s.src.WriteKey {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "no source")
	}
	return s.src, nil
}

type noQuarantine struct{}

func (noQuarantine) AddRejected(context.Context, []*mosaic.Rejected) error { return nil }

type countingLog = collecttest.CountingLog

type noSettings struct{}

func (noSettings) Setting(context.Context, string) (string, error) {
	return "", mosaic.Errorf(mosaic.ENOTFOUND, "not set")
}
func (noSettings) PutSetting(context.Context, string, string) error { return nil }

// browserEvent is the collect benchmarks' event, with an address in the
// test geolocation database's network.
func browserEvent(i int) string {
	return collecttest.BrowserEvent(i, fmt.Sprintf("192.0.2.%d", i%250+1))
}

// overheadSetup returns the benchmarks' batch of 100 browser events and
// the cleaners compared: none, every step, every step and geolocation.
func overheadSetup(b *testing.B) ([]byte, []string, []collect.Cleaner) {
	db := filepath.Join(b.TempDir(), "geo.mmdb")
	err := mmdbtest.Write(db, "dbip-city", []mmdbtest.Network{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Record: map[string]any{"country_code": "NL", "city": "Amsterdam"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	geo, err := clean.OpenGeoDB(db)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { geo.Close() })
	return collecttest.BatchBody(100, browserEvent), []string{"collect", "collect+clean", "collect+clean+geo"},
		[]collect.Cleaner{nil,
			clean.New(clean.Options{Settings: noSettings{}, DefaultRegion: "NL"}),
			clean.New(clean.Options{Settings: noSettings{}, DefaultRegion: "NL", Geo: geo})}
}

func BenchmarkIngestOverhead(b *testing.B) {
	body, names, cleaners := overheadSetup(b)
	for i, name := range names {
		b.Run(name, func(b *testing.B) { batchRequest(body, cleaners[i]).Loop(b, 100) })
	}
	b.Run("enrich-user-agent", func(b *testing.B) {
		ua, err := clean.NewUserAgents(0)
		if err != nil {
			b.Fatal(err)
		}
		c := clean.New(clean.Options{Settings: noSettings{}, UserAgents: ua})
		msg := browserEvent(0)
		ev := mosaic.Event{SourceID: "s1", Message: []byte(msg)}
		c.Enrich(&ev) // the first parse compiles the rules
		b.ReportAllocs()
		cpu := collecttest.CPUTime()
		for b.Loop() {
			ev := mosaic.Event{SourceID: "s1", Message: []byte(msg)}
			c.Enrich(&ev)
		}
		b.ReportMetric(float64((collecttest.CPUTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/event")
	})
}

// BenchmarkIngestOverheadPaired serves the batch through the three
// handlers in turn, one request each per round, and reports for each the
// process's CPU time per event (cpu-ns/event: user and system, read
// around every request) and the median time of a request per event
// (ns/event; with one thread a request's time is its CPU time unless the
// thread was preempted, which the median leaves out), and what cleaning
// and geolocation add to collect's in each. The neighbours' load, which
// moves separate runs of BenchmarkIngestOverhead by more than cleaning
// costs, falls on the three alike.
func BenchmarkIngestOverheadPaired(b *testing.B) {
	body, names, cleaners := overheadSetup(b)
	reqs := make([]*collecttest.Request, len(cleaners))
	for i, c := range cleaners {
		reqs[i] = batchRequest(body, c)
	}
	times := make([][]time.Duration, len(reqs))
	cpu := make([]time.Duration, len(reqs))
	b.ReportAllocs()
	for b.Loop() {
		for i, q := range reqs {
			c0, start := collecttest.CPUTime(), time.Now()
			if s := q.Serve(); s != http.StatusOK {
				b.Fatalf("%s: status %d", names[i], s)
			}
			times[i] = append(times[i], time.Since(start))
			cpu[i] += collecttest.CPUTime() - c0
		}
	}
	med := make([]float64, len(times))
	mean := make([]float64, len(times))
	for i, ts := range times {
		slices.Sort(ts)
		med[i] = float64(ts[len(ts)/2].Nanoseconds()) / 100
		mean[i] = float64(cpu[i].Nanoseconds()) / float64(100*b.N)
	}
	b.ReportMetric(mean[0], "collect-cpu-ns/event")
	b.ReportMetric(mean[1]-mean[0], "clean-added-cpu-ns/event")
	b.ReportMetric(mean[2]-mean[0], "geo-added-cpu-ns/event")
	b.ReportMetric(med[0], "collect-ns/event")
	b.ReportMetric(med[1]-med[0], "clean-added-ns/event")
	b.ReportMetric(med[2]-med[0], "geo-added-ns/event")
}

// batchRequest is a POST of body to a Tracking API handler with cleaner
// (nil: none) that records the client's address.
func batchRequest(body []byte, cleaner collect.Cleaner) *collecttest.Request {
	src := &mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk"}
	opts := collect.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Cleaner: cleaner, RecordIP: true}
	h := collect.NewHandler(&countingLog{}, oneSource{src}, noQuarantine{}, opts)
	return collecttest.NewRequest(h, "/v1/batch", "wk", body)
}
