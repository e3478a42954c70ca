package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/store"
)

// Roles of admin API tokens.
const (
	RoleAdmin    = "admin"    // everything
	RolePrivacy  = "privacy"  // consent, privacy requests, the audit log; sees personal data
	RoleMarketer = "marketer" // audiences, destinations, profiles with personal data masked
	RoleViewer   = "viewer"   // reads only, personal data masked
)

// Roles lists the roles, most powerful first.
var Roles = []string{RoleAdmin, RolePrivacy, RoleMarketer, RoleViewer}

// Tokens is what the API needs to keep admin API tokens.
type Tokens interface {
	CreateToken(ctx context.Context, t *store.APIToken) error
	Token(ctx context.Context, id string) (*store.APIToken, error)
	Tokens(ctx context.Context) ([]*store.APIToken, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error
}

// rule grants roles a kind of access to the routes under a path prefix.
type rule struct {
	prefix string
	write  bool // false: GET and HEAD; true: every other method
	roles  []string
}

var (
	anyRole     = []string{RoleAdmin, RolePrivacy, RoleMarketer, RoleViewer}
	privacyRole = []string{RoleAdmin, RolePrivacy}
	marketRole  = []string{RoleAdmin, RoleMarketer}
	adminRole   = []string{RoleAdmin}
)

// matrix is the role × route matrix; the first rule whose prefix matches
// the route's pattern decides. Routes no rule names are admin's only, so
// a new area is closed until it is added here.
var matrix = []rule{
	{"/api/v1/tokens", false, adminRole}, {"/api/v1/tokens", true, adminRole},
	{"/api/v1/users", false, adminRole}, {"/api/v1/users", true, adminRole},
	{"/api/v1/logout", true, anyRole},                             // ends the caller's own session
	{"/api/v1/me", false, anyRole}, {"/api/v1/me", true, anyRole}, // the caller's own account
	{"/api/v1/audit", false, privacyRole},
	{"/api/v1/privacy/purposes", false, anyRole}, {"/api/v1/privacy/purposes", true, privacyRole},
	{"/api/v1/privacy", false, privacyRole}, {"/api/v1/privacy", true, privacyRole},
	{"/api/v1/profiles/{ref}/consent", false, anyRole}, {"/api/v1/profiles/{ref}/consent", true, privacyRole},
	{"/api/v1/profiles/{ref}/events", false, privacyRole}, // raw messages: personal data unmasked
	{"/api/v1/profiles", false, anyRole},
	{"/api/v1/identity", false, anyRole},
	{"/api/v1/events", false, adminRole},
	{"/api/v1/sources/{id}/rejected", false, adminRole}, // raw payloads
	{"/api/v1/sources", false, anyRole},
	{"/api/v1/audiences", false, anyRole}, {"/api/v1/audiences", true, marketRole},
	{"/api/v1/destinations", false, anyRole}, {"/api/v1/destinations", true, marketRole},
}

// allowed reports whether role may call the route pattern (as ServeMux
// names it, "GET /api/v1/profiles/{ref}").
func allowed(role, pattern string) bool {
	if role == RoleAdmin {
		return true
	}
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return false // unrouted: admin only, who gets the 404
	}
	write := method != http.MethodGet && method != http.MethodHead
	for _, r := range matrix {
		if r.write == write && (path == r.prefix || strings.HasPrefix(path, r.prefix+"/") || strings.HasPrefix(path, r.prefix+"?")) {
			return slices.Contains(r.roles, role)
		}
	}
	return false
}

// seesPII reports whether p may see personal data unmasked.
func (p *Principal) seesPII() bool {
	return p.Role == RoleAdmin || p.Role == RolePrivacy || p.PII
}

// tokenPrefix starts every role token; the admin token of the
// configuration has no fixed form.
const tokenPrefix = "mosaic_t_"

// newToken makes a token "mosaic_t_<16 hex id>_<secret>" and the hash of
// its secret.
func newToken() (token, id string, hash []byte) {
	idb, secret := make([]byte, 8), make([]byte, 32)
	_, _ = rand.Read(idb)
	_, _ = rand.Read(secret)
	id = hex.EncodeToString(idb)
	s := base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256([]byte(s))
	return tokenPrefix + id + "_" + s, id, sum[:]
}

// roleToken finds the stored token a bearer token names and checks its
// secret in constant time. Secrets are 256 random bits, so a fast hash is
// as safe as a slow one (see docs/privacy.md).
func (s *Server) roleToken(ctx context.Context, bearer string) (*Principal, bool) {
	rest, ok := strings.CutPrefix(bearer, tokenPrefix)
	if !ok || s.opts.Tokens == nil || len(rest) < 18 || rest[16] != '_' {
		return nil, false
	}
	t, err := s.opts.Tokens.Token(ctx, rest[:16])
	if err != nil || t.RevokedAt != nil {
		return nil, false
	}
	sum := sha256.Sum256([]byte(rest[17:]))
	if subtle.ConstantTimeCompare(sum[:], t.SecretHash) != 1 {
		return nil, false
	}
	return &Principal{Name: t.Name, Role: t.Role, PII: t.PII, kind: "token"}, true
}

// authorize checks the principal's role against the route r would take.
func (s *Server) authorize(r *http.Request, p *Principal) error {
	_, pattern := s.mux.Handler(r)
	r.Pattern = pattern // for the audit entry of a refusal
	if allowed(p.Role, pattern) {
		return nil
	}
	return mosaic.Errorf(mosaic.EFORBIDDEN, "Token %q has role %s, which may not use %s %s. Ask an admin for a token with a role that may (see docs/privacy.md#roles).", p.Name, p.Role, r.Method, r.URL.Path)
}

func (s *Server) tokenRoutes() {
	s.mux.HandleFunc("POST /api/v1/tokens", s.createToken)
	s.mux.HandleFunc("GET /api/v1/tokens", s.listTokens)
	s.mux.HandleFunc("DELETE /api/v1/tokens/{id}", s.revokeToken)
}

func (s *Server) tokens() (Tokens, error) {
	if s.opts.Tokens == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Tokens are not available on this server.")
	}
	return s.opts.Tokens, nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	ts, err := s.tokens()
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req struct {
		Name string `json:"name"`
		Role string `json:"role"`
		PII  bool   `json:"pii"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	switch {
	case validateSourceName(req.Name) != nil:
		s.error(w, r, mosaic.Errorf(mosaic.EINVALID, "A token needs a name of 1 to 100 characters without control characters, e.g. \"crm-sync\"."))
		return
	case !slices.Contains(Roles, req.Role):
		s.error(w, r, mosaic.Errorf(mosaic.EINVALID, "Role %q is not one of %s.", req.Role, strings.Join(Roles, ", ")))
		return
	}
	token, id, hash := newToken()
	t := &store.APIToken{ID: id, Name: req.Name, Role: req.Role, PII: req.PII, SecretHash: hash, CreatedAt: s.opts.Now().UTC()}
	if err := ts.CreateToken(r.Context(), t); err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "role": t.Role, "pii": t.PII, "created_at": t.CreatedAt,
		"token": token, "note": "Shown only once: only a hash is stored."})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.tokens()
	if err == nil {
		var list []*store.APIToken
		if list, err = ts.Tokens(r.Context()); err == nil {
			respond.JSON(w, http.StatusOK, map[string]any{"tokens": list})
			return
		}
	}
	s.error(w, r, err)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	ts, err := s.tokens()
	if err == nil {
		if err = ts.RevokeToken(r.Context(), r.PathValue("id"), s.opts.Now().UTC()); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	s.error(w, r, err)
}
