package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// VerifyConfig is the configuration of 'mosaic-load verify'.
type VerifyConfig struct {
	URL        string
	AdminToken string
	Source     string        // source id whose events are read
	Files      []string      // record files written by 'run -record'
	Wait       time.Duration // how long to wait for missing events to be processed
}

// VerifyResult counts recorded messageIds against the event log.
type VerifyResult struct {
	Recorded   int      // distinct ids in the record files
	Found      int      // recorded ids seen at least once
	Missing    int      // recorded ids never seen
	Duplicated int      // recorded ids seen more than once
	Unrecorded int      // events in the log that were not recorded (sent, answer lost)
	Scanned    int      // events read from the log
	Examples   []string // a few missing or duplicated ids, for the report
}

// OK reports whether every recorded id is in the log exactly once.
func (r *VerifyResult) OK() bool { return r.Missing == 0 && r.Duplicated == 0 }

// parseVerifyFlags parses 'mosaic-load verify [flags] FILE...'.
func parseVerifyFlags(args []string, stderr io.Writer) (*VerifyConfig, error) {
	c := &VerifyConfig{}
	fs := flag.NewFlagSet("mosaic-load verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "base URL of the Mosaic server (loopback only)")
	fs.StringVar(&c.AdminToken, "admin-token", "", "admin token (required)")
	fs.StringVar(&c.Source, "source", "", "id of the source the events were sent to (required)")
	fs.DurationVar(&c.Wait, "wait", 30*time.Second, "how long to wait for events still being processed")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.Files = fs.Args()
	var errs []error
	if c.AdminToken == "" || c.Source == "" {
		errs = append(errs, errors.New("-admin-token and -source are required"))
	}
	if len(c.Files) == 0 {
		errs = append(errs, errors.New("name at least one record file written by 'mosaic-load run -record FILE'"))
	}
	return c, errors.Join(errs...)
}

// Verify reads the record files, then pages through the source's events
// until every recorded id has been seen or cfg.Wait has passed since the
// log stopped yielding new events.
func Verify(ctx context.Context, cfg *VerifyConfig) (*VerifyResult, error) {
	base, err := checkLoopback(cfg.URL)
	if err != nil {
		return nil, err
	}
	seen, err := readRecorded(cfg.Files)
	if err != nil {
		return nil, err
	}
	t := &tally{seen: seen, res: VerifyResult{Recorded: len(seen)}}
	if err := scanLog(ctx, newAdminClient(base, cfg.AdminToken), cfg, t); err != nil {
		return nil, err
	}
	return t.result(), nil
}

// readRecorded reads messageIds, one per line, into a set of counts.
func readRecorded(files []string) (map[string]int, error) {
	seen := map[string]int{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read record file: %w", err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if id := strings.TrimSpace(sc.Text()); id != "" {
				seen[id] = 0
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read record file %s: %w", name, err)
		}
	}
	return seen, nil
}

// scanLog pages through the events of cfg.Source into t. Once it has caught
// up with the head it stops if nothing is missing; otherwise it polls for
// events still being processed, until cfg.Wait passes without progress.
func scanLog(ctx context.Context, admin *adminClient, cfg *VerifyConfig, t *tally) error {
	var after uint64
	giveUp := time.Now().Add(cfg.Wait)
	for {
		page, err := admin.events(ctx, cfg.Source, after, 1000)
		if err != nil {
			return fmt.Errorf("read events of source %s: %w", cfg.Source, err)
		}
		for _, e := range page.Events {
			t.add(e.MessageID)
		}
		if len(page.Events) > 0 {
			giveUp = time.Now().Add(cfg.Wait)
		}
		after = max(after, page.NextAfter)
		caughtUp := len(page.Events) == 0 || after >= page.Head
		if caughtUp && (t.found == t.res.Recorded || time.Now().After(giveUp)) {
			return nil
		}
		if caughtUp && !sleepUntil(ctx, time.Now().Add(200*time.Millisecond)) {
			return ctx.Err()
		}
	}
}

// tally counts how often each recorded id was seen.
type tally struct {
	seen  map[string]int
	found int
	res   VerifyResult
}

func (t *tally) add(id string) {
	t.res.Scanned++
	n, ok := t.seen[id]
	if !ok {
		t.res.Unrecorded++
		return
	}
	if n == 0 {
		t.found++
	}
	t.seen[id] = n + 1
}

// result finishes the counts and picks a few examples of what is wrong.
func (t *tally) result() *VerifyResult {
	r := t.res
	r.Found = t.found
	for id, n := range t.seen {
		switch {
		case n == 0:
			r.Missing++
		case n > 1:
			r.Duplicated++
		default:
			continue
		}
		if len(r.Examples) < 10 {
			r.Examples = append(r.Examples, fmt.Sprintf("%s seen %d times", id, n))
		}
	}
	return &r
}

// WriteText prints the counts.
func (r *VerifyResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "recorded %d, found %d, missing %d, duplicated %d (scanned %d events, %d not recorded)\n",
		r.Recorded, r.Found, r.Missing, r.Duplicated, r.Scanned, r.Unrecorded)
	for _, ex := range r.Examples {
		fmt.Fprintf(w, "  %s\n", ex)
	}
	return err
}
