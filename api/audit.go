package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/store"
)

// Auditor is what the API needs from package privacy's audit log.
type Auditor interface {
	Record(ctx context.Context, e privacy.AuditEntry) (privacy.AuditEntry, error)
	Enqueue(e privacy.AuditEntry)
	Entries(ctx context.Context, q store.AuditQuery) ([]privacy.AuditEntry, error)
	Pseudonym(ref string) string
}

func (s *Server) auditRoutes() {
	s.mux.HandleFunc("GET /api/v1/audit", s.listAudit)
}

// audited reports whether a request is recorded: every change, and every
// read of data about people (profiles, events, consent, requests,
// quarantined payloads, the audit log itself).
func audited(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	p := r.URL.Path
	for _, prefix := range []string{"/api/v1/profiles", "/api/v1/events", "/api/v1/privacy", "/api/v1/audit", "/api/v1/identity"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return strings.HasPrefix(p, "/api/v1/sources/") && strings.HasSuffix(p, "/rejected")
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushes of
// long-polls).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveAudited runs next and records the request in the audit log. The
// entry is written after the answer, with its status; a failure to write
// it is logged as an error (the answer has gone already).
func (s *Server) serveAudited(w http.ResponseWriter, r *http.Request, p *Principal, next http.Handler) {
	if s.opts.Audit == nil || !audited(r) {
		next.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r)
	s.recordAudit(r, p, sw.status)
}

func (s *Server) recordAudit(r *http.Request, p *Principal, status int) {
	if status == 0 {
		status = http.StatusOK
	}
	e := privacy.AuditEntry{Action: r.Pattern, Object: s.auditObject(r), From: clientAddr(r), Status: status, Result: "ok"}
	if e.Action == "" {
		e.Action = r.Method + " " + r.URL.Path
		if strings.HasPrefix(r.URL.Path, "/api/v1/profiles/") {
			e.Action = r.Method + " " + e.Object // the path names a person
		}
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Result = "denied"
	case status >= 400:
		e.Result = "failed"
	}
	if p != nil {
		e.Actor, e.Role = p.Name, p.Role
	} else {
		e.Actor = "unauthenticated"
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		// A read is answered at once and recorded with the next group
		// commit, so that looking a person up (which a web page may do on
		// every view) never waits for the database's writer.
		s.opts.Audit.Enqueue(e)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	if _, err := s.opts.Audit.Record(ctx, e); err != nil {
		s.opts.Log.Error("audit log: an action was not recorded", "action", e.Action, "actor", e.Actor, "status", status, "err", err)
	}
}

// auditObject is the request's path with people pseudonymised: a profile
// named by an identifier becomes its keyed hash. Of the query, only the
// parameter names are kept (a search term may be an email). It runs on
// every profile lookup, so it slices the path rather than splitting it.
func (s *Server) auditObject(r *http.Request) string {
	obj := r.URL.Path
	if start, end, ok := pathSegment(obj, 4); ok && start < end && segmentIs(obj, 3, "profiles") {
		if ref := obj[start:end]; !isProfileID(ref) {
			obj = obj[:start] + s.opts.Audit.Pseudonym(ref) + obj[end:]
		}
	}
	if r.URL.RawQuery == "" {
		return obj // no parameters, nothing to parse
	}
	if q := r.URL.Query(); len(q) > 0 {
		names := make([]string, 0, len(q))
		for k := range q {
			names = append(names, k)
		}
		sort.Strings(names)
		obj += "?" + strings.Join(names, "&")
	}
	return obj
}

// pathSegment returns where the n-th of the segments between the slashes
// of path begins and ends (strings.Split(path, "/")[n]), and whether path
// has that many.
func pathSegment(path string, n int) (start, end int, ok bool) {
	for range n {
		i := strings.IndexByte(path[start:], '/')
		if i < 0 {
			return 0, 0, false
		}
		start += i + 1
	}
	end = len(path)
	if i := strings.IndexByte(path[start:], '/'); i >= 0 {
		end = start + i
	}
	return start, end, true
}

func segmentIs(path string, n int, want string) bool {
	start, end, ok := pathSegment(path, n)
	return ok && path[start:end] == want
}

// isProfileID reports whether ref is a profile ID. Only a ref of its
// length is tried, which spares an identifier the error ParseProfileID
// would build.
func isProfileID(ref string) bool {
	if len(ref) != 17 || ref[0] != 'p' {
		return false
	}
	_, err := identity.ParseProfileID(ref)
	return err == nil
}

// clientAddr is the client's IP address as the server saw it. Forwarding
// headers are not trusted: a client could set them.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// listAudit serves the audit log, oldest first, filtered; with
// format=jsonl, every matching entry as JSON Lines.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	if s.opts.Audit == nil {
		s.error(w, r, mosaic.Errorf(mosaic.EUNAVAILABLE, "The audit log is not available on this server."))
		return
	}
	q, err := s.auditQuery(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if r.URL.Query().Get("format") == "jsonl" {
		s.exportAudit(w, r, q)
		return
	}
	entries, err := s.opts.Audit.Entries(r.Context(), q)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var next int64
	if len(entries) == q.Limit {
		next = entries[len(entries)-1].ID
	}
	respond.JSON(w, http.StatusOK, map[string]any{"entries": entries, "next_after": next})
}

func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request, q store.AuditQuery) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="mosaic-audit.jsonl"`)
	enc := json.NewEncoder(w)
	q.Limit = 1000
	for {
		entries, err := s.opts.Audit.Entries(r.Context(), q)
		if err != nil {
			s.opts.Log.Error("audit export ended early", "after", q.AfterID, "err", err)
			return // the status has gone; a short file shows the end
		}
		for _, e := range entries {
			_ = enc.Encode(e)
		}
		if len(entries) < q.Limit {
			return
		}
		q.AfterID = entries[len(entries)-1].ID
	}
}

func (s *Server) auditQuery(r *http.Request) (store.AuditQuery, error) {
	v := r.URL.Query()
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return store.AuditQuery{}, err
	}
	after, err := queryInt(r, "after", 0, 0, 1<<62)
	if err != nil {
		return store.AuditQuery{}, err
	}
	q := store.AuditQuery{AfterID: after, Limit: int(limit), Actor: v.Get("actor"), Action: v.Get("action"), ObjectPrefix: v.Get("object")}
	if f := v.Get("format"); f != "" && f != "json" && f != "jsonl" {
		return q, mosaic.Errorf(mosaic.EINVALID, "Query parameter \"format\" must be json or jsonl, not %q.", f)
	}
	// A person is looked up by their pseudonym, never stored in clear.
	if person := v.Get("person"); person != "" {
		if _, err := identity.ParseProfileID(person); err != nil {
			person = s.opts.Audit.Pseudonym(person)
		}
		q.ObjectPrefix = "/api/v1/profiles/" + person
	}
	for name, dst := range map[string]*time.Time{"since": &q.Since, "until": &q.Until} {
		if t := v.Get(name); t != "" {
			if *dst, err = time.Parse(time.RFC3339Nano, t); err != nil {
				return q, mosaic.Errorf(mosaic.EINVALID, "Query parameter %q must be an RFC 3339 time such as 2026-03-01T12:00:00Z, not %q.", name, t)
			}
		}
	}
	return q, nil
}
