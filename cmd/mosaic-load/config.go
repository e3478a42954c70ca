package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/mosaic-cdp/mosaic/synth"
)

// maxDuration bounds every run: the tool is for measurements, not for
// leaving a flood running.
const maxDuration = 10 * time.Minute

// maxJourneysDuration bounds a run of journeys, which ends by itself when
// all are sent: ten million events take longer than maxDuration on a
// small machine that also processes them.
const maxJourneysDuration = time.Hour

// RunConfig is the configuration of one load run, parsed once from flags.
type RunConfig struct {
	URL         string        // base URL of a Mosaic server on this machine
	WriteKey    string        // source write key; or AdminToken to create a source
	AdminToken  string        // admin token, used to create a source when WriteKey is empty
	SourceName  string        // name of the source created with AdminToken
	Mode        string        // "batch" (POST /v1/batch) or "track" (one call per request)
	Batch       int           // events per batch request
	Concurrency int           // workers, each with one request in flight
	Duration    time.Duration // how long to send; at most maxDuration
	Rate        float64       // requests per second over all workers; 0 for as fast as acknowledged
	Gzip        bool          // gzip request bodies, as the RudderStack SDKs do
	Record      string        // file to append every acknowledged messageId to
	JSON        bool          // print the final report as JSON
	Progress    time.Duration // interval of progress lines on stderr; 0 for none
	Timeout     time.Duration // per-request timeout
	Journeys    int           // people whose synthetic journeys to send instead of random events; 0 for none
	PerPerson   float64       // mean messages per person of the journeys
	Seed        int64         // seed of the journeys

	base *url.URL // URL, checked to be loopback
}

// parseRunFlags parses the flags of 'mosaic-load run' and validates them.
func parseRunFlags(args []string, stderr io.Writer) (*RunConfig, error) {
	c := &RunConfig{}
	fs := flag.NewFlagSet("mosaic-load run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "base URL of the Mosaic server (loopback only)")
	fs.StringVar(&c.WriteKey, "write-key", "", "write key of the source to send to")
	fs.StringVar(&c.AdminToken, "admin-token", "", "admin token: create a source for the run instead of -write-key")
	fs.StringVar(&c.SourceName, "source-name", "", "name of the source created with -admin-token (default load-<time>)")
	fs.StringVar(&c.Mode, "mode", "batch", "batch: POST /v1/batch with -batch events; track: one event per request to /v1/track, /v1/page or /v1/identify")
	fs.IntVar(&c.Batch, "batch", 100, "events per batch request (batch mode)")
	fs.IntVar(&c.Concurrency, "concurrency", 32, "concurrent clients, each with one request in flight")
	fs.DurationVar(&c.Duration, "duration", 0, "how long to send (required without -journeys, at most 10m; with -journeys at most 1h, and 1h by default)")
	fs.Float64Var(&c.Rate, "rate", 0, "requests per second over all clients; 0 sends as fast as the server acknowledges")
	fs.BoolVar(&c.Gzip, "gzip", false, "gzip request bodies")
	fs.StringVar(&c.Record, "record", "", "append every acknowledged messageId to this file, one per line")
	fs.BoolVar(&c.JSON, "json", false, "print the report as JSON")
	fs.DurationVar(&c.Progress, "progress", 5*time.Second, "interval of progress lines on stderr; 0 for none")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.IntVar(&c.Journeys, "journeys", 0, "send the synthetic customer journeys of this many people (as 'mosaic-load gen' makes them) instead of random events; the run ends when all are sent")
	fs.Float64Var(&c.PerPerson, "events-per-person", 10, "with -journeys: mean messages per person")
	fs.Int64Var(&c.Seed, "seed", 1, "with -journeys: seed of the journeys")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.Journeys > 0 && c.Duration == 0 {
		// Journeys end by themselves; the duration only bounds the run.
		c.Duration = maxJourneysDuration
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q: 'mosaic-load run' takes only flags", fs.Args())
	}
	if c.SourceName == "" {
		// Source names are unique: one per run keeps runs apart.
		c.SourceName = "load-" + time.Now().UTC().Format("20060102-150405.000")
	}
	return c, c.Validate()
}

// Validate checks the configuration before anything is sent.
func (c *RunConfig) Validate() error {
	var errs []error
	base, err := checkLoopback(c.URL)
	if err != nil {
		errs = append(errs, err)
	}
	c.base = base
	if c.WriteKey == "" && c.AdminToken == "" {
		errs = append(errs, errors.New("set -write-key, or -admin-token to create a source for the run"))
	}
	if c.Mode != "batch" && c.Mode != "track" {
		errs = append(errs, fmt.Errorf("-mode must be batch or track, not %q", c.Mode))
	}
	if c.Batch < 1 || c.Batch > 500 {
		errs = append(errs, fmt.Errorf("-batch must be 1 to 500 (a batch must stay under the 500 KB limit), not %d", c.Batch))
	}
	if c.Concurrency < 1 || c.Concurrency > 4096 {
		errs = append(errs, fmt.Errorf("-concurrency must be 1 to 4096, not %d", c.Concurrency))
	}
	if limit := c.durationLimit(); c.Duration <= 0 || c.Duration > limit {
		errs = append(errs, fmt.Errorf("-duration must be set, from 1ms to %s (e.g. -duration 30s), not %s", limit, c.Duration))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("-rate must be 0 (unlimited) or positive, not %v", c.Rate))
	}
	if c.Journeys < 0 || c.Journeys > synth.MaxPeople {
		errs = append(errs, fmt.Errorf("-journeys must be 0 (random events) to %d people, not %d", synth.MaxPeople, c.Journeys))
	}
	if c.Journeys > 0 && (c.PerPerson < 1 || c.PerPerson > 10_000) {
		errs = append(errs, fmt.Errorf("-events-per-person must be 1 to 10000, not %v", c.PerPerson))
	}
	if c.Timeout <= 0 || c.Progress < 0 {
		errs = append(errs, fmt.Errorf("-timeout must be positive and -progress not negative, not %s and %s", c.Timeout, c.Progress))
	}
	return errors.Join(errs...)
}

// eventsPerRequest is how many events one request carries.
func (c *RunConfig) eventsPerRequest() int {
	if c.Mode == "track" {
		return 1
	}
	return c.Batch
}

// durationLimit returns the longest run allowed.
func (c *RunConfig) durationLimit() time.Duration {
	if c.Journeys > 0 {
		return maxJourneysDuration
	}
	return maxDuration
}
