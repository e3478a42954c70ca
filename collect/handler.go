package collect

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mosaic-cdp/mosaic"
)

// Appender is the durable event log as the Tracking API sees it. The
// package eventlog's *Log implements it.
type Appender interface {
	// Append stores records durably, in order, and returns the sequence
	// number of the first one. It returns only once they are durable (or
	// not stored). It must not keep records, or any slice of them, after it
	// returns: the handler reuses their memory for later requests. An error
	// that is or wraps syscall.ENOSPC (or that Options.IsNoSpace accepts)
	// means the disk is full.
	Append(ctx context.Context, records [][]byte) (first uint64, err error)
}

// Sources finds the source a write key belongs to. SourceCache and the
// store implement it.
type Sources interface {
	// SourceByWriteKey returns the active source with that write key, or a
	// *mosaic.Error with code ENOTFOUND if there is none (or it was deleted).
	SourceByWriteKey(ctx context.Context, key string) (*mosaic.Source, error)
}

// Quarantine keeps the messages that failed validation, with the reason, so
// nothing sent is silently dropped. The store implements it.
type Quarantine interface {
	AddRejected(ctx context.Context, rejected []*mosaic.Rejected) error
}

// Options configure a Handler. Zero fields take their defaults (see
// DefaultOptions), so a caller sets only what it changes.
type Options struct {
	// Log receives what an operator must see: failed appends, store
	// outages. Default: slog.Default().
	Log *slog.Logger
	// Now is the clock that stamps receivedAt. Default: time.Now.
	Now func() time.Time
	// Registerer receives the metrics (see metrics.go). Nil: not registered.
	Registerer prometheus.Registerer
	// MaxInFlight is how many Tracking API requests are handled at once;
	// more get 429 with Retry-After. It bounds memory (each request holds
	// its body). Default 512; raise it on bigger machines.
	MaxInFlight int
	// MaxBodyBytes limits a request body, after gzip inflation. Default
	// 500 KiB, Segment's batch limit.
	MaxBodyBytes int
	// MaxEventBytes limits one message. Default 32 KiB, Segment's limit.
	MaxEventBytes int
	// MaxEnvelopeBytes limits a batch's context and integrations together,
	// which are copied into every message. Default 8 KiB.
	MaxEnvelopeBytes int
	// MaxDepth limits how deep objects and arrays nest in a message (the
	// message itself counts 1). Default 32.
	MaxDepth int
	// MaxBatchEvents limits the messages in one batch. Default 2,500,
	// Segment's limit.
	MaxBatchEvents int
	// IsNoSpace reports whether an Append error means the disk is full, for
	// logs whose errors do not wrap syscall.ENOSPC. Optional.
	IsNoSpace func(error) bool
	// NewMessageID makes the messageId of messages sent without one.
	// Default: a random UUID.
	NewMessageID func() string
	// Cleaner standardises each accepted message before it is stored
	// (package clean). Nil: messages are stored as normalised.
	Cleaner Cleaner
	// Suppressed reports whether a normalised event carries an identifier
	// on the suppression list (package privacy): such an event is answered
	// like any other and not stored. Nil: nothing is suppressed.
	Suppressed func(ev *mosaic.Event) bool
	// RecordIP puts the client's address in context.ip of messages that
	// carry none, for geolocation (package clean), as Segment and
	// RudderStack do. Default off.
	RecordIP bool
	// TrustedProxies are the networks of proxies in front of the server
	// whose X-Forwarded-For header is believed (see clientIP). Default:
	// none; the peer's address is the client's.
	TrustedProxies []netip.Prefix
}

// DefaultOptions returns the defaults: Segment's limits and a limiter
// sized for a small server.
func DefaultOptions() Options {
	return Options{
		Log:              slog.Default(),
		Now:              time.Now,
		MaxInFlight:      512,
		MaxBodyBytes:     500 << 10,
		MaxEventBytes:    32 << 10,
		MaxEnvelopeBytes: 8 << 10,
		MaxDepth:         32,
		MaxBatchEvents:   2500,
		NewMessageID:     uuid.NewString,
	}
}

// withDefaults fills the zero fields of o from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Log == nil {
		o.Log = d.Log
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.NewMessageID == nil {
		o.NewMessageID = d.NewMessageID
	}
	o.MaxInFlight = positiveOr(o.MaxInFlight, d.MaxInFlight)
	o.MaxBodyBytes = positiveOr(o.MaxBodyBytes, d.MaxBodyBytes)
	o.MaxEventBytes = positiveOr(o.MaxEventBytes, d.MaxEventBytes)
	o.MaxEnvelopeBytes = positiveOr(o.MaxEnvelopeBytes, d.MaxEnvelopeBytes)
	o.MaxDepth = positiveOr(o.MaxDepth, d.MaxDepth)
	o.MaxBatchEvents = positiveOr(o.MaxBatchEvents, d.MaxBatchEvents)
	return o
}

// positiveOr returns v if it is positive, else def.
func positiveOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// Handler serves the Tracking API. Mount it at "/v1/".
type Handler struct {
	app     Appender
	src     Sources
	q       Quarantine
	opts    Options
	lim     limits
	mux     *http.ServeMux
	sem     chan struct{} // one token per request in flight
	metrics *metrics
	states  sync.Pool // *reqState
	// partsCleaner is opts.Cleaner if it is a PartsCleaner: then the
	// scanner keeps the members of the parts it reads.
	partsCleaner PartsCleaner
	gzip         sync.Pool // *gzip.Reader
}

