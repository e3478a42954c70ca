// Package api is Mosaic's admin REST API under /api/v1/: sources, the events
// they sent, their counters and quarantine. Every route needs
// "Authorization: Bearer <admin token>"; a source write key is never accepted
// here, as an admin token is never accepted by the Tracking API.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Store is what the API needs from storage.
type Store interface {
	CreateSource(ctx context.Context, src *mosaic.Source) error
	Source(ctx context.Context, id string) (*mosaic.Source, error)
	Sources(ctx context.Context) ([]*mosaic.Source, error)
	DeleteSource(ctx context.Context, id string) error
	Rejected(ctx context.Context, sourceID string, afterID int64, limit int) ([]*mosaic.Rejected, error)
}

// Events is what the API needs from the engine: the deduplicated event log.
type Events interface {
	Events(ctx context.Context, q engine.EventQuery) ([]mosaic.Event, uint64, error)
	Stats(ctx context.Context, sourceID string) (*mosaic.SourceStats, error)
	WaitProcessed(ctx context.Context, seq uint64) error
	Processed() uint64
}

// Options configures a Server.
type Options struct {
	Log *slog.Logger
	Now func() time.Time
	// TokenHash is the SHA-256 of the admin token.
	TokenHash [32]byte
	// SourceDeleted is called after a source is deleted, so caches of write
	// keys can forget it at once.
	SourceDeleted func(*mosaic.Source)
	// Profiles serves the profile routes; nil answers them 503.
	Profiles Profiles
	// Identity serves splits, rule changes and accounts; nil answers them 503.
	Identity Identity
	// Segments serves computed traits and audiences; nil answers them 503.
	Segments Segments
	// EventReader adds each event's stored message to profile timelines.
	EventReader EventReader
	// Imports runs file imports; nil answers the import routes 503.
	Imports Imports
	// Quality keeps cleaning settings and tracking plans; Violations
	// summarises what broke the plans. Nil answers their routes 503.
	Quality    Quality
	Violations ViolationSummaries
	// Destinations serves the destination routes; nil answers them 503.
	Destinations Destinations
	// Cluster serves GET /api/v1/cluster; nil answers it 503.
	Cluster Cluster
	// Schema serves the schema overview and plan drafts; nil answers them 503.
	Schema Schema
	// Predictions fits the prediction models and serves predicted traits;
	// nil answers its routes 503 and leaves "predicted" out of profiles.
	Predictions Predictions
	// Consent serves the consent routes; nil answers them 503.
	Consent Consent
	// Purposes keeps the purposes in the store and changes them at
	// runtime; nil: the purposes of Consent, which cannot change.
	Purposes PurposeCatalog
	// Requests serves data subject requests; nil answers them 503.
	Requests Requests
	// Tokens keeps role tokens; nil accepts only the admin token.
	Tokens Tokens
	// Users keeps users and their login sessions; nil: no logins.
	Users Users
	// PIITraits names the traits masked for roles without access to
	// personal data; nil means DefaultPIITraits.
	PIITraits []string
	// Audit records admin actions and reads of people's data; nil records
	// nothing.
	Audit Auditor
	// MaxWait caps how long GET /api/v1/events?wait= may hold a request.
	MaxWait time.Duration
	// Latency, if set, observes how long each request took, labelled with
	// its route (see NewLatency). Several Servers may share one.
	Latency *prometheus.HistogramVec
}

