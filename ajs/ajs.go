// Package ajs serves Segment's browser library, analytics-next, the way
// Segment's CDN does, so that a website adopts Mosaic by changing only the
// host in the Segment snippet it already has.
//
// The snippet loads {host}/analytics.js/v1/{writeKey}/analytics.min.js. That
// script fetches {host}/v1/projects/{writeKey}/settings, loads optional
// chunks from {host}/analytics-next/bundles/, and posts events to the
// apiHost the settings name. Mosaic answers the settings with its own address,
// so events come back to its Tracking API (the short paths /v1/t, /v1/i,
// /v1/p, /v1/s, /v1/g and /v1/a, which package collect accepts).
//
// The library is @segment/analytics-next, pinned in package.json and copied
// into assets/ by scripts/vendor-analytics-next.sh; [LibraryVersion] names it.
//
// The library finds its host from a script tag only when the page uses
// https. A page on plain http must also set analytics._cdn to Mosaic's
// origin in the snippet, before the library loads.
package ajs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/respond"
)

// Options configures the handler. The zero value works behind no proxy or
// behind one that sets the Host and X-Forwarded-Proto headers.
type Options struct {
	// PublicURL is how browsers reach this server, such as
	// "https://cdp.example.com" or "https://example.com/mosaic". The settings
	// document tells the library to send events there. Empty (the default)
	// means: the scheme from X-Forwarded-Proto or the connection, the host
	// from the request's Host header. Set it when a proxy rewrites the Host
	// header or drops X-Forwarded-Proto.
	PublicURL string

	// Logger receives internal errors, such as a failed write key lookup.
	// Nil means slog.Default().
	Logger *slog.Logger
}

// Validate reports whether the options can be used, and what to fix if not.
func (o Options) Validate() error {
	if o.PublicURL == "" {
		return nil
	}
	_, err := parsePublicURL(o.PublicURL)
	return err
}

// WriteKeyChecker finds the source a write key belongs to. store.Store
// satisfies it.
type WriteKeyChecker interface {
	// SourceByWriteKey returns the active source with that write key, or an
	// error with code mosaic.ENOTFOUND if no active source has it.
	SourceByWriteKey(ctx context.Context, key string) (*mosaic.Source, error)
}

// handler serves the library, its chunks and the settings.
type handler struct {
	keys   WriteKeyChecker
	public *publicBase // nil: derive from each request
	lib    *library
	log    *slog.Logger
	mux    *http.ServeMux
}

// NewHandler returns the handler for the paths /analytics.js/,
// /analytics-next/ and /v1/projects/:
//
//	GET /analytics.js/v1/{writeKey}/analytics.min.js   the library (also analytics.js, and under /platform/)
//	GET /analytics-next/bundles/{file}                  its chunks
//	GET /v1/projects/{writeKey}/settings                its settings; 404 for an unknown write key
//
// Every response allows any origin (CORS), and OPTIONS answers preflights.
// Other paths get 404, other methods 405, both with a JSON error body.
// NewHandler panics if opts do not pass [Options.Validate]: validate
// configuration first.
func NewHandler(keys WriteKeyChecker, opts Options) http.Handler {
	if err := opts.Validate(); err != nil {
		panic("ajs.NewHandler: " + err.Error())
	}
	lib, err := embedded()
	if err != nil {
		panic("ajs.NewHandler: " + err.Error()) // a broken build, caught by this package's tests
	}
	h := &handler{keys: keys, lib: lib, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.Default()
	}
	if opts.PublicURL != "" {
		base, _ := parsePublicURL(opts.PublicURL) // validated above
		h.public = &base
	}
	h.mux.HandleFunc("/analytics.js/v1/{writeKey}/{file}", h.serveScript)
	h.mux.HandleFunc("/analytics.js/v1/{writeKey}/platform/{file}", h.serveScript)
	h.mux.HandleFunc("/analytics-next/bundles/{file}", h.serveChunk)
	h.mux.HandleFunc("/v1/projects/{writeKey}/settings", h.serveSettings)
	h.mux.HandleFunc("/v1/projects/{writeKey}/settings/{$}", h.serveSettings)
	h.mux.HandleFunc("/", notFound)
	return h
}

