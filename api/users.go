package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/passwd"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/store"
)

// Users and sessions. A user signs in with POST /api/v1/login and gets a
// session token, used as a bearer token like a role token until it
// expires or the user signs out; the user's role is read at each request,
// so a change of role or a removal applies at once. This is what an admin
// UI needs (a login form, then a token in memory), and it keeps passwords
// out of every other request: Basic authentication would send the
// password, and cost an Argon2id hash, on each call.

// Users is what the API needs to keep users and their sessions.
type Users interface {
	CreateUser(ctx context.Context, u *store.User) error
	UserByName(ctx context.Context, name string) (*store.User, error)
	UserByID(ctx context.Context, id string) (*store.User, error)
	Users(ctx context.Context) ([]*store.User, error)
	UpdateUser(ctx context.Context, u *store.User) error
	DeleteUser(ctx context.Context, name string) error
	CreateSession(ctx context.Context, s *store.Session) error
	Session(ctx context.Context, id string) (*store.Session, error)
	DeleteSessions(ctx context.Context, userID, sessionID string, now time.Time) (int, error)
	// BeginLogin and ForgetLogin count sign-in attempts for the login
	// limiter (see limiter.go).
	BeginLogin(ctx context.Context, key string, at, since time.Time) (id int64, n int, err error)
	ForgetLogin(ctx context.Context, id int64) error
}

// SessionTTL is how long a session token works after login.
const SessionTTL = 12 * time.Hour

// sessionPrefix starts every session token.
const sessionPrefix = "mosaic_s_"

func (s *Server) userRoutes() {
	s.mux.HandleFunc("POST /api/v1/users", s.createUser)
	s.mux.HandleFunc("GET /api/v1/users", s.listUsers)
	s.mux.HandleFunc("PATCH /api/v1/users/{name}", s.updateUser)
	s.mux.HandleFunc("DELETE /api/v1/users/{name}", s.deleteUser)
	s.mux.HandleFunc("POST /api/v1/logout", s.logout)
}

func (s *Server) users() (Users, error) {
	if s.opts.Users == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Users are not available on this server.")
	}
	return s.opts.Users, nil
}

