package api

import (
	"context"
	"net/http"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/activate"
	"github.com/mosaic-cdp/mosaic/respond"
)

// Destinations is what the API needs from activation (activate.Service).
type Destinations interface {
	Kinds() activate.Kinds
	Create(ctx context.Context, in activate.Input) (*activate.View, error)
	Get(ctx context.Context, id string) (*activate.View, error)
	List(ctx context.Context) ([]*activate.View, error)
	Update(ctx context.Context, id string, in activate.Input) (*activate.View, error)
	Delete(ctx context.Context, id string) error
	SetStatus(ctx context.Context, id, status, reason string) (*activate.View, error)
	Test(ctx context.Context, id string) (*activate.TestResult, error)
	Flush(ctx context.Context, id string) error
	Deliveries(ctx context.Context, id, status string, before int64, limit int) ([]activate.DeliveryView, error)
	Replay(ctx context.Context, id, status string) (int64, error)
	Stats(ctx context.Context, id string) (*activate.Stats, error)
	Snapshot(ctx context.Context, id string) (*activate.SnapshotResult, error)
}

func (s *Server) destinationRoutes() {
	s.mux.HandleFunc("GET /api/v1/destination-types", s.destinationTypes)
	s.mux.HandleFunc("POST /api/v1/destinations", s.createDestination)
	s.mux.HandleFunc("GET /api/v1/destinations", s.listDestinations)
	s.mux.HandleFunc("GET /api/v1/destinations/{id}", s.getDestination)
	s.mux.HandleFunc("PUT /api/v1/destinations/{id}", s.updateDestination)
	s.mux.HandleFunc("DELETE /api/v1/destinations/{id}", s.deleteDestination)
	s.mux.HandleFunc("POST /api/v1/destinations/{id}/test", s.testDestination)
	s.mux.HandleFunc("POST /api/v1/destinations/{id}/pause", s.setDestinationStatus(activate.StatusPaused))
	s.mux.HandleFunc("POST /api/v1/destinations/{id}/resume", s.setDestinationStatus(activate.StatusActive))
	s.mux.HandleFunc("POST /api/v1/destinations/{id}/flush", s.flushDestination)
	s.mux.HandleFunc("POST /api/v1/destinations/{id}/snapshot", s.snapshotDestination)
	s.mux.HandleFunc("GET /api/v1/destinations/{id}/deliveries", s.listDeliveries(""))
	s.mux.HandleFunc("GET /api/v1/destinations/{id}/dead-letters", s.listDeliveries("dead"))
	s.mux.HandleFunc("POST /api/v1/destinations/{id}/dead-letters/replay", s.replayDestination)
	s.mux.HandleFunc("GET /api/v1/destinations/{id}/stats", s.destinationStats)
}

func (s *Server) destinations() (Destinations, error) {
	if s.opts.Destinations == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Destinations are not available on this server.")
	}
	return s.opts.Destinations, nil
}

// withDestinations answers with fn's result, or the error.
func (s *Server) withDestinations(w http.ResponseWriter, r *http.Request, status int, fn func(d Destinations) (any, error)) {
	d, err := s.destinations()
	if err == nil {
		var v any
		if v, err = fn(d); err == nil {
			respond.JSON(w, status, v)
			return
		}
	}
	s.error(w, r, err)
}

func (s *Server) destinationTypes(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusOK, func(d Destinations) (any, error) {
		return map[string]any{"types": d.Kinds().Info()}, nil
	})
}

func (s *Server) createDestination(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusCreated, func(d Destinations) (any, error) {
		var in activate.Input
		if err := decodeJSON(r, &in); err != nil {
			return nil, err
		}
		if err := s.checkPurposes(r.Context(), "destination", in.Purposes); err != nil {
			return nil, err
		}
		return d.Create(r.Context(), in)
	})
}

func (s *Server) listDestinations(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusOK, func(d Destinations) (any, error) {
		list, err := d.List(r.Context())
		return map[string]any{"destinations": list}, err
	})
}

func (s *Server) getDestination(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusOK, func(d Destinations) (any, error) {
		return d.Get(r.Context(), r.PathValue("id"))
	})
}

func (s *Server) updateDestination(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusOK, func(d Destinations) (any, error) {
		var in activate.Input
		if err := decodeJSON(r, &in); err != nil {
			return nil, err
		}
		if err := s.checkPurposes(r.Context(), "destination", in.Purposes); err != nil {
			return nil, err
		}
		return d.Update(r.Context(), r.PathValue("id"), in)
	})
}

func (s *Server) deleteDestination(w http.ResponseWriter, r *http.Request) {
	d, err := s.destinations()
	if err == nil {
		err = d.Delete(r.Context(), r.PathValue("id"))
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) testDestination(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusOK, func(d Destinations) (any, error) {
		return d.Test(r.Context(), r.PathValue("id"))
	})
}

func (s *Server) setDestinationStatus(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.withDestinations(w, r, http.StatusOK, func(d Destinations) (any, error) {
			return d.SetStatus(r.Context(), r.PathValue("id"), status, "")
		})
	}
}

func (s *Server) flushDestination(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusAccepted, func(d Destinations) (any, error) {
		return map[string]string{"status": "flushing"}, d.Flush(r.Context(), r.PathValue("id"))
	})
}

func (s *Server) snapshotDestination(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusAccepted, func(d Destinations) (any, error) {
		return d.Snapshot(r.Context(), r.PathValue("id"))
	})
}

func (s *Server) listDeliveries(fixed string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.withDestinations(w, r, http.StatusOK, func(d Destinations) (any, error) {
			status := fixed
			if status == "" {
				status = r.URL.Query().Get("status")
			}
			before, err := queryInt(r, "before", 0, 0, 1<<62)
			if err != nil {
				return nil, err
			}
			limit, err := queryInt(r, "limit", 100, 1, 1000)
			if err != nil {
				return nil, err
			}
			list, err := d.Deliveries(r.Context(), r.PathValue("id"), status, before, int(limit))
			if err != nil {
				return nil, err
			}
			out := map[string]any{"deliveries": list}
			if len(list) > 0 {
				out["next_before"] = list[len(list)-1].Seq
			}
			return out, nil
		})
	}
}

func (s *Server) replayDestination(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusOK, func(d Destinations) (any, error) {
		n, err := d.Replay(r.Context(), r.PathValue("id"), r.URL.Query().Get("status"))
		return map[string]int64{"replayed": n}, err
	})
}

func (s *Server) destinationStats(w http.ResponseWriter, r *http.Request) {
	s.withDestinations(w, r, http.StatusOK, func(d Destinations) (any, error) {
		return d.Stats(r.Context(), r.PathValue("id"))
	})
}
