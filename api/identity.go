package api

import (
	"context"
	"net/http"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/respond"
)

// Identity is what the API needs to change identity state: splits and
// rules, which the engine writes to the event log and applies in order;
// and accounts.
type Identity interface {
	Split(ctx context.Context, ref string, req engine.SplitRequest) (*engine.SplitOutcome, error)
	SetRules(ctx context.Context, r identity.Rules) (identity.Rules, error)
	Account(groupID string) (*engine.AccountView, error)
}

func (s *Server) identityRoutes() {
	s.mux.HandleFunc("POST /api/v1/profiles/{ref}/split", s.splitProfile)
	s.mux.HandleFunc("PUT /api/v1/identity/rules", s.putIdentityRules)
	s.mux.HandleFunc("GET /api/v1/accounts/{id}", s.getAccount)
}

func (s *Server) identity() (Identity, error) {
	if s.opts.Identity == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Identity changes are not available on this server.")
	}
	return s.opts.Identity, nil
}

// splitProfile applies a split (202, once the profile stage has applied
// it) or shows a dry run's outcome (200).
func (s *Server) splitProfile(w http.ResponseWriter, r *http.Request) {
	id, err := s.identity()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req engine.SplitRequest
	if err := decodeJSON(r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	out, err := id.Split(r.Context(), r.PathValue("ref"), req)
	if err != nil {
		s.error(w, r, err)
		return
	}
	status := http.StatusAccepted
	if req.DryRun {
		status = http.StatusOK
	} else {
		s.opts.Log.Info("profile split", "profile", out.Profile, "seq", out.Seq, "rule_a", out.Rule.A.String(), "rule_b", out.Rule.B.String())
	}
	respond.JSON(w, status, out)
}

func (s *Server) putIdentityRules(w http.ResponseWriter, r *http.Request) {
	id, err := s.identity()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var rules identity.Rules
	if err := decodeJSON(r, &rules); err != nil {
		s.error(w, r, err)
		return
	}
	out, err := id.SetRules(r.Context(), rules)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.opts.Log.Info("identity rules changed")
	respond.JSON(w, http.StatusOK, out)
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	id, err := s.identity()
	if err == nil {
		var v *engine.AccountView
		if v, err = id.Account(r.PathValue("id")); err == nil {
			respond.JSON(w, http.StatusOK, v)
			return
		}
	}
	s.error(w, r, err)
}
