package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/store"
)

// Profiles is what consent needs from the profile stage.
type Profiles interface {
	Find(ref string) (identity.ProfileID, error)
	Identity(ref string) (*engine.IdentityView, error)
	WaitProcessed(ctx context.Context, seq uint64) error
}

// Appender appends records to the event log (eventlog.Log).
type Appender interface {
	Append(ctx context.Context, records [][]byte) (uint64, error)
}

// Service answers consent questions and takes consent set through the API.
type Service struct {
	obs      *Observer
	profiles Profiles
	log      Appender
	now      func() time.Time
}

// NewService returns the consent service over an observer the profile
// stage runs.
func NewService(obs *Observer, profiles Profiles, log Appender, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{obs: obs, profiles: profiles, log: log, now: now}
}

// Config returns the consent configuration.
func (s *Service) Config() *Config { return s.obs.config() }

// Granted reports whether the profile has consented to every purpose. It
// is the one consent gate: activation asks it before anything leaves, and
// the audience condition consent(...) reads it. A profile ID absorbed by
// a merge answers for the survivor. Unknown purposes are never granted;
// an unknown profile is an ENOTFOUND error (and not granted).
func (s *Service) Granted(ctx context.Context, profileID uint64, purposes []string) (bool, error) {
	if err := s.obs.wait(ctx); err != nil {
		return false, err
	}
	id, err := s.profiles.Find(identity.ProfileID(profileID).String())
	if err != nil {
		return false, err
	}
	s.obs.mu.RLock()
	defer s.obs.mu.RUnlock()
	return s.obs.states[uint64(id)].Granted(s.obs.config().purposes, purposes...), nil
}

// PurposeState is the consent to one purpose in a View.
type PurposeState struct {
	Granted bool `json:"granted"`
	// Default is true when no decision was ever recorded: Granted is the
	// purpose's default.
	Default  bool      `json:"default,omitempty"`
	Decision *Decision `json:"decision,omitempty"`
}

// View is a profile's consent as the API shows it.
type View struct {
	Profile  identity.ProfileID      `json:"profile"`
	At       *time.Time              `json:"at,omitempty"`
	Purposes map[string]PurposeState `json:"purposes"`
	History  []Decision              `json:"history"`
}

// View returns a profile's consent now (at zero) or at a past moment,
// with the history of decisions up to then, oldest first.
func (s *Service) View(ctx context.Context, ref string, at time.Time) (*View, error) {
	if err := s.obs.wait(ctx); err != nil {
		return nil, err
	}
	id, err := s.profiles.Find(ref)
	if err != nil {
		return nil, err
	}
	history, err := s.obs.history(ctx, uint64(id))
	if err != nil {
		return nil, err
	}
	state := Replay(history, at)
	if !at.IsZero() {
		i := slices.IndexFunc(history, func(d Decision) bool { return d.Time.After(at) })
		if i >= 0 {
			history = history[:i]
		}
	} else {
		s.obs.mu.RLock()
		state = maps(s.obs.states[uint64(id)])
		s.obs.mu.RUnlock()
	}
	v := &View{Profile: id, Purposes: map[string]PurposeState{}, History: history}
	if !at.IsZero() {
		v.At = &at
	}
	cfg := s.obs.config()
	for _, p := range cfg.purposes.list {
		ps := PurposeState{Granted: state.Granted(cfg.purposes, p.Name)}
		if d, ok := state[p.Name]; ok {
			ps.Decision = &d
		} else {
			ps.Default = true
		}
		v.Purposes[p.Name] = ps
	}
	return v, nil
}

