package privacy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/store"
)

// Request types and statuses.
const (
	RequestAccess     = "access"
	RequestErase      = "erase"
	RequestSuppress   = "suppress"
	RequestUnsuppress = "unsuppress"

	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"

	LawGDPR = "gdpr" // answer within one month, extendable by two
	LawCCPA = "ccpa" // answer within 45 days
)

// Env is what requests need from the running system: the person's data as
// the API shows it, and erasure of their events with the rebuild of all
// derived state.
type Env interface {
	Profile(ref string) (*engine.ProfileView, error)
	Identity(ref string) (*engine.IdentityView, error)
	Timeline(ctx context.Context, ref string, before time.Time, beforeSeq uint64, limit int) ([]store.TimelineRow, error)
	TraitHistory(ctx context.Context, profileID uint64, groupID, name string, limit int) ([]store.TraitRow, error)
	Event(seq uint64) (mosaic.Event, error)
	ConsentView(ctx context.Context, ref string, at time.Time) (*View, error)
	// Expired returns the log positions of events of the sources in
	// cutoffs received before the source's cutoff.
	Expired(ctx context.Context, cutoffs map[string]time.Time) ([]uint64, error)
	// Settle waits until every durable event is processed and the derived
	// state saved, so reads of saved state are complete.
	Settle(ctx context.Context) error
	// EraseEvents stops processing, calls find for the records to erase
	// (with all state saved, so the answer is complete), removes them from
	// the event log and rebuilds the derived state without them, then
	// compacts the store's files. It returns how many records it erased.
	EraseEvents(ctx context.Context, find func(context.Context) ([]uint64, error)) (int, error)
	// EraseProfiles erases profiles while processing goes on
	// (engine.Profiles.Erase): their events are redacted in the log,
	// their identifiers forgotten and every stored row derived from them
	// deleted; nothing else is rebuilt. It returns how many records it
	// redacted and the IDs of the profiles erased (those named and those
	// merged into them). The store's files are not compacted yet.
	EraseProfiles(ctx context.Context, refs []string) (events int, profiles []string, err error)
	// InactiveAnonymous returns the profiles whose identifiers are all
	// of types and whose latest event time lies before before.
	InactiveAnonymous(ctx context.Context, before time.Time, types []string) ([]uint64, error)
}

// RequestStore is what requests need from the store: the requests and
// suppressions, and the deletion notices erasures made.
type RequestStore interface {
	store.PrivacyStore
	DeletionNotices(ctx context.Context, requestID string) ([]store.DeletionNotice, error)
}

// RequestOptions configures Requests.
type RequestOptions struct {
	Log       *slog.Logger
	Now       func() time.Time
	Extract   identity.ExtractConfig
	ExportDir string // where access exports are written
	// Recipients, if set, tells the destinations that had been sent an
	// erased person's data to delete it (package activate's Deletions).
	Recipients Recipients
	// Audiences, if set, gives the audience entries and exits of a person
	// for the access export.
	Audiences AudienceHistory
	// AnonymousExpiry is how long an anonymous profile may be inactive
	// before it expires (see ExpireAnonymous); zero: never.
	AnonymousExpiry Expiry
}

// Recipients is what erasure needs from activation: Erase finds the
// outbox messages about a person (profile key one of keys, or a payload
// holding one of ids), removes them, and queues a deletion message for
// each destination that had been sent any; it returns one notice per such
// destination, recording hash's keyed hashes instead of the identifiers.
// It is called while processing is stopped, and again for the same
// request after a crash without adding notices twice.
type Recipients interface {
	Erase(ctx context.Context, requestID string, keys []string, ids []identity.Identifier, hash func(identity.Identifier) string) ([]store.DeletionNotice, error)
	// SentJSON returns, as JSON values, what the outbox holds about the
	// person, for an access export.
	SentJSON(ctx context.Context, keys []string, ids []identity.Identifier) ([]any, error)
}

