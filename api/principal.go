package api

import "context"

// Principal is who makes a request: the holder of the token it carried.
type Principal struct {
	Name string `json:"name"`
	Role string `json:"role"`
	PII  bool   `json:"pii"` // a marketer or viewer token granted personal data

	session, userID string // set for a user's session token
	// kind is "admin" for the admin token of the configuration, "token"
	// for a role token, "user" for a session.
	kind string
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalOf returns the request's principal, nil before authentication.
func principalOf(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
