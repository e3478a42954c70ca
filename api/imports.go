package api

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/imports"
	"github.com/mosaic-cdp/mosaic/respond"
)

// Imports runs file imports (package imports' *Manager).
type Imports interface {
	Run(ctx context.Context, req imports.Request, body io.Reader) (*imports.Job, error)
	Job(id string) (*imports.Job, error)
	Jobs(sourceID string) ([]*imports.Job, error)
	Report(id string) (io.ReadCloser, error)
	SavedMapping(ctx context.Context, sourceID string) (*imports.Mapping, error)
	SaveMapping(ctx context.Context, sourceID string, m *imports.Mapping) error
}

// Quality is the cleaning configuration and tracking plans (package
// clean's *Cleaner).
type Quality interface {
	Config(ctx context.Context, sourceID string) (clean.Config, error)
	SetConfig(ctx context.Context, sourceID string, cfg clean.Config) error
	Plan(ctx context.Context, sourceID string) (*clean.Plan, error)
	SetPlan(ctx context.Context, sourceID string, p *clean.Plan) error
}

// ViolationSummaries summarises tracking-plan violations (*clean.Violations).
type ViolationSummaries interface {
	Summary(ctx context.Context, sourceID string) ([]clean.ViolationSummary, []string, error)
}

func (s *Server) importRoutes() {
	s.mux.HandleFunc("POST /api/v1/sources/{id}/imports", s.runImport)
	s.mux.HandleFunc("GET /api/v1/sources/{id}/imports", s.listImports)
	s.mux.HandleFunc("GET /api/v1/imports/{id}", s.getImport)
	s.mux.HandleFunc("GET /api/v1/imports/{id}/errors", s.importErrors)
	s.mux.HandleFunc("GET /api/v1/sources/{id}/import-mapping", s.getMapping)
	s.mux.HandleFunc("PUT /api/v1/sources/{id}/import-mapping", s.putMapping)
	s.mux.HandleFunc("GET /api/v1/sources/{id}/cleaning", s.getCleaning)
	s.mux.HandleFunc("PUT /api/v1/sources/{id}/cleaning", s.putCleaning)
	s.mux.HandleFunc("GET /api/v1/sources/{id}/plan", s.getPlan)
	s.mux.HandleFunc("PUT /api/v1/sources/{id}/plan", s.putPlan)
	s.mux.HandleFunc("DELETE /api/v1/sources/{id}/plan", s.deletePlan)
	s.mux.HandleFunc("GET /api/v1/sources/{id}/violations", s.getViolations)
}

var errNoImports = mosaic.Errorf(mosaic.EUNAVAILABLE, "Imports are not available on this server.")

// source resolves the {id} of a path: a source id or a source name.
func (s *Server) source(r *http.Request) (*mosaic.Source, error) {
	ref := r.PathValue("id")
	src, err := s.store.Source(r.Context(), ref)
	if err == nil {
		return src, nil
	}
	srcs, lerr := s.store.Sources(r.Context())
	if lerr != nil {
		return nil, lerr
	}
	for _, x := range srcs {
		if x.Name == ref {
			return x, nil
		}
	}
	return nil, err
}

func (s *Server) runImport(w http.ResponseWriter, r *http.Request) {
	if s.opts.Imports == nil {
		s.error(w, r, errNoImports)
		return
	}
	src, err := s.source(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// A multi-gigabyte file takes longer to send than the server's read
	// timeout allows a request.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	params := r.URL.Query()
	body := io.Reader(r.Body)
	if mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		part, err := filePart(multipart.NewReader(r.Body, mp["boundary"]), params)
		if err != nil {
			s.error(w, r, err)
			return
		}
		body = part
	}
	req, err := importRequest(src, params)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if r.ContentLength > 0 {
		req.Size = r.ContentLength
	}
	job, err := s.opts.Imports.Run(r.Context(), req, body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusCreated, job)
}

// filePart returns the part named "file" of a multipart upload; the form
// fields before it are added to params.
func filePart(mr *multipart.Reader, params map[string][]string) (io.Reader, error) {
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, mosaic.Errorf(mosaic.EINVALID, `The multipart upload has no part named "file". Send the file as the form field "file".`)
		}
		if p.FormName() == "file" {
			if params["file"] == nil && p.FileName() != "" {
				params["file"] = []string{p.FileName()}
			}
			return p, nil
		}
		v, _ := io.ReadAll(io.LimitReader(p, 64<<10))
		params[p.FormName()] = append(params[p.FormName()], string(v))
	}
}

