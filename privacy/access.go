package privacy

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/store"
)

// ExportSchema names the version of the access export's JSON schema
// (docs/privacy.md#access).
const ExportSchema = "mosaic.access.v1"

// Export is everything Mosaic holds about one person, for an access
// request: resolved through identity, and nothing about anyone else.
type Export struct {
	Schema      string                    `json:"schema"`
	RequestID   string                    `json:"request_id"`
	GeneratedAt time.Time                 `json:"generated_at"`
	Profile     *engine.ProfileView       `json:"profile"`
	Identity    *engine.IdentityView      `json:"identity"`
	Traits      map[string][]TraitValue   `json:"trait_history"`
	Events      []ExportEvent             `json:"events"`
	Consent     *View                     `json:"consent"`
	Sources     []string                  `json:"sources"`
	Audiences   []any                     `json:"audiences"`    // memberships with entry/exit history, where kept
	Deliveries  []any                     `json:"destinations"` // what destinations received, where kept
	Identifiers []identity.IdentifierInfo `json:"identifiers"`
	Notes       []string                  `json:"notes,omitempty"`
	Counts      map[string]int            `json:"counts"`
}

// TraitValue is one value a trait had, from one event.
type TraitValue struct {
	Value     json.RawMessage `json:"value"`
	Time      time.Time       `json:"time"`
	Seq       uint64          `json:"seq"`
	SourceID  string          `json:"source_id"`
	MessageID string          `json:"message_id"`
}

// ExportEvent is one of the person's events as stored.
type ExportEvent struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Type     string          `json:"type"`
	Name     string          `json:"name,omitempty"`
	SourceID string          `json:"source_id"`
	Message  json.RawMessage `json:"message,omitempty"`
}

// timeline returns every timeline row of the profile, oldest first.
func (r *Requests) timeline(ctx context.Context, ref string) ([]store.TimelineRow, error) {
	var all []store.TimelineRow
	var before time.Time
	var beforeSeq uint64
	for {
		rows, err := r.env.Timeline(ctx, ref, before, beforeSeq, 500)
		if err != nil {
			return nil, err
		}
		all = append(all, rows...)
		if len(rows) < 500 {
			break
		}
		last := rows[len(rows)-1]
		before, beforeSeq = last.Time, last.Seq
	}
	slices.Reverse(all)
	return all, nil
}

// collect gathers the export of the person v names.
func (r *Requests) collect(ctx context.Context, reqID string, v *engine.IdentityView) (*Export, error) {
	ref := v.ID.String()
	pv, err := r.env.Profile(ref)
	if err != nil {
		return nil, err
	}
	x := &Export{Schema: ExportSchema, RequestID: reqID, GeneratedAt: r.opts.Now().UTC(), Profile: pv, Identity: v,
		Identifiers: v.Identifiers, Traits: map[string][]TraitValue{}, Audiences: []any{}, Deliveries: []any{}, Sources: []string{}}
	if rs := r.opts.Recipients; rs != nil {
		keys, ids := []string{ref}, []identity.Identifier{}
		for _, i := range v.Identifiers {
			keys, ids = append(keys, i.Identifier.String()), append(ids, i.Identifier)
		}
		if x.Deliveries, err = rs.SentJSON(ctx, keys, ids); err != nil {
			return nil, err
		}
		x.Notes = append(x.Notes, "destinations lists the messages about this person still in the outbox: pending ones, and delivered ones for the delivery retention (7 days by default).")
	}
	if a := r.opts.Audiences; a != nil {
		ids := []uint64{uint64(v.ID)}
		for _, d := range v.History {
			if d.Kind == identity.DecisionMerge && len(d.Profiles) == 2 && d.Profiles[1] != v.ID {
				ids = append(ids, uint64(d.Profiles[1]))
			}
		}
		if x.Audiences, err = a.AudienceHistoryJSON(ctx, ids); err != nil {
			return nil, err
		}
	}
	for name := range pv.Traits {
		rows, err := r.env.TraitHistory(ctx, uint64(v.ID), "", name, 10000)
		if err != nil {
			return nil, err
		}
		for _, t := range rows {
			x.Traits[name] = append(x.Traits[name], TraitValue{Value: t.Value, Time: t.Time, Seq: t.Seq, SourceID: t.SourceID, MessageID: t.MessageID})
		}
	}
	for src := range pv.Sources {
		x.Sources = append(x.Sources, src)
	}
	slices.Sort(x.Sources)
	rows, err := r.timeline(ctx, ref)
	if err != nil {
		return nil, err
	}
	for _, t := range rows {
		e := ExportEvent{Seq: t.Seq, Time: t.Time, Type: t.Type, Name: t.Name, SourceID: t.SourceID}
		if ev, err := r.env.Event(t.Seq); err == nil {
			e.Message = json.RawMessage(slices.Clone(ev.Message))
		}
		x.Events = append(x.Events, e)
	}
	if x.Consent, err = r.env.ConsentView(ctx, ref, time.Time{}); err != nil {
		return nil, err
	}
	x.Counts = map[string]int{"audience_changes": len(x.Audiences), "destination_messages": len(x.Deliveries), "events": len(x.Events), "identifiers": len(x.Identifiers), "traits": len(x.Traits), "consent_decisions": len(x.Consent.History)}
	return x, nil
}

// access writes the person's export as JSON and CSV (one row per event).
func (r *Requests) access(ctx context.Context, req *store.PrivacyRequest, id identity.Identifier) (map[string]any, error) {
	if err := r.env.Settle(ctx); err != nil {
		return nil, err
	}
	v, err := r.person(id)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{"found": false}, nil
	}
	x, err := r.collect(ctx, req.ID, v)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.opts.ExportDir, 0o700); err != nil {
		return nil, fmt.Errorf("privacy: create export directory: %w", err)
	}
	jsonPath, csvPath := r.exportPaths(req.ID)
	data, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(jsonPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("privacy: write export: %w", err)
	}
	if err := writeEventsCSV(csvPath, x.Events); err != nil {
		return nil, err
	}
	return map[string]any{"found": true, "profile": v.ID.String(), "counts": x.Counts}, nil
}

func writeEventsCSV(path string, events []ExportEvent) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("privacy: write export: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"seq", "time", "type", "name", "source_id", "message"})
	for _, e := range events {
		_ = w.Write([]string{strconv.FormatUint(e.Seq, 10), e.Time.Format(time.RFC3339Nano), e.Type, e.Name, e.SourceID, string(e.Message)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("privacy: write export: %w", err)
	}
	return f.Close()
}
