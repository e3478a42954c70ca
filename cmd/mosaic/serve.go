package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mosaic-cdp/mosaic/activate"
	"github.com/mosaic-cdp/mosaic/privacy"
)

// ServeCmd holds the server's configuration: every field is a flag, an
// environment variable MOSAIC_<NAME> and a key of the JSON config file.
type ServeCmd struct {
	Data                   string        `help:"Directory for the embedded event log and database. Created if missing." default:"./mosaic-data" placeholder:"DIR"`
	Postgres               string        `help:"PostgreSQL URL (postgres://user:pass@host:5432/db) to keep the database and the event log there instead of in the data directory. Several servers with the same URL form one installation (see docs/scaling.md)." placeholder:"URL" env:"MOSAIC_POSTGRES_URL"`
	NodeID                 string        `help:"Name of this node in a PostgreSQL installation of several nodes, unique among them. Default: the host name and a random suffix."`
	AdvertiseURL           string        `help:"URL at which the other nodes reach this node's HTTP server, to forward admin API reads to the node running the sequential stages. Default: http:// and --addr." placeholder:"URL"`
	LeaseTime              time.Duration `help:"With PostgreSQL: how long the node running the sequential stages keeps them without renewing its lease; when it dies another node takes over within about 4/3 of this." default:"6s"`
	Addr                   string        `help:"Address to listen on for HTTP. Use 0.0.0.0:8080 to accept connections from other machines." default:"127.0.0.1:8080"`
	AdminToken             string        `help:"Admin API token. Prefer the environment variable MOSAIC_ADMIN_TOKEN. If unset, one is generated at first start, printed once, and only its hash kept." placeholder:"TOKEN"`
	PublicURL              string        `help:"URL at which browsers reach this server (e.g. https://cdp.example.com), used in the analytics.js settings. Default: taken from each request."`
	MaxInFlight            int           `help:"Tracking API requests handled at once; more get 429 with Retry-After. Raise it on bigger machines." default:"1024"`
	DefaultRegion          string        `help:"Region (e.g. NL, US) of phone numbers written without a country code, for identity resolution. Unset: such numbers are not used as identifiers."`
	ProfilePartitions      int           `help:"Workers that fold events into profiles in parallel (identity resolution stays one sequential stage). 0: one more than the CPUs." default:"0"`
	DedupeWindow           time.Duration `help:"How long a messageId is remembered to drop duplicates (at least 7 days recommended)." default:"168h"`
	PredictEvery           time.Duration `help:"How often the prediction models are refitted on their own (0: only with 'mosaic predict fit')." default:"24h"`
	PredictOrderEvent      string        `help:"Track event that records a purchase, for the predictions." default:"Order Completed"`
	PredictRevenueProperty string        `help:"Property of the order event that holds its value." default:"revenue"`
	PredictPurchaseHorizon time.Duration `help:"Horizon of predicted.purchases_<days>d (default 90 days: purchases_90d)." default:"2160h"`
	ShutdownTimeout        time.Duration `help:"How long to wait for in-flight requests on SIGINT/SIGTERM before closing." default:"30s"`
	WebhookAllowCIDR       string        `help:"Comma-separated CIDRs webhooks may reach although they are private, loopback or link-local (e.g. 127.0.0.0/8 for a receiver on this machine). Default: none; such addresses are refused." name:"webhook-allow-cidr" env:"MOSAIC_WEBHOOK_ALLOW_CIDR" placeholder:"CIDRS"`
	ConsentDefault         string        `help:"What a profile without any consent signal gets: deny (send it nothing) or grant." enum:"deny,grant" default:"deny"`
	DeliveryMaxAge         time.Duration `help:"How long a message is retried before it becomes a dead letter." default:"72h"`
	DeliveryRetention      time.Duration `help:"How long delivered and consent-blocked messages stay listed before they are deleted; pending and dead ones always stay." default:"168h"`
	DeliveryRetry          time.Duration `help:"Delay before the first retry of a failed delivery; each later one waits 4x longer (up to 6h), with jitter." default:"5s"`
	GeoipDB                string        `help:"MMDB file (MaxMind or ip-location-db layout) to look up the country, and with a city database the city, of each event's context.ip. No database ships with Mosaic; see docs/data-quality.md for free ones and their attribution terms. Unset: no geolocation." name:"geoip-db" env:"MOSAIC_GEOIP_DB" placeholder:"PATH"`
	RecordIP               bool          `help:"Put the client's address in context.ip of Tracking API messages that carry none, as Segment does, for geolocation. Per source, the cleaning setting ip truncates or removes it before it is stored." default:"true" negatable:""`
	TrustedProxies         string        `help:"Comma-separated CIDRs of proxies in front of the server (load balancers) whose X-Forwarded-For header names the client. Default: none; the peer's address is the client's." placeholder:"CIDRS"`
	Purposes               string        `help:"The consent purposes of this installation, comma-separated; ':granted' marks one that needs no consent, e.g. necessary:granted,analytics,marketing,support_chat. They are stored: the list seeds them at the first start and replaces them whenever it changes; empty or unchanged keeps the stored list, with changes made through /api/v1/privacy/purposes. Default at the first start: necessary:granted,analytics,personalisation,marketing,advertising,sale_sharing." placeholder:"LIST"`
	AnonymousExpiry        string        `help:"How long a profile known only by anonymous IDs may be inactive before its events are erased: 13mo (months), 400d (days) or off." default:"13mo" placeholder:"PERIOD"`
	LogFormat              string        `help:"Log format: text (for people) or json (for log collectors)." enum:"text,json" default:"text"`
	LogLevel               string        `help:"Log level: debug, info, warn or error." enum:"debug,info,warn,error" default:"info"`
}