func maps(s State) State {
	out := State{}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// history returns a profile's decisions: saved ones, those being saved
// and those not yet saved, with history of profiles merged into it whose
// move is not saved yet.
func (o *Observer) history(ctx context.Context, id uint64) ([]Decision, error) {
	o.mu.RLock()
	var merges []store.ProfileMerge
	var recent []store.ConsentRow
	for _, u := range append(slices.Clone(o.inflight), o.pending) {
		merges = append(merges, u.merges...)
		recent = append(recent, u.records...)
	}
	o.mu.RUnlock()
	ids := map[uint64]bool{id: true}
	for changed := true; changed; { // profiles that merged into id
		changed = false
		for _, m := range merges {
			if ids[m.Survivor] && !ids[m.Absorbed] {
				ids[m.Absorbed], changed = true, true
			}
		}
	}
	var rows []store.ConsentRow
	for pid := range ids {
		r, err := o.st.ConsentHistory(ctx, pid)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	for _, r := range recent {
		if ids[r.ProfileID] {
			rows = append(rows, r)
		}
	}
	out := []Decision{}
	seen := map[string]bool{} // a row being saved may be in the store already
	for _, r := range rows {
		if seen[string(r.Data)] {
			continue
		}
		seen[string(r.Data)] = true
		var d Decision
		if err := json.Unmarshal(r.Data, &d); err != nil {
			return nil, fmt.Errorf("privacy: consent record of profile %d at seq %d: %w", r.ProfileID, r.Seq, err)
		}
		out = append(out, d)
	}
	sortHistory(out)
	return out, nil
}

// SetRequest is a consent change through the API.
type SetRequest struct {
	Purposes      map[string]bool `json:"purposes"`
	PolicyVersion string          `json:"policy_version,omitempty"`
	// Source is api (default), cmp or import.
	Source string `json:"source,omitempty"`
}

// Set records a consent change for the profile ref names and returns the
// profile's consent once the change is in force. The change is appended
// to the event log as a record of InternalSource, carrying one of the
// profile's identifiers: the profile stage orders it among the person's
// events, it follows later merges, and a replay rebuilds it.
func (s *Service) Set(ctx context.Context, ref string, req SetRequest, actor string) (*View, error) {
	if err := s.checkSet(&req); err != nil {
		return nil, err
	}
	idv, err := s.profiles.Identity(ref)
	if err != nil {
		return nil, err
	}
	ident, ok := pickIdentifier(idv.Identifiers)
	if !ok {
		return nil, mosaic.Errorf(mosaic.EINVALID, "Profile %s has no identifier to record consent against.", idv.ID)
	}
	now, msgID := s.now().UTC(), uuid.NewString()
	msg, err := json.Marshal(map[string]any{
		"type": mosaic.TypeTrack, "messageId": msgID, "event": ConsentEvent,
		"context":       map[string]any{"externalIds": []map[string]string{{"id": ident.Value, "type": ident.Type, "collection": "users", "encoding": "none"}}},
		"mosaicConsent": APIRecord{Purposes: req.Purposes, Source: req.Source, PolicyVersion: req.PolicyVersion, Actor: actor},
		"timestamp":     now, "receivedAt": now,
	})
	if err != nil {
		return nil, err
	}
	ev := mosaic.Event{SourceID: InternalSource, MessageID: msgID, Type: mosaic.TypeTrack, ReceivedAt: now, Message: msg}
	rec, _ := ev.MarshalBinary()
	seq, err := s.log.Append(ctx, [][]byte{rec})
	if err != nil {
		return nil, fmt.Errorf("privacy: append consent record: %w", err)
	}
	if err := s.profiles.WaitProcessed(ctx, seq); err != nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "The consent change is recorded (log position %d) but not yet in force; read it again shortly.", seq)
	}
	return s.View(ctx, ref, time.Time{})
}

func (s *Service) checkSet(req *SetRequest) error {
	if len(req.Purposes) == 0 {
		return mosaic.Errorf(mosaic.EINVALID, `Give at least one purpose, e.g. {"purposes": {"marketing": true}}.`)
	}
	for p := range req.Purposes {
		if ps := s.obs.config().purposes; !ps.Has(p) {
			return mosaic.Errorf(mosaic.EINVALID, "Purpose %q is not configured; purposes are %s (GET /api/v1/privacy/purposes).", p, ps.names())
		}
	}
	switch req.Source {
	case "":
		req.Source = SourceAPI
	case SourceAPI, SourceCMP, SourceImport:
	default:
		return mosaic.Errorf(mosaic.EINVALID, "Source %q is not one of api, cmp, import.", req.Source)
	}
	if len(req.PolicyVersion) > 100 {
		return mosaic.Errorf(mosaic.EINVALID, "policy_version is over 100 characters.")
	}
	return nil
}

// pickIdentifier chooses the identifier an API record carries: the most
// stable kind first, so the record reaches the same person after merges.
func pickIdentifier(ids []identity.IdentifierInfo) (identity.Identifier, bool) {
	for _, t := range []string{identity.TypeUserID, identity.TypeEmail, identity.TypePhone} {
		for _, i := range ids {
			if i.Type == t {
				return i.Identifier, true
			}
		}
	}
	for _, i := range ids {
		if i.Type != identity.TypePreviousID {
			return i.Identifier, true
		}
	}
	return identity.Identifier{}, false
}
