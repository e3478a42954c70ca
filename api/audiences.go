package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/segment"
	"github.com/mosaic-cdp/mosaic/store"
)

// Segments is what the API needs from the segment engine: computed traits
// and audiences.
type Segments interface {
	CreateComputedTrait(ctx context.Context, sp *segment.ComputedTraitSpec) (*segment.ComputedTrait, error)
	UpdateComputedTrait(ctx context.Context, id string, sp *segment.ComputedTraitSpec) (*segment.ComputedTrait, error)
	DeleteComputedTrait(ctx context.Context, id string) error
	ComputedTraits() []segment.ComputedTraitView
	ComputedTrait(ref string) (segment.ComputedTraitView, error)
	CreateAudience(ctx context.Context, sp *segment.AudienceSpec) (*segment.Audience, error)
	UpdateAudience(ctx context.Context, id string, sp *segment.AudienceSpec) (*segment.Audience, error)
	DeleteAudience(ctx context.Context, id string) error
	Audiences() []segment.AudienceView
	// AwaitLoaded waits until Audiences lists every stored audience.
	AwaitLoaded(ctx context.Context) error
	Audience(ref string) (segment.AudienceView, error)
	Members(ref string, after uint64, limit int) ([]segment.Member, int, error)
	ProfileAudiences(id uint64) []segment.Membership
	ProfileComputed(id uint64) map[string]segment.ComputedValue
	Explain(ref string, id uint64) (*segment.Explanation, error)
	Preview(ctx context.Context, raw []byte, sample int) (*segment.Preview, error)
	History(ctx context.Context, ref string, bucket time.Duration, since time.Time) ([]segment.HistoryPoint, int, error)
	Changes(ctx context.Context, audienceRef string, after int64, limit int) ([]store.AudienceChange, error)
	ProfileChanges(ctx context.Context, profileID uint64, before time.Time, beforeID int64, limit int) ([]segment.TimelineChange, error)
}

// profileFinder resolves a profile reference (ID or identifier).
type profileFinder interface {
	Find(ref string) (identity.ProfileID, error)
}

func (s *Server) audienceRoutes() {
	s.mux.HandleFunc("POST /api/v1/computed-traits", s.createComputedTrait)
	s.mux.HandleFunc("GET /api/v1/computed-traits", s.listComputedTraits)
	s.mux.HandleFunc("GET /api/v1/computed-traits/{id}", s.getComputedTrait)
	s.mux.HandleFunc("PUT /api/v1/computed-traits/{id}", s.updateComputedTrait)
	s.mux.HandleFunc("DELETE /api/v1/computed-traits/{id}", s.deleteComputedTrait)
	s.mux.HandleFunc("POST /api/v1/audiences", s.createAudience)
	s.mux.HandleFunc("POST /api/v1/audiences/preview", s.previewAudience)
	s.mux.HandleFunc("GET /api/v1/audiences", s.listAudiences)
	s.mux.HandleFunc("GET /api/v1/audiences/changes", s.audienceChanges)
	s.mux.HandleFunc("GET /api/v1/audiences/{id}", s.getAudience)
	s.mux.HandleFunc("PUT /api/v1/audiences/{id}", s.updateAudience)
	s.mux.HandleFunc("DELETE /api/v1/audiences/{id}", s.deleteAudience)
	s.mux.HandleFunc("GET /api/v1/audiences/{id}/members", s.audienceMembers)
	s.mux.HandleFunc("GET /api/v1/audiences/{id}/history", s.audienceHistory)
	s.mux.HandleFunc("GET /api/v1/audiences/{id}/explain/{profile}", s.explainAudience)
	s.mux.HandleFunc("GET /api/v1/profiles/{ref}/audiences", s.profileAudiences)
}

func (s *Server) segments() (Segments, error) {
	if s.opts.Segments == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Audiences are not available on this server.")
	}
	return s.opts.Segments, nil
}

// segmentCall runs fn with the segment engine and answers its result.
func (s *Server) segmentCall(w http.ResponseWriter, r *http.Request, status int, fn func(Segments) (any, error)) {
	sg, err := s.segments()
	if err == nil {
		var v any
		if v, err = fn(sg); err == nil {
			if v == nil {
				w.WriteHeader(status)
				return
			}
			respond.JSON(w, status, v)
			return
		}
	}
	s.error(w, r, err)
}

func (s *Server) createComputedTrait(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusCreated, func(sg Segments) (any, error) {
		var sp segment.ComputedTraitSpec
		if err := decodeJSON(r, &sp); err != nil {
			return nil, err
		}
		t, err := sg.CreateComputedTrait(r.Context(), &sp)
		if err != nil {
			return nil, err
		}
		return sg.ComputedTrait(t.ID)
	})
}

