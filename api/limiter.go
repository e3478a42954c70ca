package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// The login limiter bounds password guessing: after maxLoginFailures
// wrong passwords for one name within loginWindow, that name's password
// checks (a login, or a change of one's own password) are refused until
// the window has passed. The attempts are counted in the store, so the
// limit holds across every node sharing a PostgreSQL database and across
// restarts; an in-memory count would give each node, and each new term of
// the stages, its own five guesses.
//
// Each check is recorded before the password is compared and forgotten
// when it turns out to be no failure. Counting it first means checks of
// one name running at once, on one node or several, see each other, so
// no more than maxLoginFailures wrong guesses get through in a window.
const (
	maxLoginFailures = 5
	loginWindow      = 15 * time.Minute
)

// loginKey is what the store counts attempts under: a hash of the name,
// since people type passwords into the name field too, and the store
// should not keep those.
func loginKey(name string) string {
	sum := sha256.Sum256([]byte("mosaic login\x00" + name))
	return hex.EncodeToString(sum[:])
}

// beginLogin records an attempt to check a password of name, or refuses
// it (ETOOMANY) when the name had too many failures within the window. A
// refused attempt is not counted: the block ends a window after the last
// failure that was checked, as documented. Unknown names are counted the
// same way, so the answer does not reveal which names exist.
func (s *Server) beginLogin(ctx context.Context, us Users, name string, now time.Time) (int64, error) {
	id, n, err := us.BeginLogin(ctx, loginKey(name), now, now.Add(-loginWindow))
	if err != nil {
		return 0, err
	}
	if n > maxLoginFailures {
		s.forgetLogin(ctx, us, id)
		return 0, mosaic.Errorf(mosaic.ETOOMANY, "Too many wrong passwords for %q: wait 15 minutes, or ask an admin to set a new password.", name)
	}
	return id, nil
}

// forgetLogin removes an attempt that was no failure. It runs even if
// the client went away meanwhile: otherwise a correct password would
// count as a wrong one.
func (s *Server) forgetLogin(ctx context.Context, us Users, id int64) {
	if err := us.ForgetLogin(context.WithoutCancel(ctx), id); err != nil {
		s.opts.Log.Error("a sign-in attempt that succeeded is still counted as a failure", "err", err)
	}
}

// limitError answers an error of beginLogin, telling a refused client
// when to come back.
func (s *Server) limitError(w http.ResponseWriter, r *http.Request, err error) {
	if mosaic.ErrorCode(err) == mosaic.ETOOMANY {
		w.Header().Set("Retry-After", strconv.Itoa(int(loginWindow.Seconds())))
	}
	s.error(w, r, err)
}
