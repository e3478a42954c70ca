package segment

import (
	"context"
	"encoding/json"
	"time"
)

// TimelineChange is one entry or exit as a profile's timeline shows it.
type TimelineChange struct {
	ID         int64     `json:"change_id"`
	AudienceID string    `json:"audience_id"`
	Key        string    `json:"key,omitempty"`  // empty once the audience is deleted
	Name       string    `json:"name,omitempty"` // the audience's
	Entered    bool      `json:"entered"`
	At         time.Time `json:"at"`
	// Cause is why it happened: {"kind": "event", "seq": ...}, "time",
	// "merge", "backfill", "edit", "delete" or "split".
	Cause json.RawMessage `json:"cause"`
}

// Event is the name the change has in a timeline, after Segment's
// convention for audience membership events.
func (c *TimelineChange) Event() string {
	if c.Entered {
		return "Audience Entered"
	}
	return "Audience Exited"
}

// ProfileChanges returns a profile's saved entries and exits, newest first
// by (At, ID): with before not zero, those before (before, beforeID); at
// most limit. The changes of a profile merged into another stay with the
// absorbed profile, as its own history.
func (s *Segments) ProfileChanges(ctx context.Context, profileID uint64, before time.Time, beforeID int64, limit int) ([]TimelineChange, error) {
	rows, err := s.st.ProfileAudienceChanges(ctx, profileID, before, beforeID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]TimelineChange, len(rows))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range rows {
		out[i] = TimelineChange{ID: r.ID, AudienceID: r.AudienceID, Entered: r.Entered, At: r.At, Cause: json.RawMessage(r.Cause)}
		if a := s.audiences[r.AudienceID]; a != nil {
			out[i].Key, out[i].Name = a.Key, a.Name
		}
		if !json.Valid(out[i].Cause) {
			out[i].Cause = json.RawMessage("null")
		}
	}
	return out, nil
}