// Validate checks the configuration once, before anything starts.
func (c *ServeCmd) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Data) == "" {
		errs = append(errs, errors.New("--data must name a directory"))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q is not host:port (e.g. 127.0.0.1:8080): %v", c.Addr, err))
	}
	if c.Postgres != "" && !strings.HasPrefix(c.Postgres, "postgres://") && !strings.HasPrefix(c.Postgres, "postgresql://") {
		errs = append(errs, errors.New("--postgres must be a URL starting with postgres:// (e.g. postgres://mosaic@127.0.0.1:5432/mosaic)"))
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, fmt.Errorf("--public-url %q must start with http:// or https://", c.PublicURL))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("--max-in-flight must be at least 1, not %d", c.MaxInFlight))
	}
	if c.ProfilePartitions < 0 || c.ProfilePartitions > 256 {
		errs = append(errs, fmt.Errorf("--profile-partitions must be 0 (one more than the CPUs) to 256, not %d", c.ProfilePartitions))
	}
	if c.DedupeWindow < time.Hour {
		errs = append(errs, fmt.Errorf("--dedupe-window must be at least 1h, not %s", c.DedupeWindow))
	}
	if _, err := activate.ParseAllowList(c.WebhookAllowCIDR); err != nil {
		errs = append(errs, fmt.Errorf("--webhook-allow-cidr: %v", err))
	}
	if _, err := parseCIDRs(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("--trusted-proxies: %v", err))
	}
	if c.DeliveryMaxAge < time.Minute {
		errs = append(errs, fmt.Errorf("--delivery-max-age must be at least 1m, not %s", c.DeliveryMaxAge))
	}
	if c.DeliveryRetention < time.Minute {
		errs = append(errs, fmt.Errorf("--delivery-retention must be at least 1m, not %s", c.DeliveryRetention))
	}
	if c.DeliveryRetry <= 0 {
		errs = append(errs, fmt.Errorf("--delivery-retry must be positive, not %s", c.DeliveryRetry))
	}
	if c.LeaseTime < 300*time.Millisecond {
		errs = append(errs, fmt.Errorf("--lease-time must be at least 300ms, not %s", c.LeaseTime))
	}
	if c.PredictEvery < 0 || (c.PredictEvery > 0 && c.PredictEvery < time.Minute) {
		errs = append(errs, fmt.Errorf("--predict-every must be 0 (off) or at least 1m, not %s", c.PredictEvery))
	}
	if c.PredictPurchaseHorizon < 24*time.Hour {
		errs = append(errs, fmt.Errorf("--predict-purchase-horizon must be at least 24h, not %s", c.PredictPurchaseHorizon))
	}
	if strings.TrimSpace(c.PredictOrderEvent) == "" || strings.TrimSpace(c.PredictRevenueProperty) == "" {
		errs = append(errs, errors.New("--predict-order-event and --predict-revenue-property must not be empty"))
	}
	if _, err := privacy.ParsePurposes(c.Purposes); err != nil {
		errs = append(errs, fmt.Errorf("--purposes: %v", err))
	}
	if _, err := privacy.ParseExpiry(c.AnonymousExpiry); err != nil {
		errs = append(errs, fmt.Errorf("--anonymous-expiry: %v", err))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout must be positive, not %s", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// Run serves until SIGINT or SIGTERM, then shuts down gracefully: stop
// accepting, finish in-flight requests, checkpoint, flush, exit 0.
func (c *ServeCmd) Run(g *Globals) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(*c, g.Stderr)
	if err := m.Open(ctx); err != nil {
		return err
	}
	m.Logger.Info("mosaic is running", "url", m.URL(), "data", c.Data, "version", version)
	<-ctx.Done()
	m.Logger.Info("shutting down", "timeout", c.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := m.Close(shutdownCtx); err != nil {
		return err
	}
	m.Logger.Info("stopped")
	return nil
}
