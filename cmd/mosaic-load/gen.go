package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mosaic-cdp/mosaic/synth"
)

// GenConfig is the configuration of 'mosaic-load gen', parsed once from
// flags.
type GenConfig struct {
	Out   string        // JSON Lines file to write the messages to; "-" for stdout
	Truth string        // JSON Lines file for the truth, one person a line; empty for none
	Opts  synth.Options // what to generate
}

// parseGenFlags parses the flags of 'mosaic-load gen' and validates them.
func parseGenFlags(args []string, stderr io.Writer) (*GenConfig, error) {
	c := &GenConfig{Opts: synth.DefaultOptions()}
	o := &c.Opts
	start := o.Start.Format(time.DateOnly)
	fs := flag.NewFlagSet("mosaic-load gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Out, "out", "", "JSON Lines file to write, one Segment message a line; - for stdout (required)")
	fs.StringVar(&c.Truth, "truth", "", "also write, one JSON object a line, each person's identifiers (see package synth's Person)")
	fs.IntVar(&o.People, "people", o.People, "number of people")
	fs.Float64Var(&o.EventsPerPerson, "events-per-person", o.EventsPerPerson, "mean number of messages per person")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed: the same flags give the same file")
	fs.StringVar(&start, "start", start, "first day of the journeys (YYYY-MM-DD, UTC)")
	fs.IntVar(&o.Days, "days", o.Days, "number of days the journeys span")
	fs.Float64Var(&o.JunkRate, "junk-rate", o.JunkRate, "share of identifying values that are junk (\"undefined\", \"test@test.com\")")
	fs.Float64Var(&o.SharedDeviceRate, "shared-device-rate", o.SharedDeviceRate, "share of people sharing a family device with someone")
	fs.Float64Var(&o.EmailChangeRate, "email-change-rate", o.EmailChangeRate, "share of account holders who change their e-mail address")
	fs.Float64Var(&o.LateRate, "late-rate", o.LateRate, "share of messages arriving one hour to three days late")
	fs.StringVar(&o.Region, "region", o.Region, "the shop's country and its resolver's default phone region: NL, US, DE, BE or GB")
	fs.IntVar(&o.Window, "window", o.Window, "people whose journeys interleave in the stream at once")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q: 'mosaic-load gen' takes only flags", fs.Args())
	}
	t, err := time.Parse(time.DateOnly, start)
	if err != nil {
		return nil, fmt.Errorf("-start %q is not a date; use YYYY-MM-DD, e.g. 2024-01-01", start)
	}
	o.Start = t
	return c, c.Validate()
}

// Validate checks the configuration before anything is written.
func (c *GenConfig) Validate() error {
	var errs []error
	if c.Out == "" {
		errs = append(errs, errors.New("set -out FILE (or -out - for stdout)"))
	}
	if c.Truth != "" && c.Truth == c.Out {
		errs = append(errs, errors.New("-truth and -out must be different files"))
	}
	if err := c.Opts.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// genCmd is 'mosaic-load gen'.
func genCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseGenFlags(args, stderr)
	if err != nil {
		return usageError{err}
	}
	out, closeOut, err := createOutput(cfg.Out, stdout)
	if err != nil {
		return err
	}
	var truth io.Writer
	closeTruth := func() error { return nil }
	if cfg.Truth != "" {
		if truth, closeTruth, err = createOutput(cfg.Truth, stdout); err != nil {
			closeOut()
			return err
		}
	}
	start := time.Now()
	n, werr := writeJourneys(ctx, cfg.Opts, out, truth)
	err = errors.Join(werr, closeOut(), closeTruth())
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(stderr, "mosaic-load: wrote %d messages for %d people to %s in %.1fs (%.0f messages/s)\n",
		n, cfg.Opts.People, cfg.Out, secs, float64(n)/secs)
	return nil
}

// writeJourneys writes the journeys of opts to w, one message a line, and
// each person's truth to truth if it is not nil. It stops when ctx ends.
func writeJourneys(ctx context.Context, opts synth.Options, w, truth io.Writer) (int64, error) {
	var terr error
	if truth != nil {
		enc := json.NewEncoder(truth)
		opts.Truth = func(p synth.Person) {
			if err := enc.Encode(p); err != nil && terr == nil {
				terr = fmt.Errorf("write truth: %w", err)
			}
		}
	}
	var n int64
	for msg := range synth.New(opts).All() {
		if n%4096 == 0 && ctx.Err() != nil {
			return n, fmt.Errorf("stopped after %d messages: %w", n, ctx.Err())
		}
		if _, err := w.Write(msg); err != nil {
			return n, fmt.Errorf("write messages: %w", err)
		}
		if _, err := w.Write(newline); err != nil {
			return n, fmt.Errorf("write messages: %w", err)
		}
		n++
	}
	return n, terr
}

var newline = []byte{'\n'}

// createOutput opens name for writing through a buffer ("-" is stdout);
// the returned function flushes and closes it.
func createOutput(name string, stdout io.Writer) (io.Writer, func() error, error) {
	if name == "-" {
		bw := bufio.NewWriterSize(stdout, 1<<20)
		return bw, bw.Flush, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, fmt.Errorf("create output: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	return bw, func() error {
		if err := bw.Flush(); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("close %s: %w", name, err)
		}
		return nil
	}, nil
}
