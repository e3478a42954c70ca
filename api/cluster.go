package api

import (
	"context"
	"net/http"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/respond"
)

// Cluster describes the installation's nodes, leases and positions.
type Cluster interface {
	// Cluster returns the description as a JSON-encodable value.
	Cluster(ctx context.Context) (any, error)
}

func (s *Server) clusterRoutes() {
	s.mux.HandleFunc("GET /api/v1/cluster", s.getCluster)
}

func (s *Server) getCluster(w http.ResponseWriter, r *http.Request) {
	if s.opts.Cluster == nil {
		s.error(w, r, mosaic.Errorf(mosaic.EUNAVAILABLE, "This server does not report its cluster."))
		return
	}
	c, err := s.opts.Cluster.Cluster(r.Context())
	if err != nil {
		s.error(w, r, mosaic.Errorf(mosaic.EUNAVAILABLE, "The cluster's state cannot be read from the database now; retry."))
		s.opts.Log.Warn("read cluster state", "err", err)
		return
	}
	respond.JSON(w, http.StatusOK, c)
}
