package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/respond"
)

// Purposes change at runtime: GET /api/v1/privacy/purposes lists them
// with where they are used, POST adds one, DELETE removes one that
// nothing uses. They are kept in the store (privacy.Catalog), so every
// node reads one list; each check of a purpose name reads it anew.

// PurposeCatalog is what the API needs to change the purposes
// (privacy.Catalog).
type PurposeCatalog interface {
	Refresh(ctx context.Context) error
	Add(ctx context.Context, p privacy.Purpose) error
	Remove(ctx context.Context, name string) error
}

func (s *Server) purposeRoutes() {
	s.mux.HandleFunc("GET /api/v1/privacy/purposes", s.listPurposes)
	s.mux.HandleFunc("POST /api/v1/privacy/purposes", s.addPurpose)
	s.mux.HandleFunc("DELETE /api/v1/privacy/purposes/{name}", s.removePurpose)
}

// purposeView is a purpose as the API shows it.
type purposeView struct {
	privacy.Purpose
	// BuiltIn marks the purposes Mosaic ships with, whose consent signals
	// (TCF, Consent Mode, GPC, Segment categories) it maps.
	BuiltIn bool `json:"built_in"`
	// Signals are the consent signals that decide it besides the API.
	Signals []string   `json:"signals"`
	UsedBy  purposeUse `json:"used_by"`
}

// purposeUse is the configuration that names a purpose.
type purposeUse struct {
	Audiences    []useRef `json:"audiences"`
	Destinations []useRef `json:"destinations"`
}

type useRef struct {
	ID   string `json:"id"`
	Key  string `json:"key,omitempty"`
	Name string `json:"name,omitempty"`
}

func (u *purposeUse) empty() bool { return len(u.Audiences)+len(u.Destinations) == 0 }

// refreshPurposes reads the purposes from the store, so a check sees a
// change made through another node.
func (s *Server) refreshPurposes(ctx context.Context) error {
	if s.opts.Purposes == nil {
		return nil
	}
	return s.opts.Purposes.Refresh(ctx)
}

func (s *Server) purposeCatalog() (PurposeCatalog, error) {
	if s.opts.Purposes == nil || s.opts.Consent == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Purposes cannot be changed on this server.")
	}
	return s.opts.Purposes, nil
}

func (s *Server) listPurposes(w http.ResponseWriter, r *http.Request) {
	c, err := s.consent()
	if err == nil {
		err = s.refreshPurposes(r.Context())
	}
	var uses map[string]*purposeUse
	if err == nil {
		uses, err = s.purposeUses(r.Context())
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	cfg := c.Config()
	out := []purposeView{}
	for _, p := range cfg.Purposes().List() {
		out = append(out, s.purposeView(cfg, p, uses))
	}
	respond.JSON(w, http.StatusOK, map[string]any{"purposes": out})
}

func (s *Server) purposeView(cfg *privacy.Config, p privacy.Purpose, uses map[string]*purposeUse) purposeView {
	v := purposeView{Purpose: p, BuiltIn: privacy.IsBuiltIn(p.Name), Signals: cfg.SignalsFor(p.Name),
		UsedBy: purposeUse{Audiences: []useRef{}, Destinations: []useRef{}}}
	if v.Signals == nil {
		v.Signals = []string{}
	}
	if u := uses[p.Name]; u != nil {
		v.UsedBy.Audiences = append(v.UsedBy.Audiences, u.Audiences...)
		v.UsedBy.Destinations = append(v.UsedBy.Destinations, u.Destinations...)
	}
	return v
}

// purposeUses finds, per purpose name, the audiences whose condition
// reads its consent and the destinations gated on it.
func (s *Server) purposeUses(ctx context.Context) (map[string]*purposeUse, error) {
	uses := map[string]*purposeUse{}
	use := func(name string) *purposeUse {
		if uses[name] == nil {
			uses[name] = &purposeUse{}
		}
		return uses[name]
	}
	if s.opts.Segments != nil {
		// Right after a start the audiences may still be loading; an empty
		// list then would let a used purpose be removed.
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.opts.Segments.AwaitLoaded(wctx)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, a := range s.opts.Segments.Audiences() {
			for _, p := range conditionPurposes(a.Condition) {
				use(p).Audiences = append(use(p).Audiences, useRef{ID: a.ID, Key: a.Key, Name: a.Name})
			}
		}
	}
	if s.opts.Destinations != nil {
		ds, err := s.opts.Destinations.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			for _, p := range d.Purposes {
				use(p).Destinations = append(use(p).Destinations, useRef{ID: d.ID, Name: d.Name})
			}
		}
	}
	return uses, nil
}

// purposeInput is the body of POST /api/v1/privacy/purposes.
type purposeInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Default true marks processing that needs no consent: granted while
	// no signal says otherwise.
	Default bool `json:"default"`
}

func (s *Server) addPurpose(w http.ResponseWriter, r *http.Request) {
	cat, err := s.purposeCatalog()
	var in purposeInput
	if err == nil {
		err = decodeJSON(r, &in)
	}
	p := privacy.Purpose{Name: strings.TrimSpace(in.Name), Description: strings.TrimSpace(in.Description), Default: in.Default}
	if err == nil {
		err = cat.Add(r.Context(), p)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.opts.Log.Info("purpose added", "purpose", p.Name, "actor", actorOf(r))
	cfg := s.opts.Consent.Config()
	respond.JSON(w, http.StatusCreated, s.purposeView(cfg, p, nil))
}

func (s *Server) removePurpose(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	cat, err := s.purposeCatalog()
	if err == nil {
		err = s.refreshPurposes(r.Context())
	}
	if err == nil && !s.opts.Consent.Config().Purposes().Has(name) {
		err = mosaic.Errorf(mosaic.ENOTFOUND, "No purpose %q (GET /api/v1/privacy/purposes lists them).", name)
	}
	var uses map[string]*purposeUse
	if err == nil {
		uses, err = s.purposeUses(r.Context())
	}
	if err == nil && uses[name] != nil && !uses[name].empty() {
		err = mosaic.Errorf(mosaic.ECONFLICT, "Purpose %q is still used by %s: change or delete them first, then remove the purpose.", name, describeUse(uses[name]))
	}
	if err == nil {
		err = cat.Remove(r.Context(), name)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.opts.Log.Info("purpose removed", "purpose", name, "actor", actorOf(r))
	w.WriteHeader(http.StatusNoContent)
}

// describeUse names what uses a purpose, for a refusal.
func describeUse(u *purposeUse) string {
	var parts []string
	for _, a := range u.Audiences {
		parts = append(parts, fmt.Sprintf("audience %q (%s, its consent condition)", cmpOr(a.Name, a.Key), a.ID))
	}
	for _, d := range u.Destinations {
		parts = append(parts, fmt.Sprintf("destination %q (%s, its purposes)", d.Name, d.ID))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
