package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mosaic-cdp/mosaic/synth"
)

// probe measures what readers of profiles see while another run loads the
// server: how long a profile lookup by identifier takes at a steady rate,
// and how long after its acknowledgement an event shows in the profile API
// (ack to profile). Run it beside 'mosaic-load run -journeys N -seed S' with
// the same -journeys and -seed: it looks up identifiers of those journeys.

// ProbeConfig is what 'mosaic-load probe' is told.
type ProbeConfig struct {
	URL        string
	AdminToken string
	WriteKey   string
	Duration   time.Duration
	Rate       float64       // lookups per second
	Every      time.Duration // one ack-to-profile probe this often
	Journeys   int
	Seed       int64
	Pool       int // identifiers to look up
	JSON       bool
	base       *url.URL
}

func parseProbeFlags(args []string, stderr io.Writer) (*ProbeConfig, error) {
	cfg := &ProbeConfig{}
	fs := flag.NewFlagSet("mosaic-load probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "admin token, for the profile API (required)")
	fs.StringVar(&cfg.WriteKey, "write-key", "", "write key of the source probe events go to (default: a new source)")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to probe (at most 10m)")
	fs.Float64Var(&cfg.Rate, "rate", 2000, "profile lookups per second")
	fs.DurationVar(&cfg.Every, "every", 50*time.Millisecond, "interval of ack-to-profile probes; 0 for none")
	fs.IntVar(&cfg.Journeys, "journeys", 1_000_000, "people in the journeys the load run sends (as its -journeys)")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed of those journeys (as the load run's -seed)")
	fs.IntVar(&cfg.Pool, "pool", 100_000, "how many of the journeys' first identifiers to look up")
	fs.BoolVar(&cfg.JSON, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q: 'mosaic-load probe' takes only flags", fs.Args())
	}
	base, err := checkLoopback(cfg.URL)
	if err != nil {
		return nil, err
	}
	cfg.base = base
	switch {
	case cfg.AdminToken == "":
		return nil, errors.New("-admin-token is required: the profile API needs it")
	case cfg.Duration <= 0 || cfg.Duration > 10*time.Minute:
		return nil, fmt.Errorf("-duration %s: give more than 0 and at most 10m", cfg.Duration)
	case cfg.Rate <= 0:
		return nil, fmt.Errorf("-rate %g: give lookups per second, more than 0", cfg.Rate)
	case cfg.Journeys <= 0 || cfg.Journeys > synth.MaxPeople:
		return nil, fmt.Errorf("-journeys %d: give 1 to %d", cfg.Journeys, synth.MaxPeople)
	case cfg.Pool <= 0:
		return nil, fmt.Errorf("-pool %d: give more than 0", cfg.Pool)
	}
	return cfg, nil
}

// ProbeReport is what a probe measured.
type ProbeReport struct {
	Seconds       float64       `json:"seconds"`
	Lookups       uint64        `json:"lookups"`
	LookupsPerSec float64       `json:"lookups_per_second"`
	Found         uint64        `json:"found"`     // 200
	NotFound      uint64        `json:"not_found"` // 404: not sent yet
	LookupErrors  uint64        `json:"lookup_errors"`
	Lookup        LatencyReport `json:"lookup_ms"`
	Probes        uint64        `json:"probes"`
	ProbeErrors   uint64        `json:"probe_errors"`
	AckToProfile  LatencyReport `json:"ack_to_profile_ms"`
	// Server is the server's own record of the lookups (nil if it keeps
	// none): from routing a request to its answer, without the network,
	// the HTTP server's reading and writing, or waiting for a CPU.
	Server *ServerLatency `json:"server_lookup,omitempty"`
}

// probeCmd is 'mosaic-load probe'.
func probeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseProbeFlags(args, stderr)
	if err != nil {
		return usageError{err}
	}
	key := cfg.WriteKey
	if key == "" {
		src, err := newAdminClient(cfg.base, cfg.AdminToken).createSource(ctx, fmt.Sprintf("probe-%d", time.Now().UnixNano()))
		if err != nil {
			return err
		}
		key = src.WriteKey
	}
	pool := lookupPool(cfg)
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	p := &prober{cfg: cfg, key: key, client: newClient(64, 10*time.Second)}
	if cfg.base.Scheme == "http" {
		if p.plain, err = newPlainClient(cfg.base, 64, 10*time.Second, "Authorization: Bearer "+cfg.AdminToken); err != nil {
			return err
		}
		defer p.plain.Close()
	}
	before, bucketsErr := p.lookupBuckets(ctx)
	if bucketsErr != nil {
		fmt.Fprintf(stderr, "mosaic-load: the server's lookup times will be missing from the report: %v\n", bucketsErr)
	}
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() { p.lookups(ctx, pool) })
	if cfg.Every > 0 {
		wg.Go(func() { p.probes(ctx) })
	}
	wg.Wait()
	rep := &ProbeReport{Seconds: time.Since(start).Seconds(), Found: p.found.Load(), NotFound: p.notFound.Load(),
		LookupErrors: p.lookupErrs.Load(), Probes: uint64(p.ackHist.Count()), ProbeErrors: p.probeErrs.Load()}
	rep.Lookups = rep.Found + rep.NotFound + rep.LookupErrors
	rep.LookupsPerSec = float64(rep.Lookups) / rep.Seconds
	rep.Lookup, rep.AckToProfile = latencyReport(&p.lookupHist), latencyReport(&p.ackHist)
	if bucketsErr == nil {
		rep.Server = p.serverReport(before, stderr)
	}
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "lookups: %d in %.1fs (%.0f/s): %d found, %d not found, %d errors; p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		rep.Lookups, rep.Seconds, rep.LookupsPerSec, rep.Found, rep.NotFound, rep.LookupErrors, rep.Lookup.P50, rep.Lookup.P99, rep.Lookup.Max)
	fmt.Fprintf(stdout, "ack to profile: %d probes, %d errors; p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		rep.Probes, rep.ProbeErrors, rep.AckToProfile.P50, rep.AckToProfile.P99, rep.AckToProfile.Max)
	if s := rep.Server; s != nil {
		fmt.Fprintf(stdout, "server's own lookup times (routing to answer): %d lookups; p50 %s, p99 %s; %d over 5 ms\n",
			s.Count, atMost(s.P50LeMs), atMost(s.P99LeMs), s.Over5Ms)
	}
	return nil
}

// serverReport reads the server's lookup histogram again and returns what
// it recorded since before; nil, said on stderr, if it cannot.
func (p *prober) serverReport(before bucketCounts, stderr io.Writer) *ServerLatency {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	after, err := p.lookupBuckets(ctx)
	if err == nil {
		var s ServerLatency
		if s, err = serverLatency(before, after); err == nil {
			return &s
		}
	}
	fmt.Fprintf(stderr, "mosaic-load: the server's lookup times are missing from the report: %v\n", err)
	return nil
}

// atMost writes a percentile known by its bucket's bound.
func atMost(ms *float64) string {
	if ms == nil {
		return "above every bucket"
	}
	return fmt.Sprintf("≤ %g ms", *ms)
}

// lookupPool returns profile references ("type:value") of the first
// people of the journeys: the identifiers their first messages carry.
func lookupPool(cfg *ProbeConfig) []string {
	o := synth.DefaultOptions()
	o.People, o.Seed = cfg.Journeys, cfg.Seed
	g := synth.New(o)
	seen := map[string]bool{}
	var pool []string
	for len(pool) < cfg.Pool {
		userID, anonID, ok := g.NextIDs()
		if !ok {
			break
		}
		for _, ref := range []string{"user_id:" + userID, "anonymous_id:" + anonID} {
			if !strings.HasSuffix(ref, ":") && !seen[ref] {
				seen[ref] = true
				pool = append(pool, ref)
			}
		}
	}
	return pool
}

type prober struct {
	cfg    *ProbeConfig
	key    string
	client *http.Client
	plain  *plainClient // for the GETs, when the server speaks plain http

	mu                    sync.Mutex
	lookupHist, ackHist   Histogram
	found, notFound       atomic.Uint64
	lookupErrs, probeErrs atomic.Uint64
}

// lookups looks up profiles at cfg.Rate, each in its own goroutine so a
// slow answer does not hold up the schedule (open loop: the latency is
// not hidden by waiting).
func (p *prober) lookups(ctx context.Context, pool []string) {
	interval := time.Duration(float64(time.Second) / p.cfg.Rate)
	next := time.Now()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; ; i++ {
		if !sleepUntil(ctx, next) {
			return
		}
		next = next.Add(interval)
		ref := pool[(i*7919)%len(pool)] // spread over the pool
		wg.Go(func() {
			start := time.Now()
			status, err := p.get(ctx, "/api/v1/profiles/"+url.PathEscape(ref))
			d := time.Since(start)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					p.lookupErrs.Add(1)
				}
				return
			case status == http.StatusOK:
				p.found.Add(1)
			case status == http.StatusNotFound:
				p.notFound.Add(1)
			default:
				p.lookupErrs.Add(1)
				return
			}
			p.mu.Lock()
			p.lookupHist.Record(d)
			p.mu.Unlock()
		})
	}
}