// routes are the Tracking API's paths: Segment's, analytics.js's one-letter
// aliases, and /v1/import, which older SDKs post batches to. An empty type
// means a batch.
var routes = []struct{ path, typ string }{
	{"/v1/identify", mosaic.TypeIdentify}, {"/v1/i", mosaic.TypeIdentify},
	{"/v1/track", mosaic.TypeTrack}, {"/v1/t", mosaic.TypeTrack},
	{"/v1/page", mosaic.TypePage}, {"/v1/p", mosaic.TypePage},
	{"/v1/screen", mosaic.TypeScreen}, {"/v1/s", mosaic.TypeScreen},
	{"/v1/group", mosaic.TypeGroup}, {"/v1/g", mosaic.TypeGroup},
	{"/v1/alias", mosaic.TypeAlias}, {"/v1/a", mosaic.TypeAlias},
	{"/v1/batch", ""}, {"/v1/import", ""},
}

// NewHandler returns the Tracking API handler. Messages go to app, the
// write keys are looked up in src (use a SourceCache), invalid messages go
// to q.
func NewHandler(app Appender, src Sources, q Quarantine, opts Options) *Handler {
	opts = opts.withDefaults()
	h := &Handler{
		app: app, src: src, q: q, opts: opts,
		lim: limits{
			MaxEventBytes: opts.MaxEventBytes, MaxEnvelopeBytes: opts.MaxEnvelopeBytes,
			MaxDepth: opts.MaxDepth, MaxBatchEvents: opts.MaxBatchEvents,
		},
		mux: http.NewServeMux(),
		sem: make(chan struct{}, opts.MaxInFlight),
	}
	h.partsCleaner, _ = opts.Cleaner.(PartsCleaner)
	h.metrics = newMetrics(opts.Registerer, func() float64 { return float64(len(h.sem)) })
	h.states.New = func() any { return new(reqState) }
	for _, rt := range routes {
		h.mux.Handle(rt.path, h.route(rt.path, rt.typ))
	}
	h.mux.HandleFunc("/", h.notFound)
	return h
}

// ServeHTTP answers a Tracking API request. Every response carries CORS
// headers, errors included, so browsers can read the error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" {
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr["Vary"] = varyOrigin
	} else {
		hdr["Access-Control-Allow-Origin"] = anyOrigin
	}
	// Retry-After is not a CORS-safelisted header: without this, a page's
	// script could not see how long to wait after a 429 or 503.
	hdr["Access-Control-Expose-Headers"] = exposed
	h.mux.ServeHTTP(w, r)
}

// Shared header values: net/http does not modify them.
var (
	varyOrigin   = []string{"Origin"}
	anyOrigin    = []string{"*"}
	exposed      = []string{"Retry-After"}
	allowMethods = []string{"POST, OPTIONS"}
	allowHeaders = []string{"Authorization, Content-Type, Content-Encoding, X-Retry-Count"}
	maxAge       = []string{"86400"}
	jsonType     = []string{"application/json"}
)

// route returns the handler of one path.
func (h *Handler) route(label, typ string) http.HandlerFunc {
	ok := h.metrics.requests.WithLabelValues(label, "200") // the common case, looked up once
	return func(w http.ResponseWriter, r *http.Request) {
		var status int
		switch r.Method {
		case http.MethodPost:
			status = h.ingest(w, r, typ)
		case http.MethodOptions:
			status = preflight(w, r)
		default:
			w.Header().Set("Allow", "POST, OPTIONS")
			status = h.fail(w, r, mosaic.Errorf(mosaic.EMETHOD,
				"%s %s is not part of the Tracking API. Send events with POST.", r.Method, r.URL.Path), nil)
		}
		if status == http.StatusOK {
			ok.Inc()
		} else {
			h.metrics.requests.WithLabelValues(label, strconv.Itoa(status)).Inc()
		}
	}
}

// preflight answers a browser's CORS preflight: analytics.js posts
// text/plain with an Authorization header, and retries add X-Retry-Count.
func preflight(w http.ResponseWriter, r *http.Request) int {
	hdr := w.Header()
	hdr["Access-Control-Allow-Methods"] = allowMethods
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		hdr.Set("Access-Control-Allow-Headers", req)
		hdr.Add("Vary", "Access-Control-Request-Headers")
	} else {
		hdr["Access-Control-Allow-Headers"] = allowHeaders
	}
	hdr["Access-Control-Max-Age"] = maxAge
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	status := h.fail(w, r, mosaic.Errorf(mosaic.ENOTFOUND,
		"No Tracking API endpoint at %s. Post to /v1/batch, /v1/track, /v1/identify, /v1/page, /v1/screen, /v1/group or /v1/alias.",
		r.URL.Path), nil)
	h.metrics.requests.WithLabelValues("other", strconv.Itoa(status)).Inc()
}

// isNoSpace reports whether an append error means the disk is full.
func (h *Handler) isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || (h.opts.IsNoSpace != nil && h.opts.IsNoSpace(err))
}
