package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/store"
)

// Profiles is what the API needs from the profile stage.
type Profiles interface {
	Find(ref string) (identity.ProfileID, error)
	Profile(ref string) (*engine.ProfileView, error)
	Identity(ref string) (*engine.IdentityView, error)
	Timeline(ctx context.Context, ref string, before time.Time, beforeSeq uint64, limit int) ([]store.TimelineRow, error)
	Search(q, after string, limit int) ([]*engine.ProfileView, string, error)
	Rules() identity.Rules
}

// EventReader reads single events from the log.
type EventReader interface {
	Event(seq uint64) (mosaic.Event, error)
}

func (s *Server) profileRoutes() {
	s.mux.HandleFunc("GET /api/v1/profiles", s.searchProfiles)
	s.mux.HandleFunc("GET /api/v1/identity/rules", s.identityRules)
	s.mux.HandleFunc("GET /api/v1/profiles/{ref}", s.getProfile)
	s.mux.HandleFunc("GET /api/v1/profiles/{ref}/identity", s.getIdentity)
	s.mux.HandleFunc("GET /api/v1/profiles/{ref}/events", s.profileEvents)
}

func (s *Server) profiles() (Profiles, error) {
	if s.opts.Profiles == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Profiles are not available on this server.")
	}
	return s.opts.Profiles, nil
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) {
	ps, err := s.profiles()
	if err == nil {
		var v *engine.ProfileView
		if v, err = ps.Profile(r.PathValue("ref")); err == nil {
			s.writeProfile(w, v)
			return
		}
	}
	s.error(w, r, err)
}

func (s *Server) searchProfiles(w http.ResponseWriter, r *http.Request) {
	ps, err := s.profiles()
	if err != nil {
		s.error(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", 20, 1, 100)
	if err != nil {
		s.error(w, r, err)
		return
	}
	found, next, err := ps.Search(r.URL.Query().Get("q"), r.URL.Query().Get("after"), int(limit))
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"profiles": found, "next": next})
}

func (s *Server) identityRules(w http.ResponseWriter, r *http.Request) {
	ps, err := s.profiles()
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, ps.Rules())
}

func (s *Server) getIdentity(w http.ResponseWriter, r *http.Request) {
	ps, err := s.profiles()
	if err == nil {
		var v *engine.IdentityView
		if v, err = ps.Identity(r.PathValue("ref")); err == nil {
			respond.JSON(w, http.StatusOK, v)
			return
		}
	}
	s.error(w, r, err)
}

// timelineEvent is one event of a profile's timeline, with the stored
// message when the log still has it.
type timelineEvent struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Type     string          `json:"type"`
	Name     string          `json:"name,omitempty"`
	SourceID string          `json:"source_id"`
	Message  json.RawMessage `json:"message,omitempty"`
	// Audience is set on the entries and exits of audiences (see
	// timeline_audiences.go).
	Audience *timelineAudience `json:"audience,omitempty"`
}

// profileEvents serves a profile's timeline, newest first. The cursor
// "before" is the previous page's next_before.
func (s *Server) profileEvents(w http.ResponseWriter, r *http.Request) {
	ps, err := s.profiles()
	if err != nil {
		s.error(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", 50, 1, 500)
	if err != nil {
		s.error(w, r, err)
		return
	}
	cur, err := parseTimelineCursor(r.URL.Query().Get("before"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	before, beforeSeq := cur.eventsBefore()
	rows, err := ps.Timeline(r.Context(), r.PathValue("ref"), before, beforeSeq, int(limit))
	if err != nil {
		s.error(w, r, err)
		return
	}
	changes, err := s.profileChanges(r.Context(), r.PathValue("ref"), cur, int(limit))
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := make([]timelineEvent, 0, len(rows))
	for _, row := range rows {
		te := timelineEvent{Seq: row.Seq, Time: row.Time, Type: row.Type, Name: row.Name, SourceID: row.SourceID}
		if s.opts.EventReader != nil {
			if ev, err := s.opts.EventReader.Event(row.Seq); err == nil {
				te.Message = ev.Message
			}
		}
		out = append(out, te)
	}
	out, next := mergeTimeline(rows, out, changes, int(limit))
	respond.JSON(w, http.StatusOK, map[string]any{"events": out, "next_before": next})
}

// parseCursor reads "unixnano-seq"; "" means from the newest.
func parseCursor(c string) (time.Time, uint64, error) {
	if c == "" {
		return time.Time{}, 0, nil
	}
	ns, seq, ok := strings.Cut(c, "-")
	n, err1 := strconv.ParseInt(ns, 10, 64)
	q, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, mosaic.Errorf(mosaic.EINVALID, "Query parameter \"before\" must be the next_before of a previous page, not %q.", c)
	}
	return time.Unix(0, n).UTC(), q, nil
}