// probes sends one identify with a new anonymous id every cfg.Every and
// measures from its acknowledgement until the profile API finds it.
func (p *prober) probes(ctx context.Context) {
	next := time.Now()
	for i := 0; ; i++ {
		if !sleepUntil(ctx, next) {
			return
		}
		next = next.Add(p.cfg.Every)
		anon := fmt.Sprintf("probe-%d-%d", time.Now().UnixNano(), i)
		d, err := p.probe(ctx, anon)
		if err != nil {
			if ctx.Err() == nil {
				p.probeErrs.Add(1)
			}
			continue
		}
		p.mu.Lock()
		p.ackHist.Record(d)
		p.mu.Unlock()
	}
}

func (p *prober) probe(ctx context.Context, anon string) (time.Duration, error) {
	body := fmt.Sprintf(`{"anonymousId":%q,"traits":{"probe":true}}`, anon)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.base.String()+"/v1/identify", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(p.key, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("identify: HTTP %d", resp.StatusCode)
	}
	acked := time.Now()
	for {
		status, err := p.get(ctx, "/api/v1/profiles/anonymous_id:"+url.PathEscape(anon))
		if err != nil {
			return 0, err
		}
		if status == http.StatusOK {
			return time.Since(acked), nil
		}
		if time.Since(acked) > 10*time.Second {
			return 0, errors.New("profile not visible after 10s")
		}
		time.Sleep(500 * time.Microsecond)
	}
}

// get makes an admin GET and returns its status.
func (p *prober) get(ctx context.Context, path string) (int, error) {
	if p.plain != nil {
		return p.plain.get(ctx, p.cfg.base.Path+path)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.base.String()+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+p.cfg.AdminToken)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