// AudienceHistory is what an access export needs from the audiences:
// AudienceHistoryJSON returns, as JSON values oldest first, the entries and
// exits recorded for the given profiles (a person's, and those merged into
// it, whose history stays under their own IDs).
type AudienceHistory interface {
	AudienceHistoryJSON(ctx context.Context, profileIDs []uint64) ([]any, error)
}

// Requests takes data subject requests and carries them out in order, one
// at a time, in the background. It also answers, for collect, whether an
// event carries a suppressed identifier.
type Requests struct {
	st     RequestStore
	env    Env
	secret []byte
	opts   RequestOptions
	wake   chan struct{}

	xmu sync.Mutex
	x   *identity.Extractor // guarded by xmu; also its scratch space

	suppressed atomic.Pointer[map[string]bool]
}

// NewRequests returns the request service; Run carries requests out.
func NewRequests(st RequestStore, env Env, secret []byte, opts RequestOptions) (*Requests, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	x, err := identity.NewExtractor(opts.Extract)
	if err != nil {
		return nil, err
	}
	r := &Requests{st: st, env: env, secret: secret, opts: opts, wake: make(chan struct{}, 1), x: x}
	r.suppressed.Store(&map[string]bool{})
	return r, nil
}

// LoadSuppressions reads the suppression list into memory.
func (r *Requests) LoadSuppressions(ctx context.Context) error {
	list, err := r.st.Suppressions(ctx)
	if err != nil {
		return fmt.Errorf("privacy: load the suppression list: %w", err)
	}
	m := make(map[string]bool, len(list))
	for _, h := range list {
		m[h] = true
	}
	r.suppressed.Store(&m)
	return nil
}

// hash is the keyed hash of a normalised identifier: what the suppression
// list and request records keep instead of the identifier.
func (r *Requests) hash(id identity.Identifier) string {
	m := hmac.New(sha256.New, r.secret)
	m.Write([]byte(id.Type + ":" + id.Value))
	return hex.EncodeToString(m.Sum(nil))
}

// Suppressed reports whether ev carries an identifier on the suppression
// list. With an empty list it costs one pointer load.
func (r *Requests) Suppressed(ev *mosaic.Event) bool {
	list := *r.suppressed.Load()
	if len(list) == 0 {
		return false
	}
	r.xmu.Lock()
	ids, _, err := r.x.Extract(ev)
	hit := false
	for _, id := range ids {
		if err == nil && list[r.hash(id)] {
			hit = true
			break
		}
	}
	r.xmu.Unlock()
	return hit
}

// RequestInput is a new request as the API takes it.
type RequestInput struct {
	Type       string              `json:"type"`
	Identifier identity.Identifier `json:"identifier"`
	Law        string              `json:"law,omitempty"`
	// Suppress, for erase, says whether the identifiers are also put on
	// the suppression list (default true).
	Suppress *bool `json:"suppress,omitempty"`
}

