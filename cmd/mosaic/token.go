package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// adminTokenSetting names the stored SHA-256 of a generated admin token. The
// token itself is never stored.
const adminTokenSetting = "admin_token_sha256"

type settings interface {
	Setting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
}

// adminTokenHash returns the hash of the admin token: of the configured one
// if set; else of the one generated at first start. A new token is printed
// once on stderr.
func adminTokenHash(ctx context.Context, st settings, configured string, stderr io.Writer) ([32]byte, error) {
	if configured != "" {
		return sha256.Sum256([]byte(configured)), nil
	}
	stored, err := st.Setting(ctx, adminTokenSetting)
	switch {
	case err == nil:
		var h [32]byte
		if b, err := hex.DecodeString(stored); err == nil && len(b) == len(h) {
			copy(h[:], b)
			return h, nil
		}
		return h, fmt.Errorf("stored admin token hash is corrupt; run 'mosaic token reset' to make a new token")
	case mosaic.ErrorCode(err) != mosaic.ENOTFOUND:
		return [32]byte{}, fmt.Errorf("read admin token hash: %w", err)
	}
	return newAdminToken(ctx, st, stderr)
}

func newAdminToken(ctx context.Context, st settings, stderr io.Writer) ([32]byte, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := "mosaic_" + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	if err := st.PutSetting(ctx, adminTokenSetting, hex.EncodeToString(h[:])); err != nil {
		return h, fmt.Errorf("store admin token hash: %w", err)
	}
	fmt.Fprintf(stderr, "\nAdmin API token (shown only once; keep it safe, only its hash is stored):\n\n    %s\n\nUse it as: export MOSAIC_ADMIN_TOKEN=%s\n\n", token, token)
	return h, nil
}

// TokenCmd manages the admin token and role tokens.
type TokenCmd struct {
	Reset  TokenResetCmd  `cmd:"" help:"Make a new admin token, replacing the stored one. Stop the server first; it reads the token at start."`
	Create TokenCreateCmd `cmd:"" help:"Make a role token for a program (shown once)."`
	List   TokenListCmd   `cmd:"" help:"List the active role tokens."`
	Revoke TokenRevokeCmd `cmd:"" help:"Revoke a role token."`
}

// TokenResetCmd replaces a lost admin token.
type TokenResetCmd struct {
	Data string `help:"The server's data directory." default:"./mosaic-data" placeholder:"DIR"`
}

// Run makes and prints a new token.
func (c *TokenResetCmd) Run(g *Globals) error {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(c.Data, "mosaic.db"), sqlite.Options{})
	if err != nil {
		return fmt.Errorf("open database in %s: %w", c.Data, err)
	}
	defer st.Close()
	_, err = newAdminToken(ctx, st, g.Stdout)
	return err
}
