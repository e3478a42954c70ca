package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store/postgres"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// MigrateCmd moves an embedded installation into PostgreSQL.
type MigrateCmd struct {
	From string `help:"Data directory of the embedded installation. Stop its server first." required:"" placeholder:"DIR"`
	To   string `help:"PostgreSQL URL of the new installation (postgres://...). Its event log must be empty." required:"" placeholder:"URL"`
}

// migrateBatch is how many log records go into PostgreSQL per transaction.
const migrateBatch = 5000

// Run copies the event log, the sources, their quarantine and the settings
// (the admin token's hash among them), then checks the counts. Derived
// state (deduplication, identities, profiles) is not copied: the first
// server started on the new installation rebuilds it from the log.
func (c *MigrateCmd) Run(g *Globals) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	from, err := sqlite.Open(ctx, filepath.Join(c.From, "mosaic.db"), sqlite.Options{})
	if err != nil {
		return fmt.Errorf("open the database in %s: %w", c.From, err)
	}
	defer from.Close()
	src, err := eventlog.Open(filepath.Join(c.From, "log"), eventlog.DefaultOptions())
	if err != nil {
		return fmt.Errorf("open the event log in %s (stop its server first): %w", c.From, err)
	}
	defer src.Close()
	to, err := postgres.Open(ctx, c.To, postgres.Options{})
	if err != nil {
		return fmt.Errorf("open PostgreSQL (--to): %w", err)
	}
	defer to.Close()
	dst, err := to.OpenLog(ctx, postgres.LogOptions{})
	if err != nil {
		return err
	}
	defer dst.Close()
	if dst.LastSeq() != 0 {
		return fmt.Errorf("the event log in PostgreSQL already holds events up to %d: migrate into an empty database or schema", dst.LastSeq())
	}
	sources, settings, rejected, err := copyConfig(ctx, from, to)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Copied %d sources, %d quarantined events and %d settings.\n", sources, rejected, settings)
	copied, err := copyLog(ctx, g, src, dst)
	if err != nil {
		return err
	}
	n, err := dst.Count(ctx)
	if err != nil {
		return err
	}
	if n != copied || dst.LastSeq() != src.LastSeq() {
		return fmt.Errorf("verification failed: the embedded log has %d events up to %d, PostgreSQL %d up to %d", copied, src.LastSeq(), n, dst.LastSeq())
	}
	fmt.Fprintf(g.Stdout, "Copied %d events (sequence %d to %d); counts verified.\nStart the servers with --postgres: the first rebuilds profiles from the log.\n",
		n, src.FirstSeq(), src.LastSeq())
	return nil
}

// copyConfig copies the sources with their quarantine, and the settings.
func copyConfig(ctx context.Context, from *sqlite.DB, to *postgres.DB) (sources, settings, rejected int, err error) {
	list, err := from.Sources(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, s := range list {
		if err := to.CreateSource(ctx, s); err != nil {
			var me *mosaic.Error
			if errors.As(err, &me) && me.Code == mosaic.ECONFLICT {
				return 0, 0, 0, fmt.Errorf("source %s exists in PostgreSQL already: migrate into an empty database or schema", s.Name)
			}
			return 0, 0, 0, fmt.Errorf("copy source %s: %w", s.Name, err)
		}
		for after := int64(0); ; {
			page, err := from.Rejected(ctx, s.ID, after, 1000)
			if err != nil || len(page) == 0 {
				if err != nil {
					return 0, 0, 0, err
				}
				break
			}
			after = page[len(page)-1].ID
			if err := to.AddRejected(ctx, page); err != nil {
				return 0, 0, 0, fmt.Errorf("copy the quarantine of source %s: %w", s.Name, err)
			}
			rejected += len(page)
		}
	}
	all, err := from.AllSettings(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	for k, v := range all {
		if err := to.PutSetting(ctx, k, v); err != nil {
			return 0, 0, 0, fmt.Errorf("copy setting %s: %w", k, err)
		}
	}
	return len(list), len(all), rejected, nil
}

// copyLog copies every record and returns how many.
func copyLog(ctx context.Context, g *Globals, src *eventlog.Log, dst *postgres.Log) (int64, error) {
	var copied int64
	for after := src.FirstSeq() - 1; after < src.LastSeq(); {
		recs, err := src.Read(after, migrateBatch, 0)
		if err != nil {
			return copied, fmt.Errorf("read the embedded log after %d: %w", after, err)
		}
		if len(recs) == 0 {
			break
		}
		if err := dst.CopyRecords(ctx, recs); err != nil {
			return copied, fmt.Errorf("copy events %d..%d: %w", recs[0].Seq, recs[len(recs)-1].Seq, err)
		}
		copied += int64(len(recs))
		after = recs[len(recs)-1].Seq
		if copied%(20*migrateBatch) == 0 {
			fmt.Fprintf(g.Stdout, "  %d events...\n", copied)
		}
	}
	return copied, nil
}