// Create validates and stores a request and wakes the worker.
func (r *Requests) Create(ctx context.Context, in RequestInput, actor string) (*store.PrivacyRequest, error) {
	switch in.Type {
	case RequestAccess, RequestErase, RequestSuppress, RequestUnsuppress:
	default:
		return nil, mosaic.Errorf(mosaic.EINVALID, "Request type %q is not one of access, erase, suppress, unsuppress.", in.Type)
	}
	if in.Law == "" {
		in.Law = LawGDPR
	}
	if in.Law != LawGDPR && in.Law != LawCCPA {
		return nil, mosaic.Errorf(mosaic.EINVALID, "Law %q is not gdpr or ccpa.", in.Law)
	}
	id, err := r.normalize(in.Identifier)
	if err != nil {
		return nil, err
	}
	now := r.opts.Now().UTC().Truncate(time.Microsecond)
	due := now.AddDate(0, 1, 0)
	if in.Law == LawCCPA {
		due = now.AddDate(0, 0, 45)
	}
	outcome, _ := json.Marshal(map[string]any{"suppress": in.Type != RequestErase || in.Suppress == nil || *in.Suppress})
	req := &store.PrivacyRequest{ID: uuid.Must(uuid.NewV7()).String(), Type: in.Type, IdentifierType: id.Type, Identifier: id.Value,
		IdentifierHash: r.hash(id), Law: in.Law, Status: StatusPending, Actor: actor, ReceivedAt: now, DueAt: due, Outcome: outcome}
	if err := r.st.CreatePrivacyRequest(ctx, req); err != nil {
		return nil, err
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return req, nil
}

func (r *Requests) normalize(id identity.Identifier) (identity.Identifier, error) {
	if id.Type == "" || id.Value == "" {
		return id, mosaic.Errorf(mosaic.EINVALID, `Give the person's identifier: {"identifier": {"type": "email", "value": "jane@example.com"}}.`)
	}
	r.xmu.Lock()
	defer r.xmu.Unlock()
	norm, err := r.x.Normalize(id)
	if err != nil {
		return id, mosaic.Errorf(mosaic.EINVALID, "%q is not a valid %s identifier: %v.", id.Value, id.Type, err)
	}
	return norm, nil
}

// Run carries out open requests, oldest first, until ctx ends: those left
// open by a restart first, then each new one as it comes.
func (r *Requests) Run(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	lastPurge := time.Time{}
	for {
		if now := r.opts.Now(); now.Sub(lastPurge) >= time.Hour {
			if _, err := r.PurgeExpired(ctx, now); err != nil && ctx.Err() == nil {
				r.opts.Log.Error("retention: purge failed; retrying in an hour", "err", err)
			}
			// EUNAVAILABLE: the stages run on another node, which expires.
			if _, _, err := r.ExpireAnonymous(ctx, now); err != nil && ctx.Err() == nil && mosaic.ErrorCode(err) != mosaic.EUNAVAILABLE {
				r.opts.Log.Error("anonymous profile expiry failed; retrying in an hour", "err", err)
			}
			lastPurge = now
		}
		open, err := r.st.PrivacyRequests(ctx, true)
		if err != nil && ctx.Err() == nil {
			r.opts.Log.Error("privacy requests: cannot list open requests", "err", err)
		}
		for _, req := range open {
			if ctx.Err() != nil {
				return
			}
			r.process(ctx, req)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-tick.C:
		}
	}
}

// process carries out one request and records its outcome. The identifier
// in clear is cleared from the record when the request closes.
func (r *Requests) process(ctx context.Context, req *store.PrivacyRequest) {
	now := r.opts.Now().UTC()
	req.Status, req.StartedAt = StatusRunning, &now
	if err := r.st.UpdatePrivacyRequest(ctx, req); err != nil {
		r.opts.Log.Error("privacy request: cannot mark running", "id", req.ID, "err", err)
		return
	}
	var prior map[string]any
	_ = json.Unmarshal(req.Outcome, &prior)
	id := identity.Identifier{Type: req.IdentifierType, Value: req.Identifier}
	var outcome map[string]any
	var err error
	switch req.Type {
	case RequestAccess:
		outcome, err = r.access(ctx, req, id)
	case RequestErase:
		outcome, err = r.erase(ctx, req, id, prior["suppress"] != false)
	case RequestSuppress:
		outcome, err = r.suppress(ctx, id)
	case RequestUnsuppress:
		outcome, err = r.unsuppress(ctx, req, id)
	}
	r.finish(ctx, req, outcome, err)
}

func (r *Requests) finish(ctx context.Context, req *store.PrivacyRequest, outcome map[string]any, err error) {
	if outcome == nil {
		outcome = map[string]any{}
	}
	req.Outcome, _ = json.Marshal(outcome)
	req.Identifier = "" // only the keyed hash stays
	done := r.opts.Now().UTC()
	req.CompletedAt = &done
	req.Status = StatusCompleted
	if err != nil {
		req.Status, req.Error = StatusFailed, mosaic.ErrorMessage(err)
		r.opts.Log.Error("privacy request failed", "id", req.ID, "type", req.Type, "err", err)
	}
	if err := r.st.UpdatePrivacyRequest(context.WithoutCancel(ctx), req); err != nil {
		r.opts.Log.Error("privacy request: cannot record the outcome", "id", req.ID, "err", err)
	}
}

// person finds the profile of an identifier; nil, nil if there is none.
func (r *Requests) person(id identity.Identifier) (*engine.IdentityView, error) {
	v, err := r.env.Identity(id.String())
	if mosaic.ErrorCode(err) == mosaic.ENOTFOUND {
		return nil, nil
	}
	return v, err
}

// identifierHashes are the keyed hashes of the identifier and of every
// identifier of the person's profile.
func (r *Requests) identifierHashes(id identity.Identifier, v *engine.IdentityView) []string {
	hashes := []string{r.hash(id)}
	if v != nil {
		for _, i := range v.Identifiers {
			if h := r.hash(i.Identifier); h != hashes[0] {
				hashes = append(hashes, h)
			}
		}
	}
	return hashes
}

func (r *Requests) suppress(ctx context.Context, id identity.Identifier) (map[string]any, error) {
	v, err := r.person(id)
	if err != nil {
		return nil, err
	}
	hashes := r.identifierHashes(id, v)
	if err := r.st.Suppress(ctx, hashes, "suppress", r.opts.Now()); err != nil {
		return nil, err
	}
	return map[string]any{"suppressed": hashes}, r.LoadSuppressions(ctx)
}

// unsuppress lifts the suppression of the identifier and of every hash
// that earlier requests about it suppressed.
func (r *Requests) unsuppress(ctx context.Context, req *store.PrivacyRequest, id identity.Identifier) (map[string]any, error) {
	hashes := []string{r.hash(id)}
	all, err := r.st.PrivacyRequests(ctx, false)
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if p.IdentifierHash != req.IdentifierHash || p.ID == req.ID {
			continue
		}
		var o struct {
			Suppressed []string `json:"suppressed"`
		}
		if json.Unmarshal(p.Outcome, &o) == nil {
			hashes = append(hashes, o.Suppressed...)
		}
	}
	n, err := r.st.Unsuppress(ctx, hashes)
	if err != nil {
		return nil, err
	}
	return map[string]any{"unsuppressed": n}, r.LoadSuppressions(ctx)
}

