// Command mosaic-load sends realistic Segment-spec events to a Mosaic
// server on this machine and measures how fast they are acknowledged; with
// -record it writes down every acknowledged messageId, and verify checks
// that the event log kept each one exactly once. gen writes synthetic
// customer journeys (package synth) to a file, and run -journeys sends
// them instead of random events.
//
//	mosaic-load run -url http://127.0.0.1:8080 -admin-token T -mode batch -batch 100 -concurrency 32 -duration 30s
//	mosaic-load run -write-key KEY -mode track -concurrency 64 -duration 30s -record acked.txt
//	mosaic-load verify -admin-token T -source ID acked.txt
//	mosaic-load gen -people 1000000 -events-per-person 10 -seed 1 -out journeys.jsonl
//	mosaic-load run -write-key KEY -journeys 10000 -batch 100
//	mosaic-load probe -admin-token T -journeys 10000 -rate 2000 -duration 30s
//
// It only ever sends to loopback addresses and always stops by itself,
// after at most ten minutes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `mosaic-load sends load to a Mosaic server on this machine.

Usage:
  mosaic-load run [flags]             send events for -duration and report
  mosaic-load verify [flags] FILE...  check recorded messageIds are stored once
  mosaic-load gen [flags]             write synthetic customer journeys as JSON Lines
  mosaic-load probe [flags]           measure profile lookups and ack-to-profile time under load

Run 'mosaic-load run -h', 'mosaic-load verify -h' or 'mosaic-load gen -h' for the flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code: 0 on
// success, 1 when the run or the verification failed, 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runCmd(ctx, args[1:], stdout, stderr)
	case "verify":
		err = verifyCmd(ctx, args[1:], stdout, stderr)
	case "gen":
		err = genCmd(ctx, args[1:], stdout, stderr)
	case "probe":
		err = probeCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "mosaic-load: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var u usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "mosaic-load: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "mosaic-load: %v\n", err)
		return 1
	}
}

// usageError marks errors in the command line.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// runCmd is 'mosaic-load run'.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseRunFlags(args, stderr)
	if err != nil {
		return usageError{err}
	}
	key, sourceID, err := writeKey(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	var rec *Recorder
	if cfg.Record != "" {
		if rec, err = CreateRecorder(cfg.Record); err != nil {
			return err
		}
	}
	rep := NewRunner(cfg, key, rec).Run(ctx, stderr)
	rep.SourceID = sourceID
	if rec != nil {
		if err := rec.Close(); err != nil {
			return err
		}
	}
	if err := writeReport(rep, cfg.JSON, stdout); err != nil {
		return err
	}
	if rep.AckedRequests == 0 {
		return errors.New("no request was acknowledged; see the errors above")
	}
	return nil
}

// writeKey returns the write key to send with: the configured one, or that
// of a source created with the admin token (whose id is then returned).
func writeKey(ctx context.Context, cfg *RunConfig, stderr io.Writer) (key, sourceID string, err error) {
	if cfg.WriteKey != "" {
		return cfg.WriteKey, "", nil
	}
	src, err := newAdminClient(cfg.base, cfg.AdminToken).createSource(ctx, cfg.SourceName)
	if err != nil {
		return "", "", err
	}
	fmt.Fprintf(stderr, "mosaic-load: created source %s (id %s)\n", src.Name, src.ID)
	return src.WriteKey, src.ID, nil
}

func writeReport(rep *Report, asJSON bool, w io.Writer) error {
	if asJSON {
		return rep.WriteJSON(w)
	}
	return rep.WriteText(w)
}

// verifyCmd is 'mosaic-load verify'.
func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseVerifyFlags(args, stderr)
	if err != nil {
		return usageError{err}
	}
	res, err := Verify(ctx, cfg)
	if err != nil {
		return err
	}
	if err := res.WriteText(stdout); err != nil {
		return err
	}
	if !res.OK() {
		return fmt.Errorf("%d acknowledged messageIds missing and %d duplicated in source %s", res.Missing, res.Duplicated, cfg.Source)
	}
	return nil
}
