package api

import (
	"errors"
	"net/http"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/passwd"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/store"
)

// The caller's own account: who the token names, and for a signed-in
// user a change of their own password. Every role may use these routes:
// they act only on the caller.

func (s *Server) meRoutes() {
	s.mux.HandleFunc("GET /api/v1/me", s.getMe)
	s.mux.HandleFunc("POST /api/v1/me/password", s.changeOwnPassword)
}

// me is what GET /api/v1/me answers.
type me struct {
	Name string `json:"name"`
	Role string `json:"role"`
	PII  bool   `json:"pii"`
	// Kind is "user" for a session of a signed-in user, "token" for a
	// role token and "admin" for the admin token of the configuration.
	Kind string      `json:"kind"`
	User *store.User `json:"user,omitempty"`
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r.Context())
	out := me{Name: p.Name, Role: p.Role, PII: p.seesPII(), Kind: p.kind}
	if p.session != "" {
		u, err := s.opts.Users.UserByID(r.Context(), p.userID)
		if err != nil {
			s.error(w, r, err)
			return
		}
		out.Name, out.User = u.Name, u
	}
	respond.JSON(w, http.StatusOK, out)
}

// passwordChange is the body of POST /api/v1/me/password.
type passwordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// changeOwnPassword lets a signed-in user change their password with the
// current one. A wrong current password counts toward the login limiter,
// since it is a password guess like a login. On success every session of
// the user ends, the one making the request too, and a new session token
// is returned: whoever held an old token (perhaps the reason for the
// change) is out, and the caller stays signed in.
func (s *Server) changeOwnPassword(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r.Context())
	us, err := s.users()
	if err == nil && p.session == "" {
		err = mosaic.Errorf(mosaic.EINVALID, "Only a signed-in user has a password to change; this request carries an API token (%s), which has none. Sign in with POST /api/v1/login, or ask an admin to change a user's password (PATCH /api/v1/users/{name}).", p.Name)
	}
	var in passwordChange
	if err == nil {
		err = decodeJSON(r, &in)
	}
	if err == nil {
		err = checkNewPassword(in)
	}
	var u *store.User
	if err == nil {
		u, err = us.UserByID(r.Context(), p.userID)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.checkOwnPassword(r, us, u, in.Current); err != nil {
		s.limitError(w, r, err)
		return
	}
	s.setOwnPassword(w, r, us, u, in.New)
}

// checkNewPassword applies the rules of every password (as for POST
// /api/v1/users) before any slow hash runs.
func checkNewPassword(in passwordChange) error {
	if in.Current == "" || in.New == "" {
		return mosaic.Errorf(mosaic.EINVALID, `Give the current password and the new one, e.g. {"current": "...", "new": "..."}.`)
	}
	if err := passwd.Check(in.New); err != nil {
		return mosaic.Errorf(mosaic.EINVALID, "New password refused: %v.", err)
	}
	if in.New == in.Current {
		return mosaic.Errorf(mosaic.EINVALID, "The new password is the current one: choose another.")
	}
	return nil
}

// checkOwnPassword compares the current password, as a login does.
func (s *Server) checkOwnPassword(r *http.Request, us Users, u *store.User, current string) error {
	attempt, err := s.beginLogin(r.Context(), us, u.Name, s.opts.Now().UTC())
	if err != nil {
		return err
	}
	if err := passwd.Verify(current, u.PasswordHash); err != nil {
		if !errors.Is(err, passwd.ErrMismatch) {
			s.opts.Log.Error("a stored password hash cannot be read", "user", u.Name, "err", err)
		}
		return mosaic.Errorf(mosaic.EFORBIDDEN, "The current password is wrong; the password was not changed. After %d wrong passwords in %s, this name is locked out for a while.", maxLoginFailures, loginWindow)
	}
	s.forgetLogin(r.Context(), us, attempt)
	return nil
}

// setOwnPassword stores the new password, ends the user's sessions and
// returns a new one.
func (s *Server) setOwnPassword(w http.ResponseWriter, r *http.Request, us Users, u *store.User, pw string) {
	h, err := passwd.Hash(pw, passwd.Default)
	if err != nil {
		s.error(w, r, mosaic.Errorf(mosaic.EINVALID, "New password refused: %v.", err))
		return
	}
	now := s.opts.Now().UTC()
	u.PasswordHash, u.UpdatedAt = h, now
	if err = us.UpdateUser(r.Context(), u); err == nil {
		_, err = us.DeleteSessions(r.Context(), u.ID, "", now)
	}
	token, sess := newSession(u.ID, now)
	if err == nil {
		err = us.CreateSession(r.Context(), sess)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"token": token, "expires_at": sess.ExpiresAt, "user": u,
		"note": "The password is changed and every session of this user has ended, this one too: use the new token."})
}