// ServeHTTP adds CORS headers and sorts requests by method.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Pages on any site load these files and the settings with fetch or
	// script tags; none of it is private, so any origin may read it.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.mux.ServeHTTP(w, r)
	case http.MethodOptions:
		if _, pattern := h.mux.Handler(r); pattern == "/" {
			notFound(w, r)
			return
		}
		preflight(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		respond.Error(w, r, h.log, mosaic.Errorf(mosaic.EMETHOD,
			"%s is not allowed here: the browser library and its settings are read with GET.", r.Method))
	}
}

// preflight answers a CORS preflight for a GET, allowing whatever request
// headers the browser asks for.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "86400")
	h.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	respond.Error(w, r, nil, mosaic.Errorf(mosaic.ENOTFOUND,
		"Nothing is served at %s. The browser library is at /analytics.js/v1/WRITE_KEY/analytics.min.js and its settings at /v1/projects/WRITE_KEY/settings.",
		r.URL.Path))
}

// serveScript serves the library for any write key: the key only matters for
// the settings, which the script fetches next.
func (h *handler) serveScript(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("file") {
	case "analytics.min.js", "analytics.js":
		h.lib.script.serve(w, r)
	default:
		notFound(w, r)
	}
}

// serveChunk serves a chunk by exact name. Names are looked up in a fixed
// table, never joined to a file path, so no request can reach other files.
func (h *handler) serveChunk(w http.ResponseWriter, r *http.Request) {
	a, ok := h.lib.chunks[r.PathValue("file")]
	if !ok {
		notFound(w, r)
		return
	}
	a.serve(w, r)
}

// serveSettings answers the settings of a write key, or 404 for a key no
// active source has. The library then logs the error body in the browser's
// console and sends nothing, which is what a developer should see.
func (h *handler) serveSettings(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("writeKey")
	if err := h.checkKey(r.Context(), key); err != nil {
		// A key may be created a moment later; never let a cache keep the 404.
		w.Header().Set("Cache-Control", "no-store")
		respond.Error(w, r, h.log, err)
		return
	}
	base, err := h.base(r)
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		respond.Error(w, r, h.log, mosaic.Errorf(mosaic.EINVALID,
			"The request has no Host header, so Mosaic cannot tell the browser library where to send events. Use HTTP/1.1 or configure Mosaic's public URL."))
		return
	}
	body, err := json.Marshal(newSettings(key, base))
	if err != nil {
		respond.Error(w, r, h.log, fmt.Errorf("encoding the settings of a write key: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	// Short: a deleted source's pages should stop loading within a minute.
	w.Header().Set("Cache-Control", "public, max-age=60")
	if h.public == nil {
		w.Header().Set("Vary", "X-Forwarded-Proto")
	}
	w.Write(body)
}

// checkKey returns nil if key belongs to an active source, a not_found error
// that tells the developer what to do if not, or the lookup's own error.
func (h *handler) checkKey(ctx context.Context, key string) error {
	src, err := h.keys.SourceByWriteKey(ctx, key)
	if err == nil && src != nil {
		return nil
	}
	if err != nil && mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		return fmt.Errorf("looking up a write key for the browser settings: %w", err)
	}
	if len(key) > 64 {
		key = key[:64] + "…"
	}
	return mosaic.Errorf(mosaic.ENOTFOUND,
		"Unknown write key %q: no active Mosaic source has it, so the browser library will send nothing. Put the write key of an existing source in the snippet (mosaic sources list), or create a source (mosaic sources create NAME).",
		key)
}

// base returns where browsers reach this server.
func (h *handler) base(r *http.Request) (publicBase, error) {
	if h.public != nil {
		return *h.public, nil
	}
	return requestBase(r)
}