// userInput creates or changes a user; absent fields stay as they are.
type userInput struct {
	Name     string  `json:"name"`
	Role     *string `json:"role"`
	PII      *bool   `json:"pii"`
	Password *string `json:"password"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	us, err := s.users()
	var in userInput
	if err == nil {
		err = decodeJSON(r, &in)
	}
	in.Name = strings.TrimSpace(in.Name)
	if err == nil && validateSourceName(in.Name) != nil {
		err = mosaic.Errorf(mosaic.EINVALID, `A user needs a name of 1 to 100 characters without control characters, e.g. {"name": "ann", "role": "privacy", "password": "..."}.`)
	}
	if err == nil && (in.Role == nil || in.Password == nil) {
		err = mosaic.Errorf(mosaic.EINVALID, `A new user needs a role (one of %s) and a password.`, strings.Join(Roles, ", "))
	}
	u := &store.User{ID: uuid.Must(uuid.NewV7()).String(), Name: in.Name, CreatedAt: s.opts.Now().UTC()}
	if err == nil {
		err = applyUserInput(u, in)
	}
	if err == nil {
		err = us.CreateUser(r.Context(), u)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusCreated, u)
}

// applyUserInput validates in and sets it on u.
func applyUserInput(u *store.User, in userInput) error {
	if in.Role != nil {
		if !slices.Contains(Roles, *in.Role) {
			return mosaic.Errorf(mosaic.EINVALID, "Role %q is not one of %s.", *in.Role, strings.Join(Roles, ", "))
		}
		u.Role = *in.Role
	}
	if in.PII != nil {
		u.PII = *in.PII
	}
	if in.Password != nil {
		h, err := passwd.Hash(*in.Password, passwd.Default)
		if err != nil {
			return mosaic.Errorf(mosaic.EINVALID, "Password refused: %v.", err)
		}
		u.PasswordHash = h
	}
	u.UpdatedAt = u.CreatedAt
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.users()
	if err == nil {
		var list []*store.User
		if list, err = us.Users(r.Context()); err == nil {
			respond.JSON(w, http.StatusOK, map[string]any{"users": list})
			return
		}
	}
	s.error(w, r, err)
}

// updateUser changes a user's role, PII access or password; a new
// password signs the user out everywhere.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	us, err := s.users()
	var in userInput
	if err == nil {
		err = decodeJSON(r, &in)
	}
	var u *store.User
	if err == nil {
		u, err = us.UserByName(r.Context(), r.PathValue("name"))
	}
	if err == nil {
		created := u.CreatedAt
		u.CreatedAt = s.opts.Now().UTC() // applyUserInput stamps UpdatedAt from it
		err = applyUserInput(u, in)
		u.CreatedAt = created
	}
	if err == nil {
		err = us.UpdateUser(r.Context(), u)
	}
	if err == nil && in.Password != nil {
		_, err = us.DeleteSessions(r.Context(), u.ID, "", s.opts.Now())
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, u)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	us, err := s.users()
	if err == nil {
		err = us.DeleteUser(r.Context(), r.PathValue("name"))
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// login checks a user's password and returns a new session token. It
// takes as long for an unknown name as for a wrong password, and refuses
// a name for a while after repeated failures.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	us, err := s.users()
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err == nil {
		err = decodeJSON(r, &in)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	now := s.opts.Now().UTC()
	attempt, err := s.beginLogin(r.Context(), us, in.Name, now)
	if err != nil {
		s.limitError(w, r, err)
		return
	}
	u, err := us.UserByName(r.Context(), in.Name)
	hash := passwd.Dummy()
	if err == nil {
		hash = u.PasswordHash
	} else if mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		s.forgetLogin(r.Context(), us, attempt)
		s.error(w, r, err)
		return
	}
	if verr := passwd.Verify(in.Password, hash); verr != nil || err != nil {
		if verr != nil && !errors.Is(verr, passwd.ErrMismatch) {
			s.opts.Log.Error("a stored password hash cannot be read", "user", in.Name, "err", verr)
		}
		// The attempt stays recorded: it is a failure.
		s.error(w, r, mosaic.Errorf(mosaic.EUNAUTHORIZED, "Wrong name or password."))
		return
	}
	s.forgetLogin(r.Context(), us, attempt)
	token, sess := newSession(u.ID, now)
	if err := us.CreateSession(r.Context(), sess); err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusCreated, map[string]any{"token": token, "expires_at": sess.ExpiresAt, "user": u})
}

// newSession makes a session token "mosaic_s_<16 hex id>_<secret>" and
// its stored form.
func newSession(userID string, now time.Time) (string, *store.Session) {
	idb, secret := make([]byte, 8), make([]byte, 32)
	_, _ = rand.Read(idb)
	_, _ = rand.Read(secret)
	id := hex.EncodeToString(idb)
	sec := base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256([]byte(sec))
	return sessionPrefix + id + "_" + sec, &store.Session{ID: id, UserID: userID, SecretHash: sum[:], CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
}

// sessionToken finds the session a bearer token names, checks its secret
// in constant time and its expiry, and returns its user as the principal.
func (s *Server) sessionToken(ctx context.Context, bearer string) (*Principal, bool) {
	rest, ok := strings.CutPrefix(bearer, sessionPrefix)
	if !ok || s.opts.Users == nil || len(rest) < 18 || rest[16] != '_' {
		return nil, false
	}
	sess, err := s.opts.Users.Session(ctx, rest[:16])
	if err != nil || !s.opts.Now().Before(sess.ExpiresAt) {
		return nil, false
	}
	sum := sha256.Sum256([]byte(rest[17:]))
	if subtle.ConstantTimeCompare(sum[:], sess.SecretHash) != 1 {
		return nil, false
	}
	u, err := s.opts.Users.UserByID(ctx, sess.UserID)
	if err != nil {
		return nil, false
	}
	return &Principal{Name: "user:" + u.Name, Role: u.Role, PII: u.PII, session: sess.ID, userID: u.ID, kind: "user"}, true
}

// logout ends the session the request carries.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r.Context())
	us, err := s.users()
	if err == nil && (p == nil || p.session == "") {
		err = mosaic.Errorf(mosaic.EINVALID, "Only a session token (from POST /api/v1/login) can sign out; revoke a role token with DELETE /api/v1/tokens/{id}.")
	}
	if err == nil {
		_, err = us.DeleteSessions(r.Context(), p.userID, p.session, s.opts.Now())
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
