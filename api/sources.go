package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/respond"
)

// maxNameLen bounds a source name so lists stay readable.
const maxNameLen = 100

type createSourceRequest struct {
	Name string `json:"name"`
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) {
	var req createSourceRequest
	if err := decodeJSON(r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	name := strings.TrimSpace(req.Name)
	if err := validateSourceName(name); err != nil {
		s.error(w, r, err)
		return
	}
	id, err := uuid.NewV7()
	if err != nil {
		s.error(w, r, err)
		return
	}
	src := &mosaic.Source{ID: id.String(), Name: name, WriteKey: newWriteKey(), CreatedAt: s.opts.Now().UTC()}
	if err := s.store.CreateSource(r.Context(), src); err != nil {
		s.error(w, r, err)
		return
	}
	s.opts.Log.Info("source created", "source_id", src.ID, "name", src.Name)
	respond.JSON(w, http.StatusCreated, src)
}

func validateSourceName(name string) error {
	switch {
	case name == "":
		return mosaic.Errorf(mosaic.EINVALID, `A source needs a name, e.g. {"name": "website"}.`)
	case utf8.RuneCountInString(name) > maxNameLen:
		return mosaic.Errorf(mosaic.EINVALID, "A source name can have at most %d characters.", maxNameLen)
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' }):
		return mosaic.Errorf(mosaic.EINVALID, "A source name cannot contain control characters.")
	}
	return nil
}

// newWriteKey returns 32 URL-safe random characters, like Segment's keys.
func newWriteKey() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) {
	srcs, err := s.store.Sources(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if srcs == nil {
		srcs = []*mosaic.Source{}
	}
	respond.JSON(w, http.StatusOK, map[string]any{"sources": srcs})
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) {
	src, err := s.store.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, src)
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) {
	src, err := s.store.Source(r.Context(), r.PathValue("id"))
	if err == nil {
		err = s.store.DeleteSource(r.Context(), src.ID)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	if s.opts.SourceDeleted != nil {
		s.opts.SourceDeleted(src)
	}
	s.opts.Log.Info("source deleted", "source_id", src.ID, "name", src.Name)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) sourceStats(w http.ResponseWriter, r *http.Request) {
	src, err := s.store.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	st, err := s.events.Stats(r.Context(), src.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, st)
}

// rejectedJSON shows a quarantined event: as JSON when it is JSON, as text
// when it is UTF-8, and base64 otherwise, so every byte can be inspected.
type rejectedJSON struct {
	*mosaic.Rejected
	Event     json.RawMessage `json:"event,omitempty"`
	Raw       string          `json:"raw,omitempty"`
	RawBase64 string          `json:"raw_base64,omitempty"`
}

func (s *Server) listRejected(w http.ResponseWriter, r *http.Request) {
	src, err := s.store.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	after, err := queryInt(r, "after", 0, 0, 1<<62)
	if err == nil {
		var limit int64
		limit, err = queryInt(r, "limit", 100, 1, 1000)
		if err == nil {
			s.writeRejected(w, r, src.ID, after, int(limit))
			return
		}
	}
	s.error(w, r, err)
}

func (s *Server) writeRejected(w http.ResponseWriter, r *http.Request, sourceID string, after int64, limit int) {
	rej, err := s.store.Rejected(r.Context(), sourceID, after, limit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := make([]rejectedJSON, 0, len(rej))
	next := after
	for _, x := range rej {
		j := rejectedJSON{Rejected: x}
		switch {
		case json.Valid(x.Raw):
			j.Event = x.Raw
		case utf8.Valid(x.Raw):
			j.Raw = string(x.Raw)
		default:
			j.RawBase64 = base64.StdEncoding.EncodeToString(x.Raw)
		}
		out = append(out, j)
		next = x.ID
	}
	respond.JSON(w, http.StatusOK, map[string]any{"rejected": out, "next_after": next})
}

// maxAdminBody bounds admin request bodies; they are small JSON documents.
const maxAdminBody = 1 << 20

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return mosaic.Errorf(mosaic.EINVALIDJSON, "The request body is empty; send a JSON object.")
		}
		return mosaic.Errorf(mosaic.EINVALIDJSON, "The request body is not the expected JSON: %v.", err)
	}
	return nil
}

func queryInt(r *http.Request, name string, def, lo, hi int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, mosaic.Errorf(mosaic.EINVALID, "Query parameter %q must be a whole number from %d to %d, not %q.", name, lo, hi, v)
	}
	return n, nil
}
