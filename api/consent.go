package api

import (
	"context"
	"net/http"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/respond"
)

// Consent is what the API needs from package privacy's consent service.
type Consent interface {
	View(ctx context.Context, ref string, at time.Time) (*privacy.View, error)
	Set(ctx context.Context, ref string, req privacy.SetRequest, actor string) (*privacy.View, error)
	Config() *privacy.Config
}

func (s *Server) consentRoutes() {
	s.mux.HandleFunc("GET /api/v1/profiles/{ref}/consent", s.getConsent)
	s.mux.HandleFunc("PUT /api/v1/profiles/{ref}/consent", s.putConsent)
}

func (s *Server) consent() (Consent, error) {
	if s.opts.Consent == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Consent is not available on this server.")
	}
	return s.opts.Consent, nil
}

// getConsent serves a profile's consent now, or at the moment ?at= (RFC
// 3339), with the history of decisions up to then.
func (s *Server) getConsent(w http.ResponseWriter, r *http.Request) {
	c, err := s.consent()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var at time.Time
	if v := r.URL.Query().Get("at"); v != "" {
		if at, err = time.Parse(time.RFC3339Nano, v); err != nil {
			s.error(w, r, mosaic.Errorf(mosaic.EINVALID, "Query parameter \"at\" must be an RFC 3339 time such as 2026-03-01T12:00:00Z, not %q.", v))
			return
		}
	}
	v, err := c.View(r.Context(), r.PathValue("ref"), at)
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, v)
}

// putConsent grants or withdraws consent to purposes in one call.
func (s *Server) putConsent(w http.ResponseWriter, r *http.Request) {
	c, err := s.consent()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req privacy.SetRequest
	if err := decodeJSON(r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.refreshPurposes(r.Context()); err != nil { // checked against the current list
		s.error(w, r, err)
		return
	}
	v, err := c.Set(r.Context(), r.PathValue("ref"), req, actorOf(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, v)
}

// actorOf names who makes a request, for records that must say it.
func actorOf(r *http.Request) string {
	if p := principalOf(r.Context()); p != nil {
		return p.Name
	}
	return "admin"
}
