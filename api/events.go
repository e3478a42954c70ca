package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/respond"
)

type eventsPage struct {
	Events    []json.RawMessage `json:"events"`
	NextAfter uint64            `json:"next_after"`
	// Head is the newest sequence number processed, so a client can start
	// tailing from now.
	Head uint64 `json:"head"`
}

// listEvents serves GET /api/v1/events?source=&after=&limit=&wait=. With
// wait (a duration such as "30s") an empty page is held until events arrive
// or the wait is over: a long poll, which is how 'mosaic events tail' streams.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q, wait, err := s.eventQuery(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ctx := r.Context()
	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		evs, next, err := s.events.Events(ctx, q)
		if err != nil {
			s.error(w, r, err)
			return
		}
		if len(evs) > 0 || wait == 0 || !s.waitFor(ctx, next+1, deadline) {
			respond.JSON(w, http.StatusOK, eventsPage{Events: renderEvents(evs), NextAfter: next, Head: s.events.Processed()})
			return
		}
		q.After = next
	}
}

// waitFor blocks until the engine has processed seq, and reports false if the
// deadline or the request's end came first.
func (s *Server) waitFor(ctx context.Context, seq uint64, deadline <-chan time.Time) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-deadline:
			cancel()
		case <-ctx.Done():
		}
	}()
	return s.events.WaitProcessed(ctx, seq) == nil
}

func (s *Server) eventQuery(r *http.Request) (engine.EventQuery, time.Duration, error) {
	var q engine.EventQuery
	q.SourceID = r.URL.Query().Get("source")
	after, err := queryInt(r, "after", 0, 0, 1<<62)
	if err != nil {
		return q, 0, err
	}
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return q, 0, err
	}
	q.After, q.Limit = uint64(after), int(limit)
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		wait, err = time.ParseDuration(v)
		if err != nil || wait < 0 || wait > s.opts.MaxWait {
			return q, 0, mosaic.Errorf(mosaic.EINVALID, "Query parameter \"wait\" must be a duration from 0s to %s, such as 30s, not %q.", s.opts.MaxWait, v)
		}
	}
	return q, wait, nil
}

// renderEvents returns each stored message with "seq" and "source_id" added
// in front, splicing bytes so the stored JSON is shown exactly as kept.
func renderEvents(evs []mosaic.Event) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(evs))
	for _, e := range evs {
		var b bytes.Buffer
		b.WriteString(`{"seq":`)
		b.WriteString(strconv.FormatUint(e.Seq, 10))
		b.WriteString(`,"source_id":`)
		id, _ := json.Marshal(e.SourceID)
		b.Write(id)
		rest := bytes.TrimSpace(e.Message)
		if len(rest) > 2 && rest[0] == '{' {
			b.WriteByte(',')
			b.Write(rest[1:])
		} else {
			b.WriteByte('}')
		}
		out = append(out, b.Bytes())
	}
	return out
}
