package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/predict/live"
	"github.com/mosaic-cdp/mosaic/respond"
)

// Predictions is what the API needs from the prediction service.
type Predictions interface {
	Start(ctx context.Context, asOf time.Time, trigger string) (*live.Run, error)
	Status() *live.Run
	Models(ctx context.Context) ([]live.ModelInfo, error)
	Prediction(ctx context.Context, profileID uint64) (*live.Prediction, error)
	Predicted(profileID uint64) map[string]any
}

func (s *Server) predictionRoutes() {
	s.mux.HandleFunc("POST /api/v1/predictions/fit", s.startFit)
	s.mux.HandleFunc("GET /api/v1/predictions/fit", s.fitStatus)
	s.mux.HandleFunc("GET /api/v1/predictions/models", s.predictionModels)
	s.mux.HandleFunc("GET /api/v1/profiles/{ref}/predictions", s.profilePredictions)
	s.mux.HandleFunc("GET /api/v1/profiles/{ref}/recommendations", s.profileRecommendations)
}

func (s *Server) predictions() (Predictions, error) {
	if s.opts.Predictions == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Predictions are not available on this server.")
	}
	return s.opts.Predictions, nil
}

// fitRequest is the body of POST /api/v1/predictions/fit.
type fitRequest struct {
	// AsOf is a date (2006-01-02, midnight UTC) or an RFC 3339 time; empty
	// means now.
	AsOf string `json:"as_of"`
}

// parseAsOf reads an as-of date or time.
func parseAsOf(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, mosaic.Errorf(mosaic.EINVALID, "as_of %q is neither a date (1997-09-30) nor an RFC 3339 time (1997-09-30T00:00:00Z).", v)
}

func (s *Server) startFit(w http.ResponseWriter, r *http.Request) {
	ps, err := s.predictions()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req fitRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			s.error(w, r, err)
			return
		}
	}
	asOf, err := parseAsOf(req.AsOf)
	if err != nil {
		s.error(w, r, err)
		return
	}
	run, err := ps.Start(r.Context(), asOf, "api")
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusAccepted, run)
}

func (s *Server) fitStatus(w http.ResponseWriter, r *http.Request) {
	ps, err := s.predictions()
	if err == nil {
		if run := ps.Status(); run != nil {
			respond.JSON(w, http.StatusOK, run)
			return
		}
		err = mosaic.Errorf(mosaic.ENOTFOUND, "No fit has run since the server started. Start one with POST /api/v1/predictions/fit; the latest fit's models are at GET /api/v1/predictions/models.")
	}
	s.error(w, r, err)
}

func (s *Server) predictionModels(w http.ResponseWriter, r *http.Request) {
	ps, err := s.predictions()
	if err != nil {
		s.error(w, r, err)
		return
	}
	models, err := ps.Models(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"models": models})
}

// profilePrediction finds the profile ref names and its predictions.
func (s *Server) profilePrediction(r *http.Request) (string, *live.Prediction, error) {
	ps, err := s.predictions()
	if err != nil {
		return "", nil, err
	}
	profiles, err := s.profiles()
	if err != nil {
		return "", nil, err
	}
	id, err := profiles.Find(r.PathValue("ref"))
	if err != nil {
		return "", nil, err
	}
	p, err := ps.Prediction(r.Context(), uint64(id))
	if mosaic.ErrorCode(err) == mosaic.ENOTFOUND {
		err = mosaic.Errorf(mosaic.ENOTFOUND, "Profile %s has no predictions yet: they are written by a fit (POST /api/v1/predictions/fit) over the profiles that existed then.", id)
	}
	return id.String(), p, err
}

func (s *Server) profilePredictions(w http.ResponseWriter, r *http.Request) {
	id, p, err := s.profilePrediction(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{
		"profile": id, "version": p.Version, "fit_at": p.FitAt, "as_of": p.AsOf, "traits": p.Traits,
	})
}

func (s *Server) profileRecommendations(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 10, 1, 100)
	if err != nil {
		s.error(w, r, err)
		return
	}
	id, p, err := s.profilePrediction(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	recs := []any{}
	if t, ok := p.Traits["recommended_products"]; ok {
		if list, ok := t.Inputs["recommendations"].([]any); ok {
			recs = list[:min(len(list), int(limit))]
		}
	}
	respond.JSON(w, http.StatusOK, map[string]any{
		"profile": id, "version": p.Version, "fit_at": p.FitAt, "recommendations": recs,
	})
}

// predictedView is a profile with its predicted traits.
type predictedView struct {
	*engine.ProfileView
	Predicted map[string]any `json:"predicted,omitempty"`
}

// withPredicted adds the latest fit's predicted traits to a profile view.
func (s *Server) withPredicted(v *engine.ProfileView) any {
	if s.opts.Predictions == nil {
		return v
	}
	return predictedView{ProfileView: v, Predicted: s.opts.Predictions.Predicted(uint64(v.ID))}
}