// exportPaths are the files of a request's access export.
func (r *Requests) exportPaths(id string) (jsonPath, csvPath string) {
	return filepath.Join(r.opts.ExportDir, id+".json"), filepath.Join(r.opts.ExportDir, id+".csv")
}

// Export returns the path of a completed access request's export in the
// format (json or csv).
func (r *Requests) Export(ctx context.Context, id, format string) (string, error) {
	req, err := r.st.PrivacyRequest(ctx, id)
	if err != nil {
		return "", err
	}
	if req.Type != RequestAccess || req.Status != StatusCompleted {
		return "", mosaic.Errorf(mosaic.ENOTFOUND, "Request %s has no export: only completed access requests do (this one is a %s request, %s).", id, req.Type, req.Status)
	}
	j, c := r.exportPaths(id)
	path := j
	if format == "csv" {
		path = c
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", mosaic.Errorf(mosaic.ENOTFOUND, "The export of request %s is gone: the person was erased since, or it was found no data.", id)
	}
	return path, nil
}

// Get returns a request.
func (r *Requests) Get(ctx context.Context, id string) (*store.PrivacyRequest, error) {
	req, err := r.st.PrivacyRequest(ctx, id)
	if err != nil {
		return nil, err
	}
	return r.withNotices(ctx, req)
}

// List returns every request, oldest first.
func (r *Requests) List(ctx context.Context) ([]*store.PrivacyRequest, error) {
	all, err := r.st.PrivacyRequests(ctx, false)
	for i := range all {
		if err != nil {
			break
		}
		all[i], err = r.withNotices(ctx, all[i])
	}
	return all, err
}
