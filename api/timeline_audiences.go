package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/segment"
	"github.com/mosaic-cdp/mosaic/store"
)

// A profile's timeline shows its audience entries and exits among its
// events, as "Audience Entered" and "Audience Exited" track events, merged
// newest first. At the same moment, an entry or exit comes before (is newer
// than) the events: it is what they caused. The cursor names the last item
// shown: "unixnano-seq" for an event (the form the timeline always had),
// "unixnano-a<change id>" for an entry or exit.

// timelineCursor is a position in the merged timeline.
type timelineCursor struct {
	at     time.Time // zero: from the newest
	change bool      // the last item shown was an entry or exit
	id     uint64    // its event position or change ID
}

// parseTimelineCursor reads a next_before; "" means from the newest.
func parseTimelineCursor(c string) (timelineCursor, error) {
	ns, rest, ok := strings.Cut(c, "-")
	if ok && strings.HasPrefix(rest, "a") {
		n, err1 := strconv.ParseInt(ns, 10, 64)
		id, err2 := strconv.ParseUint(rest[1:], 10, 63)
		if err1 == nil && err2 == nil {
			return timelineCursor{at: time.Unix(0, n).UTC(), change: true, id: id}, nil
		}
	}
	at, seq, err := parseCursor(c)
	return timelineCursor{at: at, id: seq}, err
}

// eventsBefore is the events' cursor: at the same moment as an entry or
// exit, every event is older than it.
func (c timelineCursor) eventsBefore() (time.Time, uint64) {
	if c.change {
		return c.at, math.MaxInt64
	}
	return c.at, c.id
}

// changesBefore is the entries' and exits' cursor: at the same moment as
// an event, every entry or exit is newer than it, so they start strictly
// before its moment (change IDs start at 1).
func (c timelineCursor) changesBefore() (time.Time, int64) {
	if c.change {
		return c.at, int64(c.id)
	}
	return c.at, 0
}

// profileChanges reads a profile's entries and exits before the cursor as
// timeline items, newest first; none when the server has no audiences.
func (s *Server) profileChanges(ctx context.Context, ref string, cur timelineCursor, limit int) ([]timelineEvent, error) {
	if s.opts.Segments == nil {
		return nil, nil
	}
	id, err := s.findProfile(ref)
	if err != nil {
		return nil, err
	}
	before, beforeID := cur.changesBefore()
	changes, err := s.opts.Segments.ProfileChanges(ctx, id, before, beforeID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]timelineEvent, len(changes))
	for i := range changes {
		ch := &changes[i]
		msg, err := json.Marshal(map[string]any{
			"type": "track", "event": ch.Event(), "timestamp": ch.At,
			"properties": map[string]any{"audience_id": ch.AudienceID, "audience_key": ch.Key, "audience_name": ch.Name},
		})
		if err != nil {
			return nil, fmt.Errorf("api: encode audience change %d: %w", ch.ID, err)
		}
		out[i] = timelineEvent{Time: ch.At, Type: mosaic.TypeTrack, Name: ch.Event(), Message: msg, Audience: ch}
	}
	return out, nil
}

// mergeTimeline merges events and entries or exits, each newest first,
// into at most limit items, and returns the cursor after the last one
// when the page is full.
func mergeTimeline(events []store.TimelineRow, shown, changes []timelineEvent, limit int) ([]timelineEvent, string) {
	out := make([]timelineEvent, 0, min(limit, len(shown)+len(changes)))
	i, j := 0, 0
	for len(out) < limit && (i < len(shown) || j < len(changes)) {
		// An entry or exit goes first unless an event is strictly newer.
		if j < len(changes) && (i >= len(shown) || !events[i].Time.After(changes[j].Time)) {
			out = append(out, changes[j])
			j++
			continue
		}
		out = append(out, shown[i])
		i++
	}
	if len(out) < limit {
		return out, ""
	}
	last := out[len(out)-1]
	if last.Audience != nil {
		return out, fmt.Sprintf("%d-a%d", last.Time.UnixNano(), last.Audience.ID)
	}
	return out, fmt.Sprintf("%d-%d", last.Time.UnixNano(), last.Seq)
}

// timelineAudience is what a timeline item says of an entry or exit.
type timelineAudience = segment.TimelineChange
