package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/mosaic-cdp/mosaic/privacy"
)

// AuditCmd works on the audit log.
type AuditCmd struct {
	Verify AuditVerifyCmd `cmd:"" help:"Check that no audit log entry was altered, removed or inserted (the hash chain)."`
}

// AuditVerifyCmd verifies the audit log's hash chain.
type AuditVerifyCmd struct {
	Data     string `help:"The server's data directory." default:"./mosaic-data" placeholder:"DIR"`
	Postgres string `help:"PostgreSQL URL, if the server keeps its database there." placeholder:"URL" env:"MOSAIC_POSTGRES_URL"`
}

// Run walks the chain; it exits 1 at the first broken link. It reads only,
// so the server may keep running.
func (c *AuditVerifyCmd) Run(g *Globals) error {
	ctx := context.Background()
	st, err := openStore(ctx, ServeCmd{Data: c.Data, Postgres: c.Postgres})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := privacy.NewAuditor(st, nil, nil).Verify(ctx)
	var broken *privacy.VerifyError
	if errors.As(err, &broken) {
		return fmt.Errorf("the audit log is NOT intact: %w (%d entries before it verified)", err, n)
	}
	if err != nil {
		return fmt.Errorf("verify the audit log: %w", err)
	}
	fmt.Fprintf(g.Stdout, "The audit log is intact: %d entries, every hash and link verified.\n", n)
	return nil
}