// importRequest reads an import's parameters.
func importRequest(src *mosaic.Source, q map[string][]string) (imports.Request, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	req := imports.Request{ID: get("id"), Source: src, File: get("file"), Format: get("format"), Encoding: get("encoding")}
	switch d := get("delimiter"); {
	case d == "":
	case d == `\t` || d == "tab":
		req.Delimiter = '\t'
	case utf8.RuneCountInString(d) == 1:
		req.Delimiter, _ = utf8.DecodeRuneInString(d)
	default:
		return req, mosaic.Errorf(mosaic.EINVALID, "delimiter must be one character (or tab), not %q.", d)
	}
	fields, err := imports.ParseFields(get("map"))
	if err != nil {
		return req, err
	}
	if len(fields) > 0 || get("event") != "" {
		req.Mapping = &imports.Mapping{Fields: fields, Event: strings.TrimSpace(get("event")), Key: get("key")}
	}
	if v := get("save_mapping"); v != "" {
		if req.Save, err = strconv.ParseBool(v); err != nil {
			return req, mosaic.Errorf(mosaic.EINVALID, "save_mapping must be true or false, not %q.", v)
		}
	}
	return req, nil
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request) {
	if s.opts.Imports == nil {
		s.error(w, r, errNoImports)
		return
	}
	src, err := s.source(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	jobs, err := s.opts.Imports.Jobs(src.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"imports": jobs})
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) {
	if s.opts.Imports == nil {
		s.error(w, r, errNoImports)
		return
	}
	job, err := s.opts.Imports.Job(r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, job)
}

func (s *Server) importErrors(w http.ResponseWriter, r *http.Request) {
	if s.opts.Imports == nil {
		s.error(w, r, errNoImports)
		return
	}
	rc, err := s.opts.Imports.Report(r.PathValue("id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-`+r.PathValue("id")+`-errors.csv"`)
	_, _ = io.Copy(w, rc)
}

func (s *Server) getMapping(w http.ResponseWriter, r *http.Request) {
	if s.opts.Imports == nil {
		s.error(w, r, errNoImports)
		return
	}
	getSourceSetting(s, w, r, s.opts.Imports.SavedMapping)
}

func (s *Server) putMapping(w http.ResponseWriter, r *http.Request) {
	if s.opts.Imports == nil {
		s.error(w, r, errNoImports)
		return
	}
	putSourceSetting(s, w, r, func(ctx context.Context, sourceID string, m *imports.Mapping) (any, error) {
		return m, s.opts.Imports.SaveMapping(ctx, sourceID, m)
	})
}

// getSourceSetting answers a GET of a setting kept per source (the import
// mapping, the cleaning configuration, the tracking plan) with what get
// returns for the source the path names.
func getSourceSetting[T any](s *Server, w http.ResponseWriter, r *http.Request, get func(context.Context, string) (T, error)) {
	src, err := s.source(r)
	if err == nil {
		var v T
		if v, err = get(r.Context(), src.ID); err == nil {
			respond.JSON(w, http.StatusOK, v)
			return
		}
	}
	s.error(w, r, err)
}

// putSourceSetting answers a PUT of a per-source setting: the body decoded
// as a T is stored by put, which returns what to answer.
func putSourceSetting[T any](s *Server, w http.ResponseWriter, r *http.Request, put func(context.Context, string, *T) (any, error)) {
	src, err := s.source(r)
	var v T
	if err == nil {
		err = decodeJSON(r, &v)
	}
	var out any
	if err == nil {
		out, err = put(r.Context(), src.ID, &v)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, out)
}

var errNoQuality = mosaic.Errorf(mosaic.EUNAVAILABLE, "Cleaning and tracking plans are not available on this server.")

func (s *Server) getCleaning(w http.ResponseWriter, r *http.Request) {
	if s.opts.Quality == nil {
		s.error(w, r, errNoQuality)
		return
	}
	getSourceSetting(s, w, r, s.opts.Quality.Config)
}

// putCleaning answers with the configuration in force after the change.
func (s *Server) putCleaning(w http.ResponseWriter, r *http.Request) {
	if s.opts.Quality == nil {
		s.error(w, r, errNoQuality)
		return
	}
	putSourceSetting(s, w, r, func(ctx context.Context, sourceID string, cfg *clean.Config) (any, error) {
		if err := s.opts.Quality.SetConfig(ctx, sourceID, *cfg); err != nil {
			return nil, err
		}
		return s.opts.Quality.Config(ctx, sourceID)
	})
}

func (s *Server) getPlan(w http.ResponseWriter, r *http.Request) {
	if s.opts.Quality == nil {
		s.error(w, r, errNoQuality)
		return
	}
	getSourceSetting(s, w, r, s.opts.Quality.Plan)
}

func (s *Server) putPlan(w http.ResponseWriter, r *http.Request) {
	if s.opts.Quality == nil {
		s.error(w, r, errNoQuality)
		return
	}
	putSourceSetting(s, w, r, func(ctx context.Context, sourceID string, p *clean.Plan) (any, error) {
		return p, s.opts.Quality.SetPlan(ctx, sourceID, p)
	})
}

func (s *Server) deletePlan(w http.ResponseWriter, r *http.Request) {
	if s.opts.Quality == nil {
		s.error(w, r, errNoQuality)
		return
	}
	src, err := s.source(r)
	if err == nil {
		err = s.opts.Quality.SetPlan(r.Context(), src.ID, nil)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getViolations(w http.ResponseWriter, r *http.Request) {
	if s.opts.Violations == nil {
		s.error(w, r, errNoQuality)
		return
	}
	src, err := s.source(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rows, unplanned, err := s.opts.Violations.Summary(r.Context(), src.ID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"violations": rows, "unplanned_events": unplanned})
}
