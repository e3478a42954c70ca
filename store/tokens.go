package store

import (
	"context"
	"time"
)

// TokenStore keeps the admin API's tokens. Only a hash of each token's
// secret is stored; the secret is shown once, when made.
type TokenStore interface {
	// CreateToken stores a new token. ID, Name, Role, SecretHash and
	// CreatedAt must be set; ECONFLICT if an active token has the name or
	// any token the ID.
	CreateToken(ctx context.Context, t *APIToken) error
	// Token returns a token by ID, revoked ones included; ENOTFOUND if none.
	Token(ctx context.Context, id string) (*APIToken, error)
	// Tokens lists active tokens, oldest first. Empty, not nil, if none.
	Tokens(ctx context.Context) ([]*APIToken, error)
	// RevokeToken revokes an active token at the given time; ENOTFOUND if
	// there is no active token with id.
	RevokeToken(ctx context.Context, id string, at time.Time) error
}

// APIToken is an admin API token: a name, a role and the hash of its
// secret. PII grants roles that mask personal data the right to see it.
type APIToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	PII        bool       `json:"pii"`
	SecretHash []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}