func (s *Server) updateComputedTrait(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) {
		var sp segment.ComputedTraitSpec
		if err := decodeJSON(r, &sp); err != nil {
			return nil, err
		}
		cur, err := sg.ComputedTrait(r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		t, err := sg.UpdateComputedTrait(r.Context(), cur.ID, &sp)
		if err != nil {
			return nil, err
		}
		return sg.ComputedTrait(t.ID)
	})
}

func (s *Server) listComputedTraits(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) {
		return map[string]any{"computed_traits": sg.ComputedTraits()}, nil
	})
}

func (s *Server) getComputedTrait(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) { return sg.ComputedTrait(r.PathValue("id")) })
}

func (s *Server) deleteComputedTrait(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusNoContent, func(sg Segments) (any, error) {
		cur, err := sg.ComputedTrait(r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return nil, sg.DeleteComputedTrait(r.Context(), cur.ID)
	})
}

func (s *Server) createAudience(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusCreated, func(sg Segments) (any, error) {
		var sp segment.AudienceSpec
		if err := decodeJSON(r, &sp); err != nil {
			return nil, err
		}
		if err := s.checkConditionPurposes(r.Context(), sp.Condition); err != nil {
			return nil, err
		}
		a, err := sg.CreateAudience(r.Context(), &sp)
		if err != nil {
			return nil, err
		}
		s.opts.Log.Info("audience created", "audience_id", a.ID, "key", a.Key)
		return sg.Audience(a.ID)
	})
}

func (s *Server) updateAudience(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) {
		var sp segment.AudienceSpec
		if err := decodeJSON(r, &sp); err != nil {
			return nil, err
		}
		if err := s.checkConditionPurposes(r.Context(), sp.Condition); err != nil {
			return nil, err
		}
		cur, err := sg.Audience(r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		a, err := sg.UpdateAudience(r.Context(), cur.ID, &sp)
		if err != nil {
			return nil, err
		}
		return sg.Audience(a.ID)
	})
}

func (s *Server) listAudiences(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) {
		return map[string]any{"audiences": sg.Audiences()}, nil
	})
}

func (s *Server) getAudience(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) { return sg.Audience(r.PathValue("id")) })
}

func (s *Server) deleteAudience(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusNoContent, func(sg Segments) (any, error) {
		cur, err := sg.Audience(r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return nil, sg.DeleteAudience(r.Context(), cur.ID)
	})
}

type memberJSON struct {
	ProfileID identity.ProfileID `json:"profile_id"`
	Since     time.Time          `json:"since"`
}

func (s *Server) audienceMembers(w http.ResponseWriter, r *http.Request) {
	sg, err := s.segments()
	if err != nil {
		s.error(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", 100, 1, 10000)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var after identity.ProfileID
	if a := r.URL.Query().Get("after"); a != "" {
		if after, err = identity.ParseProfileID(a); err != nil {
			s.error(w, r, mosaic.Errorf(mosaic.EINVALID, "after must be a profile ID (p and 16 hex digits), the next of the previous page, not %q.", a))
			return
		}
	}
	ms, total, err := sg.Members(r.PathValue("id"), uint64(after), int(limit))
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := make([]memberJSON, len(ms))
	for i, m := range ms {
		out[i] = memberJSON{ProfileID: identity.ProfileID(m.ProfileID), Since: m.Since}
	}
	if r.URL.Query().Get("format") == "csv" {
		writeMembersCSV(w, out)
		return
	}
	next := ""
	if len(out) == int(limit) {
		next = out[len(out)-1].ProfileID.String()
	}
	respond.JSON(w, http.StatusOK, map[string]any{"members": out, "total": total, "next": next})
}

// writeMembersCSV writes members as CSV. Cells a spreadsheet would read
// as a formula are prefixed with a quote (OWASP's CSV injection advice);
// IDs and times cannot start so, but the rule keeps the file safe however
// its columns grow.
func writeMembersCSV(w http.ResponseWriter, ms []memberJSON) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="members.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"profile_id", "since"})
	for _, m := range ms {
		_ = cw.Write([]string{safeCell(m.ProfileID.String()), safeCell(m.Since.Format(time.RFC3339Nano))})
	}
	cw.Flush()
}

func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Server) audienceHistory(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) {
		bucket, span := time.Hour, 7*24*time.Hour
		switch r.URL.Query().Get("interval") {
		case "", "hour":
		case "day":
			bucket, span = 24*time.Hour, 90*24*time.Hour
		default:
			return nil, mosaic.Errorf(mosaic.EINVALID, "interval must be hour or day, not %q.", r.URL.Query().Get("interval"))
		}
		since := s.opts.Now().Add(-span)
		if v := r.URL.Query().Get("since"); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, mosaic.Errorf(mosaic.EINVALID, "since must be an RFC 3339 time like 2026-03-01T00:00:00Z, not %q.", v)
			}
			since = t
		}
		points, size, err := sg.History(r.Context(), r.PathValue("id"), bucket, since)
		if err != nil {
			return nil, err
		}
		return map[string]any{"size": size, "interval": r.URL.Query().Get("interval"), "history": points}, nil
	})
}

