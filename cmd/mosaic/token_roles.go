package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"text/tabwriter"
	"time"
)

// Role tokens, for programs (a CRM sync, a BI tool) rather than people:
// made, listed and revoked through the admin API of a running server.

// TokenCreateCmd makes a role token.
type TokenCreateCmd struct {
	ClientFlags
	Name string `arg:"" help:"What the token is for, e.g. crm-sync."`
	Role string `help:"admin, privacy, marketer or viewer (see docs/privacy.md#roles)." required:""`
	PII  bool   `help:"Let a marketer or viewer token see personal data unmasked."`
}

// Run makes the token and prints it once.
func (c *TokenCreateCmd) Run(g *Globals) error {
	var out struct {
		ID, Name, Role, Token string
	}
	if err := c.call(context.Background(), "POST", "/api/v1/tokens", map[string]any{"name": c.Name, "role": c.Role, "pii": c.PII}, &out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Created token %q (id %s, role %s). Shown only once; only its hash is kept:\n\n    %s\n\n", out.Name, out.ID, out.Role, out.Token)
	return nil
}

// TokenListCmd lists the active role tokens.
type TokenListCmd struct {
	ClientFlags
	JSON bool `help:"Print JSON."`
}

// Run lists the tokens.
func (c *TokenListCmd) Run(g *Globals) error {
	var out struct {
		Tokens []struct {
			ID        string    `json:"id"`
			Name      string    `json:"name"`
			Role      string    `json:"role"`
			PII       bool      `json:"pii"`
			CreatedAt time.Time `json:"created_at"`
		} `json:"tokens"`
	}
	if err := c.call(context.Background(), "GET", "/api/v1/tokens", nil, &out); err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out.Tokens)
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tPII\tCREATED")
	for _, t := range out.Tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", t.ID, t.Name, t.Role, t.PII, t.CreatedAt.Format(time.DateTime))
	}
	return tw.Flush()
}

// TokenRevokeCmd revokes a role token.
type TokenRevokeCmd struct {
	ClientFlags
	ID string `arg:"" help:"The token's id (from 'mosaic token list')."`
}

// Run revokes the token.
func (c *TokenRevokeCmd) Run(g *Globals) error {
	if err := c.call(context.Background(), "DELETE", "/api/v1/tokens/"+url.PathEscape(c.ID), nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Revoked token %s; it stops working at once.\n", c.ID)
	return nil
}
