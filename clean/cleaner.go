package clean

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// Config is a source's cleaning configuration. The zero Config runs every
// step with the server's default region.
type Config struct {
	// Disabled lists steps (see Steps) not run for the source.
	Disabled []string `json:"disabled"`
	// DefaultRegion (ISO 3166-1 alpha-2, e.g. "NL") is the country of phone
	// numbers written without a country code. Empty: the server's
	// --default-region.
	DefaultRegion string `json:"default_region,omitempty"`
	// IP is what happens to context.ip after geolocation: IPKeep (the
	// default, also for ""), IPTruncate or IPRemove. Truncating or removing
	// happens before the event is stored, so the full address is never
	// kept; set it for sources whose users must not be traceable by
	// address.
	IP string `json:"ip,omitempty"`
}

// Validate checks the step names, the region and the IP handling.
func (c *Config) Validate() error {
	for _, s := range c.Disabled {
		if !slices.Contains(Steps, s) {
			return mosaic.Errorf(mosaic.EINVALID, "Unknown cleaning step %q; the steps are %s.", s, strings.Join(Steps, ", "))
		}
	}
	if r := c.DefaultRegion; r != "" {
		if code, ok := Country(r); !ok || len(r) != 2 || code != strings.ToUpper(r) {
			return mosaic.Errorf(mosaic.EINVALID, "default_region %q is not an ISO 3166-1 alpha-2 country code such as NL or US.", r)
		}
		c.DefaultRegion = strings.ToUpper(r)
	}
	switch c.IP {
	case "", IPKeep, IPTruncate, IPRemove:
	default:
		return mosaic.Errorf(mosaic.EINVALID, "ip %q is not one of keep, truncate (IPv4 to /24, IPv6 to /48) or remove.", c.IP)
	}
	return nil
}

// Settings is where per-source configuration is kept (the store).
type Settings interface {
	Setting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
}

// Options configure a Cleaner.
type Options struct {
	// DefaultRegion is the phone region of sources that set none.
	DefaultRegion string
	// Settings keeps each source's Config and tracking plan.
	Settings Settings
	// Log receives store failures (cleaning then runs with defaults).
	Log *slog.Logger
	// TTL is how long a source's configuration is cached. Default 5s.
	TTL time.Duration
	// Violations receives tracking-plan violations (see Plan); may be nil.
	Violations ViolationRecorder
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Geo is the geolocation database for the geo step; nil: no
	// geolocation (context.ip is still truncated or removed as configured).
	Geo *GeoDB
	// UserAgents parses user agents for Enrich; nil: Enrich adds nothing.
	UserAgents *UserAgents
}

// Cleaner standardises messages before they are stored and checks them
// against their source's tracking plan. It implements collect.Cleaner.
type Cleaner struct {
	opts   Options
	phones Phones

	mu      sync.Mutex
	sources map[string]*sourceState
}

// sourceState is a source's cached configuration.
type sourceState struct {
	vc      valueCleaner
	plan    *compiledPlan
	expires time.Time
}

// New returns a Cleaner.
func New(opts Options) *Cleaner {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.TTL <= 0 {
		opts.TTL = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cleaner{opts: opts, sources: make(map[string]*sourceState)}
}

func configKey(sourceID string) string { return "clean.config." + sourceID }

// Config returns a source's cleaning configuration.
func (c *Cleaner) Config(ctx context.Context, sourceID string) (Config, error) {
	var cfg Config
	v, err := c.opts.Settings.Setting(ctx, configKey(sourceID))
	var merr *mosaic.Error
	switch {
	case errors.As(err, &merr) && merr.Code == mosaic.ENOTFOUND:
		cfg.Disabled = []string{}
		return cfg, nil
	case err != nil:
		return cfg, err
	}
	if err := json.Unmarshal([]byte(v), &cfg); err != nil {
		return cfg, fmt.Errorf("clean: stored config of source %s: %w", sourceID, err)
	}
	if cfg.Disabled == nil {
		cfg.Disabled = []string{}
	}
	return cfg, nil
}

// SetConfig validates and stores a source's cleaning configuration; it
// applies to events received from then on.
func (c *Cleaner) SetConfig(ctx context.Context, sourceID string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(cfg)
	if err := c.opts.Settings.PutSetting(ctx, configKey(sourceID), string(b)); err != nil {
		return err
	}
	c.forget(sourceID)
	return nil
}

func (c *Cleaner) forget(sourceID string) {
	c.mu.Lock()
	delete(c.sources, sourceID)
	c.mu.Unlock()
}

// state returns the source's configuration, loading it when not cached.
func (c *Cleaner) state(sourceID string) *sourceState {
	return c.stateAt(sourceID, c.opts.Now())
}

// stateAt is state at time now.
func (c *Cleaner) stateAt(sourceID string, now time.Time) *sourceState {
	c.mu.Lock()
	st := c.sources[sourceID]
	c.mu.Unlock()
	if st != nil && now.Before(st.expires) {
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st = &sourceState{expires: now.Add(c.opts.TTL)}
	cfg, err := c.Config(ctx, sourceID)
	if err != nil {
		c.opts.Log.Warn("reading a source's cleaning config; using the defaults", "source_id", sourceID, "err", err)
		st.expires = now.Add(time.Second)
	}
	st.vc = valueCleaner{phones: &c.phones, region: c.opts.DefaultRegion, disabled: map[string]bool{},
		geo: c.opts.Geo, ip: cfg.IP}
	if cfg.DefaultRegion != "" {
		st.vc.region = cfg.DefaultRegion
	}
	for _, s := range cfg.Disabled {
		st.vc.disabled[s] = true
	}
	if st.plan, err = c.loadPlan(ctx, sourceID); err != nil {
		c.opts.Log.Warn("reading a source's tracking plan; not checking it", "source_id", sourceID, "err", err)
	}
	c.mu.Lock()
	if len(c.sources) > 10000 {
		clear(c.sources)
	}
	c.sources[sourceID] = st
	c.mu.Unlock()
	return st
}

// Clean standardises msg and checks it against the source's tracking plan.
// It implements collect.Cleaner: it returns msg itself when nothing
// changed, and an error (code plan_violation) when the plan is in block
// mode and msg breaks it.
func (c *Cleaner) Clean(src *mosaic.Source, typ string, msg []byte) ([]byte, *mosaic.Error) {
	st := c.state(src.ID)
	out := st.vc.message(msg)
	if st.plan == nil {
		return out, nil
	}
	return c.checkPlan(src, st.plan, typ, out)
}