func (s *Server) findProfile(ref string) (uint64, error) {
	f, ok := s.opts.Profiles.(profileFinder)
	if !ok {
		return 0, mosaic.Errorf(mosaic.EUNAVAILABLE, "Profiles are not available on this server.")
	}
	id, err := f.Find(ref)
	return uint64(id), err
}

func (s *Server) explainAudience(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) {
		id, err := s.findProfile(r.PathValue("profile"))
		if err != nil {
			return nil, err
		}
		x, err := sg.Explain(r.PathValue("id"), id)
		if err != nil {
			return nil, err
		}
		return struct {
			ProfileID identity.ProfileID `json:"profile_id"`
			*segment.Explanation
		}{identity.ProfileID(id), x}, nil
	})
}

func (s *Server) profileAudiences(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) {
		id, err := s.findProfile(r.PathValue("ref"))
		if err != nil {
			return nil, err
		}
		return map[string]any{"profile_id": identity.ProfileID(id), "audiences": sg.ProfileAudiences(id),
			"computed_traits": sg.ProfileComputed(id)}, nil
	})
}

type previewRequest struct {
	Condition json.RawMessage `json:"condition"`
	Sample    int             `json:"sample"`
}

func (s *Server) previewAudience(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) {
		var req previewRequest
		if err := decodeJSON(r, &req); err != nil {
			return nil, err
		}
		if err := s.checkConditionPurposes(r.Context(), req.Condition); err != nil {
			return nil, err
		}
		if req.Sample == 0 {
			req.Sample = 10
		}
		if req.Sample < 0 || req.Sample > 1000 {
			return nil, mosaic.Errorf(mosaic.EINVALID, "sample must be from 1 to 1000 profiles, not %d.", req.Sample)
		}
		start := time.Now()
		p, err := sg.Preview(r.Context(), req.Condition, req.Sample)
		if err != nil {
			return nil, err
		}
		sample := make([]identity.ProfileID, len(p.Sample))
		for i, id := range p.Sample {
			sample[i] = identity.ProfileID(id)
		}
		return map[string]any{"count": p.Count, "sample": sample, "evaluated": p.Evaluated,
			"took_ms": time.Since(start).Milliseconds()}, nil
	})
}

type changeJSON struct {
	ID         int64              `json:"id"`
	AudienceID string             `json:"audience_id"`
	ProfileID  identity.ProfileID `json:"profile_id"`
	Event      string             `json:"event"`
	At         time.Time          `json:"at"`
	Cause      json.RawMessage    `json:"cause"`
}

// audienceChanges serves the ordered list of entries and exits, which a
// delivery worker or an outside system follows with ?after=.
func (s *Server) audienceChanges(w http.ResponseWriter, r *http.Request) {
	s.segmentCall(w, r, http.StatusOK, func(sg Segments) (any, error) {
		after, err := queryInt(r, "after", 0, 0, 1<<62)
		if err != nil {
			return nil, err
		}
		limit, err := queryInt(r, "limit", 100, 1, 1000)
		if err != nil {
			return nil, err
		}
		cs, err := sg.Changes(r.Context(), r.URL.Query().Get("audience"), after, int(limit))
		if err != nil {
			return nil, err
		}
		out := make([]changeJSON, len(cs))
		for i, c := range cs {
			ev := "Audience Exited"
			if c.Entered {
				ev = "Audience Entered"
			}
			out[i] = changeJSON{ID: c.ID, AudienceID: c.AudienceID, ProfileID: identity.ProfileID(c.ProfileID), Event: ev, At: c.At, Cause: json.RawMessage(c.Cause)}
		}
		next := after
		if len(out) > 0 {
			next = out[len(out)-1].ID
		}
		return map[string]any{"changes": out, "next": next}, nil
	})
}
