package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/privacy"
	"github.com/mosaic-cdp/mosaic/profile"
	"github.com/mosaic-cdp/mosaic/store"
)

// Privacy works on the current term of the stages (see stages.go): an
// erasure ends the term, redacts the log and starts a new term that
// rebuilds all derived state from the log; readers reach whichever term is
// current through Main's methods.

// errNoStages answers privacy's reads while no term of the stages runs on
// this node (between terms, or on a node that does not hold their lease).
var errNoStages = mosaic.Errorf(mosaic.EUNAVAILABLE, "The processing stages are not running on this node at the moment; retry shortly.")

// current returns the current term, nil if none runs here.
func (m *Main) current() *term { return m.term.Load() }

// redactor is an event log that can overwrite records in place.
type redactor interface {
	Redact(seqs []uint64, replace func(seq uint64, old []byte) []byte) (int, error)
	Scan(from uint64, fn func(eventlog.Record) error) error
}

// Settle implements privacy.Env: it waits until the stages have processed
// every durable event and saved their state, so reads of the store (trait
// history, timelines) are complete.
func (m *Main) Settle(ctx context.Context) error {
	g := m.current()
	if g == nil {
		return errNoStages
	}
	if err := g.profiles.WaitProcessed(ctx, m.Log.LastSeq()); err != nil {
		return err
	}
	target := g.profiles.Processed()
	for {
		seq, _, _, err := m.Store.ProfileCheckpoint(ctx)
		if err != nil || seq >= target {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// EraseEvents implements privacy.Env: it stops the stages (saving their
// final state), asks find for the records to erase, overwrites them in the
// log with tombstones of the same size, deletes all derived state, starts
// new stages that rebuild it from the log, waits until they reach the end
// of the log, and compacts the store's files. Erasures run one at a time.
func (m *Main) EraseEvents(ctx context.Context, find func(context.Context) ([]uint64, error)) (int, error) {
	log, ok := m.Log.(redactor)
	if !ok {
		return 0, mosaic.Errorf(mosaic.EUNAVAILABLE, "This event log cannot erase records.")
	}
	m.erasing.Lock()
	defer m.erasing.Unlock()
	t := m.current()
	if t == nil {
		return 0, errNoStages // with PostgreSQL: the node holding the stages' lease erases
	}
	// Stopped, the term's memory still answers find's reads; nothing
	// changes it any more.
	if err := t.close(); err != nil {
		m.Logger.Warn("erasure: stopping the stages", "err", err)
	}
	seqs, err := find(ctx)
	if err != nil {
		return 0, m.restart(t, err)
	}
	if _, err := log.Redact(seqs, tombstone); err != nil {
		return 0, m.restart(t, fmt.Errorf("redact the event log: %w", err))
	}
	if err := t.st.ResetDerived(ctx); err != nil {
		return 0, m.restart(t, fmt.Errorf("reset derived state: %w", err))
	}
	if err := m.restart(t, nil); err != nil {
		return 0, fmt.Errorf("restart the engine: %w", err)
	}
	if err := m.Settle(ctx); err != nil {
		return 0, err
	}
	return len(seqs), m.Store.Compact(ctx)
}

// EraseProfiles implements privacy.Env: the profile stage erases the
// profiles while everything keeps running (engine.Profiles.Erase).
// Erasures run one at a time.
func (m *Main) EraseProfiles(ctx context.Context, refs []string) (int, []string, error) {
	m.erasing.Lock()
	defer m.erasing.Unlock()
	t := m.current()
	if t == nil {
		return 0, nil, errNoStages
	}
	o, err := t.profiles.Erase(ctx, refs...)
	if err != nil {
		return 0, nil, err
	}
	m.Logger.Info("profiles erased", "profiles", len(o.Profiles), "seq", o.Seq, "events", o.Events,
		"absorbed", len(o.Absorbed), "rebuilt", len(o.Rebuilt), "deferred", len(o.Deferred))
	var profiles []string
	for _, id := range append(o.Profiles, o.Absorbed...) {
		profiles = append(profiles, id.String())
	}
	return o.Events, profiles, nil
}

// redact overwrites records of the event log with tombstones, for the
// profile stage's erasures; nil if the log cannot.
func (m *Main) redact() engine.RedactFunc {
	log, ok := m.Log.(redactor)
	if !ok {
		return nil
	}
	return func(seqs []uint64) (int, error) { return log.Redact(seqs, tombstone) }
}

// restart replaces the stopped term old with a new one on the same store
// (and lease), after an erasure or a failed one so the server keeps
// working; err is returned. If the lease was lost meanwhile, the new term
// is not started.
func (m *Main) restart(old *term, err error) error {
	t, serr := m.startTerm(old.st)
	if serr != nil {
		return errors.Join(err, serr)
	}
	if !m.term.CompareAndSwap(old, t) {
		t.close()
		return errors.Join(err, errNoStages)
	}
	return err
}

// tombstone replaces an erased record: an event of type "erased" with no
// identifier and no content, padded to the record's size with spaces
// after its JSON.
func tombstone(seq uint64, old []byte) []byte {
	for _, ev := range []mosaic.Event{
		{SourceID: "mosaic:erased", MessageID: "erased", Type: "erased"},
		{}, // for records too small for the names
	} {
		ev.Message = []byte(`{}`)
		b, _ := ev.MarshalBinary()
		if len(b) <= len(old) {
			for len(b) < len(old) {
				b = append(b, ' ')
			}
			return b
		}
	}
	return make([]byte, len(old)) // never: every event record is larger
}

// The readers privacy needs, on the current generation.

// Profile implements privacy.Env.
func (m *Main) Profile(ref string) (*engine.ProfileView, error) {
	t := m.current()
	if t == nil {
		return nil, errNoStages
	}
	return t.profiles.Profile(ref)
}

// Identity implements privacy.Env.
func (m *Main) Identity(ref string) (*engine.IdentityView, error) {
	t := m.current()
	if t == nil {
		return nil, errNoStages
	}
	return t.profiles.Identity(ref)
}

// Timeline implements privacy.Env.
func (m *Main) Timeline(ctx context.Context, ref string, before time.Time, beforeSeq uint64, limit int) ([]store.TimelineRow, error) {
	t := m.current()
	if t == nil {
		return nil, errNoStages
	}
	return t.profiles.Timeline(ctx, ref, before, beforeSeq, limit)
}

// TraitHistory implements privacy.Env.
func (m *Main) TraitHistory(ctx context.Context, profileID uint64, groupID, name string, limit int) ([]store.TraitRow, error) {
	return m.Store.TraitHistory(ctx, profileID, groupID, name, limit)
}

// Event implements privacy.Env.
func (m *Main) Event(seq uint64) (mosaic.Event, error) {
	t := m.current()
	if t == nil {
		return mosaic.Event{}, errNoStages
	}
	return t.engine.Event(seq)
}

// ConsentView implements privacy.Env.
func (m *Main) ConsentView(ctx context.Context, ref string, at time.Time) (*privacy.View, error) {
	t := m.current()
	if t == nil {
		return nil, errNoStages
	}
	return t.consent.View(ctx, ref, at)
}

// Granted is the consent gate on the current generation (see
// privacy.Service.Granted).
func (m *Main) Granted(ctx context.Context, profileID uint64, purposes []string) (bool, error) {
	t := m.current()
	if t == nil {
		return false, errNoStages
	}
	return t.consent.Granted(ctx, profileID, purposes)
}

// newRequests returns the data subject request service.
func (m *Main) newRequests(ctx context.Context, secret []byte, recipients privacy.Recipients) (*privacy.Requests, error) {
	r, err := privacy.NewRequests(m.Store, m, secret, privacy.RequestOptions{
		Log: m.Logger.With("part", "privacy"), Extract: identity.ExtractConfig{DefaultRegion: m.Config.DefaultRegion},
		ExportDir: filepath.Join(m.Config.Data, "exports"), Recipients: recipients, Audiences: m, AnonymousExpiry: m.anonymousExpiry(),
	})
	if err != nil {
		return nil, err
	}
	return r, r.LoadSuppressions(ctx)
}

// Expired implements privacy.Env. Records are appended in time order, so
// the scan stops at the first record received after the latest cutoff;
// erased records (tombstones) have no source and are skipped.
func (m *Main) Expired(ctx context.Context, cutoffs map[string]time.Time) ([]uint64, error) {
	var latest time.Time
	for _, c := range cutoffs {
		if c.After(latest) {
			latest = c
		}
	}
	var seqs []uint64
	errDone := errors.New("done")
	log, ok := m.Log.(redactor)
	if !ok {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "This event log cannot erase records, so retention by source cannot run.")
	}
	err := log.Scan(0, func(rec eventlog.Record) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ev mosaic.Event
		if ev.UnmarshalBinary(rec.Data) != nil {
			return nil
		}
		if !ev.ReceivedAt.Before(latest) {
			return errDone
		}
		if c, ok := cutoffs[ev.SourceID]; ok && ev.ReceivedAt.Before(c) {
			seqs = append(seqs, rec.Seq)
		}
		return nil
	})
	if errors.Is(err, errDone) {
		err = nil
	}
	return seqs, err
}

// InactiveAnonymous implements privacy.Env from the profile stage's
// memory: the latest event time of each profile, then the identifiers of
// those inactive since before.
func (m *Main) InactiveAnonymous(ctx context.Context, before time.Time, types []string) ([]uint64, error) {
	t := m.current()
	if t == nil {
		return nil, errNoStages
	}
	var idle []uint64
	t.profiles.ReadProfiles(t.profiles.ProfileIDs(), func(ps []*profile.Profile) {
		for _, p := range ps {
			if last := p.LastSeen(); !last.IsZero() && last.Before(before) {
				idle = append(idle, p.ID)
			}
		}
	})
	var out []uint64
	for _, id := range idle {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v, err := t.profiles.Identity(identity.ProfileID(id).String())
		if mosaic.ErrorCode(err) == mosaic.ENOTFOUND {
			continue // merged away meanwhile
		}
		if err != nil {
			return nil, err
		}
		anonymous := len(v.Identifiers) > 0
		for _, i := range v.Identifiers {
			anonymous = anonymous && slices.Contains(types, i.Type)
		}
		if anonymous && uint64(v.ID) == id {
			out = append(out, id)
		}
	}
	return out, nil
}

// anonymousExpiry is --anonymous-expiry, checked by Validate.
func (m *Main) anonymousExpiry() privacy.Expiry {
	e, _ := privacy.ParseExpiry(m.Config.AnonymousExpiry)
	return e
}

// AudienceHistoryJSON implements privacy.AudienceHistory on the current
// generation's audiences.
func (m *Main) AudienceHistoryJSON(ctx context.Context, profileIDs []uint64) ([]any, error) {
	t := m.current()
	if t == nil {
		return nil, errNoStages
	}
	type change struct {
		Profile    string          `json:"profile"`
		AudienceID string          `json:"audience_id"`
		Key        string          `json:"key,omitempty"`
		Name       string          `json:"name,omitempty"`
		Event      string          `json:"event"`
		At         time.Time       `json:"at"`
		Cause      json.RawMessage `json:"cause"`
	}
	var all []change
	for _, id := range profileIDs {
		var before time.Time
		var beforeID int64
		for {
			page, err := t.segments.ProfileChanges(ctx, id, before, beforeID, 500)
			if err != nil {
				return nil, err
			}
			for _, c := range page {
				all = append(all, change{Profile: identity.ProfileID(id).String(), AudienceID: c.AudienceID, Key: c.Key,
					Name: c.Name, Event: c.Event(), At: c.At, Cause: c.Cause})
			}
			if len(page) < 500 {
				break
			}
			before, beforeID = page[len(page)-1].At, page[len(page)-1].ID
		}
	}
	slices.SortStableFunc(all, func(a, b change) int { return a.At.Compare(b.At) })
	out := make([]any, len(all))
	for i := range all {
		out[i] = all[i]
	}
	return out, nil
}