// NewLatency returns the admin API's latency histogram, registered with reg
// (nil: not registered), labelled by route: the pattern the request matched
// ("GET /api/v1/profiles/{ref}"), so that the label's values are bounded by
// the routes, not by the paths people are looked up by.
func NewLatency(reg prometheus.Registerer) *prometheus.HistogramVec {
	return promauto.With(reg).NewHistogramVec(prometheus.HistogramOpts{
		Name: "mosaic_api_request_seconds",
		Help: "Time from an admin API request's arrival at the admin API to its answer, by route pattern; requests answered before routing (failed authentication) are labelled \"other\".",
		// Finer below 10 ms, where a lookup that personalises a page must
		// answer (5 ms is a bound of its own).
		Buckets: []float64{0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}, []string{"route"})
}

// Server serves the admin API.
type Server struct {
	store  Store
	events Events
	opts   Options
	mux    *http.ServeMux
}

// New returns a Server; mount it at "/api/v1/".
func New(st Store, ev Events, opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = time.Minute
	}
	s := &Server{store: st, events: ev, opts: opts, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /api/v1/sources", s.createSource)
	s.mux.HandleFunc("GET /api/v1/sources", s.listSources)
	s.mux.HandleFunc("GET /api/v1/sources/{id}", s.getSource)
	s.mux.HandleFunc("DELETE /api/v1/sources/{id}", s.deleteSource)
	s.mux.HandleFunc("GET /api/v1/sources/{id}/stats", s.sourceStats)
	s.mux.HandleFunc("GET /api/v1/sources/{id}/rejected", s.listRejected)
	s.mux.HandleFunc("GET /api/v1/events", s.listEvents)
	s.profileRoutes()
	s.importRoutes()
	s.identityRoutes()
	s.destinationRoutes()
	s.audienceRoutes()
	s.clusterRoutes()
	s.schemaRoutes()
	s.predictionRoutes()
	s.consentRoutes()
	s.purposeRoutes()
	s.auditRoutes()
	s.tokenRoutes()
	s.requestRoutes()
	s.userRoutes()
	s.meRoutes()
	s.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, mosaic.Errorf(mosaic.ENOTFOUND, "No admin API route %s %s. See docs/api.md for the routes.", r.Method, r.URL.Path))
	})
}

// ServeHTTP checks the admin token, then routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Latency != nil {
		start := time.Now()
		defer func() { s.observe(r, time.Since(start)) }()
	}
	if r.Method == http.MethodGet && r.URL.Path == "/api/v1/openapi.json" {
		serveOpenAPI(w, r) // documentation, public like the docs it generates
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/api/v1/login" {
		s.serveAudited(w, r, nil, http.HandlerFunc(s.login)) // the one route without a token
		return
	}
	p, err := s.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mosaic-admin"`)
		s.serveAudited(w, r, nil, s.failWith(err))
		return
	}
	r = r.WithContext(withPrincipal(r.Context(), p))
	if err := s.authorize(r, p); err != nil {
		s.serveAudited(w, r, p, s.failWith(err))
		return
	}
	s.serveAudited(w, r, p, s.masked(p, s.mux))
}

// observe records how long r took under its route.
func (s *Server) observe(r *http.Request, took time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "other"
	}
	s.opts.Latency.WithLabelValues(route).Observe(took.Seconds())
}

// Protect wraps h so that it needs the admin token too, for operator routes
// outside /api/v1/ such as /debug/pprof/.
func (s *Server) Protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err == nil && p.Role != RoleAdmin {
			err = mosaic.Errorf(mosaic.EFORBIDDEN, "Operator routes need an admin token.")
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mosaic-admin"`)
			s.error(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// failWith answers err.
func (s *Server) failWith(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.error(w, r, err) })
}

// authenticate returns who the request's bearer token names: the admin
// token of the configuration, or a role token.
func (s *Server) authenticate(r *http.Request) (*Principal, error) {
	err := s.checkAdminToken(r)
	if err == nil {
		return &Principal{Name: "admin", Role: RoleAdmin, kind: "admin"}, nil
	}
	_, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if p, ok := s.roleToken(r.Context(), strings.TrimSpace(token)); ok {
		return p, nil
	}
	if p, ok := s.sessionToken(r.Context(), strings.TrimSpace(token)); ok {
		return p, nil
	}
	return nil, err
}

func (s *Server) checkAdminToken(r *http.Request) error {
	h := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(h, " ")
	switch {
	case h == "":
		return mosaic.Errorf(mosaic.EUNAUTHORIZED, "The admin API needs an admin token: send the header 'Authorization: Bearer <token>'. The token was printed when the server first started, or is the value of MOSAIC_ADMIN_TOKEN.")
	case !strings.EqualFold(scheme, "Bearer"):
		return mosaic.Errorf(mosaic.EUNAUTHORIZED, "The admin API takes only an admin token ('Authorization: Bearer <token>'); a source write key works only on the Tracking API (/v1/*).")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(sum[:], s.opts.TokenHash[:]) != 1 {
		return mosaic.Errorf(mosaic.EUNAUTHORIZED, "The admin token is not valid. Check MOSAIC_ADMIN_TOKEN or the token printed at first start (reset it with 'mosaic token reset').")
	}
	return nil
}

func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	respond.Error(w, r, s.opts.Log, err)
}
