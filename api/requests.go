package api

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/store"
)

// Requests is what the API needs from package privacy's data subject
// requests.
type Requests interface {
	Create(ctx context.Context, in privacy.RequestInput, actor string) (*store.PrivacyRequest, error)
	Get(ctx context.Context, id string) (*store.PrivacyRequest, error)
	List(ctx context.Context) ([]*store.PrivacyRequest, error)
	Export(ctx context.Context, id, format string) (string, error)
	Extend(ctx context.Context, id string, in privacy.ExtendInput) (*store.PrivacyRequest, error)
	SetRetention(ctx context.Context, sourceID string, days int) error
	Inventory(ctx context.Context, sources []*mosaic.Source, purposes []privacy.Purpose) (*privacy.Inventory, error)
}

func (s *Server) requestRoutes() {
	s.mux.HandleFunc("POST /api/v1/privacy/requests", s.createRequest)
	s.mux.HandleFunc("GET /api/v1/privacy/requests", s.listRequests)
	s.mux.HandleFunc("GET /api/v1/privacy/requests/{id}", s.getRequest)
	s.mux.HandleFunc("GET /api/v1/privacy/requests/{id}/export", s.exportRequest)
	s.mux.HandleFunc("POST /api/v1/privacy/requests/{id}/extend", s.extendRequest)
	s.mux.HandleFunc("PUT /api/v1/sources/{id}/retention", s.putRetention)
	s.mux.HandleFunc("GET /api/v1/privacy/inventory", s.inventory)
}

// putRetention sets how many days a source's raw events are kept.
func (s *Server) putRetention(w http.ResponseWriter, r *http.Request) {
	rs, err := s.requests()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req struct {
		Days *int `json:"days"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	if req.Days == nil {
		s.error(w, r, mosaic.Errorf(mosaic.EINVALID, `Give the retention in days: {"days": 30} (7, 30, 90, 180, 365, or 0 for unlimited).`))
		return
	}
	src, err := s.store.Source(r.Context(), r.PathValue("id"))
	if err == nil {
		err = rs.SetRetention(r.Context(), src.ID, *req.Days)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"source_id": src.ID, "retention_days": *req.Days})
}

// inventory serves the record of processing.
func (s *Server) inventory(w http.ResponseWriter, r *http.Request) {
	rs, err := s.requests()
	if err != nil {
		s.error(w, r, err)
		return
	}
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	var purposes []privacy.Purpose
	if c, err := s.consent(); err == nil {
		purposes = c.Config().Purposes().List()
	}
	inv, err := rs.Inventory(r.Context(), srcs, purposes)
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, inv)
}

func (s *Server) requests() (Requests, error) {
	if s.opts.Requests == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Privacy requests are not available on this server.")
	}
	return s.opts.Requests, nil
}

// requestJSON is a request as the API shows it: its record, whether it is
// overdue, and the days left until its deadline.
type requestJSON struct {
	*store.PrivacyRequest
	Outcome json.RawMessage `json:"outcome"`
	Overdue bool            `json:"overdue"`
	DueIn   float64         `json:"due_in_days"`
}

func (s *Server) requestView(r *store.PrivacyRequest) requestJSON {
	open := r.Status == privacy.StatusPending || r.Status == privacy.StatusRunning
	left := r.DueAt.Sub(s.opts.Now())
	out := requestJSON{PrivacyRequest: r, Outcome: r.Outcome, Overdue: open && left < 0, DueIn: float64(int(left.Hours()/24*10)) / 10}
	if len(out.Outcome) == 0 {
		out.Outcome = json.RawMessage(`{}`)
	}
	return out
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request) {
	rs, err := s.requests()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var in privacy.RequestInput
	if err := decodeJSON(r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	req, err := rs.Create(r.Context(), in, actorOf(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusAccepted, s.requestView(req))
}

// listRequests lists requests, oldest first; ?due=overdue or ?due=soon
// (open and due within 7 days, overdue included) narrows the list.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) {
	rs, err := s.requests()
	if err != nil {
		s.error(w, r, err)
		return
	}
	due := r.URL.Query().Get("due")
	if due != "" && due != "overdue" && due != "soon" {
		s.error(w, r, mosaic.Errorf(mosaic.EINVALID, "Query parameter \"due\" must be overdue or soon, not %q.", due))
		return
	}
	list, err := rs.List(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := []requestJSON{}
	for _, req := range list {
		v := s.requestView(req)
		open := req.Status == privacy.StatusPending || req.Status == privacy.StatusRunning
		switch {
		case due == "overdue" && !v.Overdue, due == "soon" && (!open || req.DueAt.Sub(s.opts.Now()) > 7*24*time.Hour):
			continue
		}
		out = append(out, v)
	}
	respond.JSON(w, http.StatusOK, map[string]any{"requests": out})
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) {
	rs, err := s.requests()
	if err == nil {
		var req *store.PrivacyRequest
		if req, err = rs.Get(r.Context(), r.PathValue("id")); err == nil {
			respond.JSON(w, http.StatusOK, s.requestView(req))
			return
		}
	}
	s.error(w, r, err)
}

// exportRequest serves an access request's export: JSON (default) or, with
// ?format=csv, the events as CSV.
func (s *Server) exportRequest(w http.ResponseWriter, r *http.Request) {
	rs, err := s.requests()
	if err != nil {
		s.error(w, r, err)
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		s.error(w, r, mosaic.Errorf(mosaic.EINVALID, "Query parameter \"format\" must be json or csv, not %q.", format))
		return
	}
	path, err := rs.Export(r.Context(), r.PathValue("id"), format)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ct := "application/json"
	if format == "csv" {
		ct = "text/csv; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filepath.Base(path)+`"`)
	http.ServeFile(w, r, path)
}

// extendRequest moves a request's deadline once (GDPR: by up to two
// months; CCPA: by 45 days), with the reason the person is told.
func (s *Server) extendRequest(w http.ResponseWriter, r *http.Request) {
	rs, err := s.requests()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var in privacy.ExtendInput
	if err := decodeJSON(r, &in); err != nil {
		s.error(w, r, err)
		return
	}
	req, err := rs.Extend(r.Context(), r.PathValue("id"), in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, s.requestView(req))
}
