package store

import (
	"context"
	"time"
)

// UserStore keeps the users of the admin API and UI and their login
// sessions. Passwords are kept only as hashes (package passwd), session
// secrets only as SHA-256.
type UserStore interface {
	// CreateUser stores a new user; ID, Name, Role, PasswordHash and
	// CreatedAt must be set. ECONFLICT if a user has the name or ID.
	CreateUser(ctx context.Context, u *User) error
	// UserByName returns a user; ENOTFOUND if none has the name.
	UserByName(ctx context.Context, name string) (*User, error)
	// UserByID returns a user; ENOTFOUND if none has the ID.
	UserByID(ctx context.Context, id string) (*User, error)
	// Users lists users by name. Empty, not nil, if none.
	Users(ctx context.Context) ([]*User, error)
	// UpdateUser replaces a user's Role, PII, PasswordHash and UpdatedAt;
	// ENOTFOUND if there is none.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser deletes a user and their sessions; ENOTFOUND if none has
	// the name.
	DeleteUser(ctx context.Context, name string) error

	// CreateSession stores a new session of an existing user.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns a session; ENOTFOUND if there is none (expired ones
	// are returned: the caller checks ExpiresAt).
	Session(ctx context.Context, id string) (*Session, error)
	// DeleteSessions deletes a user's sessions (all, or only the one with
	// sessionID if it is not empty) and every session that expired before
	// now; it returns how many of the user's it deleted.
	DeleteSessions(ctx context.Context, userID, sessionID string, now time.Time) (int, error)
}

// User is a person who signs in to the admin API or UI.
type User struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	PII          bool      `json:"pii"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Session is a signed-in user's bearer token, as stored.
type Session struct {
	ID         string
	UserID     string
	SecretHash []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
}
