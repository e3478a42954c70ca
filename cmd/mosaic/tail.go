package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// EventsCmd groups the event commands.
type EventsCmd struct {
	Tail EventsTailCmd `cmd:"" help:"Stream events as they arrive, like a live debugger. Ctrl-C stops."`
}

// EventsTailCmd streams events by long-polling the events API.
type EventsTailCmd struct {
	ClientFlags
	Source string `help:"Only events of this source ID."`
	After  int64  `help:"Start after this sequence number instead of at the newest event; 0 shows the whole log." default:"-1"`
	JSON   bool   `help:"Print each event as one JSON line."`
	Max    int    `help:"Stop after this many events (0: never)." default:"0"`
}

type eventsPageJSON struct {
	Events    []json.RawMessage `json:"events"`
	NextAfter uint64            `json:"next_after"`
	Head      uint64            `json:"head"`
}

// Run tails until interrupted or Max events were printed.
func (c *EventsTailCmd) Run(g *Globals) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	after, err := c.start(ctx)
	if err != nil {
		return err
	}
	printed := 0
	for ctx.Err() == nil {
		q := url.Values{"after": {strconv.FormatUint(after, 10)}, "limit": {"500"}, "wait": {"25s"}}
		if c.Source != "" {
			q.Set("source", c.Source)
		}
		var page eventsPageJSON
		if err := c.call(ctx, "GET", "/api/v1/events?"+q.Encode(), nil, &page); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, ev := range page.Events {
			printEvent(g.Stdout, ev, c.JSON)
			if printed++; c.Max > 0 && printed >= c.Max {
				return nil
			}
		}
		after = page.NextAfter
	}
	return nil
}

// start returns the sequence number to tail after: the given one, or the
// server's newest.
func (c *EventsTailCmd) start(ctx context.Context) (uint64, error) {
	if c.After >= 0 {
		return uint64(c.After), nil
	}
	var page eventsPageJSON
	if err := c.call(ctx, "GET", "/api/v1/events?limit=1", nil, &page); err != nil {
		return 0, err
	}
	return page.Head, nil
}

// printEvent writes one line: the JSON, or a human summary.
func printEvent(w io.Writer, raw json.RawMessage, asJSON bool) {
	if asJSON {
		fmt.Fprintf(w, "%s\n", raw)
		return
	}
	var e struct {
		Seq         uint64 `json:"seq"`
		Type        string `json:"type"`
		Event       string `json:"event"`
		Name        string `json:"name"`
		UserID      any    `json:"userId"`
		AnonymousID any    `json:"anonymousId"`
		Timestamp   string `json:"timestamp"`
		SourceID    string `json:"source_id"`
	}
	_ = json.Unmarshal(raw, &e)
	what := e.Event
	if what == "" {
		what = e.Name
	}
	who := fmt.Sprint(e.UserID)
	if e.UserID == nil {
		who = fmt.Sprintf("anon:%v", e.AnonymousID)
	}
	fmt.Fprintf(w, "%8d  %-24s  %-8s  %-30q  %s\n", e.Seq, e.Timestamp, e.Type, what, who)
}
