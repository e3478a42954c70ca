package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mosaic-cdp/mosaic/privacy"
)

// DefaultPIITraits are the trait names masked by default for roles without
// access to personal data (matched without regard to case, _ and -).
var DefaultPIITraits = privacy.DefaultPIITraits

// masked is the mask of personal data in a value.
const masked = "[masked]"

func normKey(k string) string { return privacy.TraitKey(k) }

func (s *Server) piiSet() map[string]bool {
	names := s.opts.PIITraits
	if names == nil {
		names = DefaultPIITraits
	}
	m := map[string]bool{}
	for _, n := range names {
		m[normKey(n)] = true
	}
	return m
}

// masked wraps next so that, for a principal without access to personal
// data, profile answers have the values of PII traits and of identifiers
// replaced by "[masked]". Other answers pass through unchanged.
func (s *Server) masked(p *Principal, next http.Handler) http.Handler {
	if p.seesPII() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/profiles") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &bufferWriter{header: http.Header{}}
		next.ServeHTTP(rec, r)
		body := rec.buf.Bytes()
		if rec.status < 300 && json.Valid(body) {
			var v any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if dec.Decode(&v) == nil {
				body, _ = json.Marshal(maskValue(v, s.piiSet(), false))
			}
		}
		for k, vs := range rec.header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(body)
	})
}

// maskValue masks v: under keys naming PII, every value; in identifier
// lists (inIDs), the value of each identifier.
func maskValue(v any, pii map[string]bool, inIDs bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch {
			case pii[normKey(k)]:
				x[k] = masked
			case inIDs && k == "value":
				x[k] = masked
			default:
				x[k] = maskValue(e, pii, k == "identifiers")
			}
		}
	case []any:
		for i, e := range x {
			x[i] = maskValue(e, pii, inIDs)
		}
	}
	return v
}

// bufferWriter keeps an answer to rewrite it.
type bufferWriter struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
