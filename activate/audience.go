package activate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/store"
)

// AudienceStore is what audience delivery keeps and reads: the outbox
// with its cursor, and the segment engine's ordered change list.
type AudienceStore interface {
	store.OutboxStore
	AudienceChanges(ctx context.Context, audienceID string, afterID int64, limit int) ([]store.AudienceChange, error)
}

// Directory answers what audience messages say about audiences and
// profiles (the segment engine and the profile stage, wired by the server).
type Directory interface {
	// Audience returns the audience an ID or key names; false if none.
	Audience(ref string) (AudienceInfo, bool)
	// Members returns an audience's current members with a profile ID
	// above after, in ID order, at most limit.
	Members(audienceID string, after uint64, limit int) ([]Member, error)
	// Profile returns a profile's identifiers and traits; false if none.
	Profile(id uint64) (ProfileInfo, bool)
}

// AudienceInfo names an audience.
type AudienceInfo struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name,omitempty"`
}

// Member is a profile in an audience since a moment: the At of the
// change that made it enter.
type Member struct {
	ProfileID uint64
	Since     time.Time
}

// ProfileInfo is what an audience message carries of a profile.
type ProfileInfo struct {
	Identifiers map[string][]string // type → values
	Traits      map[string]any
}

// AudienceOptions configures audience delivery.
type AudienceOptions struct {
	Log *slog.Logger
	Now func() time.Time
	// Poll is how often the change list is read when idle (default 50ms):
	// a query on its primary key, cheap, and it bounds the delay between
	// a membership change being saved and its messages being queued when
	// no one calls Notify. Once whatever saves audience changes calls
	// Notify after each commit, Poll is only a safety net and can be long.
	Poll time.Duration
	// GapWait is how long a missing change ID is waited for before it is
	// skipped (default 2s). Two checkpoints of the segment engine can
	// commit out of order, so a change may appear after a higher one; a
	// deleted audience's changes leave gaps that never fill.
	GapWait time.Duration
	// Page is how many changes are read and enqueued per transaction
	// (default 1000).
	Page int
	// Processed returns the log position the memberships reflect (the
	// profile stage's); a snapshot waits, at most ConsentWait (default
	// 10s), until the event forwarder passed it, so the consent those
	// events carried is known when its messages are sent. Nil: no wait.
	Processed   func() uint64
	ConsentWait time.Duration
}

// AudienceDelivery follows the audience change list and enqueues an
// audience.entered or audience.exited message for every destination
// subscribed to the audience. Its cursor is saved in the transaction that
// enqueues, so each change is enqueued exactly once across crashes. It
// also sends snapshots: every current member of an audience, on connect
// and on demand.
type AudienceDelivery struct {
	st    AudienceStore
	dir   Directory
	svc   *Service
	opts  AudienceOptions
	dests atomic.Pointer[[]*Destination]
	stale atomic.Bool

	wake    chan struct{} // Notify: changes were saved
	mu      sync.Mutex
	missing map[int64]time.Time // change IDs not seen yet, with when the gap was seen
}

// Notify tells audience delivery that audience changes were saved, so it
// reads them now rather than at its next poll. The segment engine's saver
// calls it after each commit (through Service.AudienceChangesSaved where
// only the Service is at hand). It never blocks; calls while a read is
// pending coalesce into one.
func (a *AudienceDelivery) Notify() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// AudienceChangesSaved tells the service's audience delivery, if any, that
// audience changes were saved (see AudienceDelivery.Notify).
func (s *Service) AudienceChangesSaved() {
	if a := s.audiences(); a != nil {
		a.Notify()
	}
}

// idle waits for a notification or the poll interval.
func (a *AudienceDelivery) idle(ctx context.Context) {
	t := time.NewTimer(a.opts.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-a.wake:
	}
}

// NewAudienceDelivery returns audience delivery for svc's destinations and
// attaches it to svc, which then checks audience subscriptions and sends a
// snapshot when a destination subscribes to an audience.
func NewAudienceDelivery(st AudienceStore, dir Directory, svc *Service, opts AudienceOptions) *AudienceDelivery {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Poll <= 0 {
		opts.Poll = 50 * time.Millisecond
	}
	if opts.GapWait <= 0 {
		opts.GapWait = 2 * time.Second
	}
	if opts.Page <= 0 {
		opts.Page = 1000
	}
	if opts.ConsentWait <= 0 {
		opts.ConsentWait = 10 * time.Second
	}
	a := &AudienceDelivery{st: st, dir: dir, svc: svc, opts: opts, missing: map[int64]time.Time{}, wake: make(chan struct{}, 1)}
	a.stale.Store(true)
	svc.OnChange(func() { a.stale.Store(true) })
	svc.mu.Lock()
	svc.aud = a
	svc.mu.Unlock()
	return a
}

// Run follows the change list until ctx ends.
func (a *AudienceDelivery) Run(ctx context.Context) error {
	cursor, err := a.st.AudienceCursor(ctx)
	for err != nil && ctx.Err() == nil {
		a.opts.Log.Error("cannot load the audience delivery cursor; retrying", "err", err)
		sleepCtx(ctx, time.Second)
		cursor, err = a.st.AudienceCursor(ctx)
	}
	for ctx.Err() == nil {
		next, err := a.page(ctx, cursor)
		if err != nil && ctx.Err() == nil {
			a.opts.Log.Error("audience delivery failed; retrying", "after", cursor, "err", err)
			sleepCtx(ctx, time.Second)
			continue
		}
		if next == cursor {
			a.idle(ctx)
		}
		cursor = next
	}
	return nil
}

// destinations returns the destinations, reloaded after a change.
func (a *AudienceDelivery) destinations(ctx context.Context) ([]*Destination, error) {
	if a.stale.Swap(false) {
		ds, err := a.svc.Destinations(ctx)
		if err != nil {
			a.stale.Store(true)
			return nil, err
		}
		a.dests.Store(&ds)
	}
	return *a.dests.Load(), nil
}

// page enqueues the messages of the changes after cursor and returns the
// new cursor.
func (a *AudienceDelivery) page(ctx context.Context, cursor int64) (int64, error) {
	dests, err := a.destinations(ctx)
	if err != nil {
		return cursor, err
	}
	if !subscribed(dests) {
		next, fresh, err := a.pass(ctx, cursor)
		if err != nil || fresh == nil {
			return next, err
		}
		dests = fresh // a subscription came since: read the changes for it
	}
	changes, err := a.st.AudienceChanges(ctx, "", cursor, a.opts.Page)
	if err != nil || len(changes) == 0 {
		return cursor, err
	}
	changes = a.contiguous(cursor, changes)
	if changes, err = a.consentKnown(ctx, changes); err != nil || len(changes) == 0 {
		return cursor, err
	}
	var msgs []store.OutboxMessage
	infos := map[string]AudienceInfo{}
	for i := range changes {
		msgs = a.appendChange(msgs, dests, &changes[i], infos)
	}
	next := changes[len(changes)-1].ID
	if err := a.st.SaveAudienceDelivery(ctx, next, msgs); err != nil {
		return cursor, err
	}
	if len(msgs) > 0 {
		a.svc.Wake()
	}
	return next, nil
}

// subscribed reports whether any of dests subscribes to an audience.
func subscribed(dests []*Destination) bool {
	return slices.ContainsFunc(dests, func(d *Destination) bool { return len(d.Audiences) > 0 })
}

// pass moves the cursor past every saved change without reading them
// while no destination subscribes to an audience, and returns it: there is
// nothing to enqueue, and reading the changes (a million rows, each
// decoded) took 4 % of the server's CPU while it caught up with 50
// audiences and no destination. If the store's destinations show a
// subscription after all, it returns them, and the cursor as it was.
//
// The end is read before the destinations are read again from the store.
// A destination not among them subscribes later, and the snapshot it is
// sent on connect is taken after that: it carries what the changes passed
// over did, those below the end whose saves commit late (see GapWait)
// included, and its horizon (see horizons) keeps them from being sent
// again.
func (a *AudienceDelivery) pass(ctx context.Context, cursor int64) (next int64, fresh []*Destination, err error) {
	end, err := a.st.AudienceChangesEnd(ctx)
	if err != nil || end <= cursor {
		return cursor, nil, err
	}
	if fresh, err = a.svc.Destinations(ctx); err != nil {
		return cursor, nil, err
	}
	if subscribed(fresh) {
		a.dests.Store(&fresh)
		return cursor, fresh, nil
	}
	if err := a.st.SaveAudienceDelivery(ctx, end, nil); err != nil {
		return cursor, nil, err
	}
	a.mu.Lock()
	for id := range a.missing {
		if id <= end {
			delete(a.missing, id)
		}
	}
	a.mu.Unlock()
	return end, nil, nil
}

// contiguous returns the leading changes that leave no gap after cursor,
// counting a gap as filled once it was waited for GapWait.
func (a *AudienceDelivery) contiguous(cursor int64, changes []store.AudienceChange) []store.AudienceChange {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	want := cursor + 1
	for i, ch := range changes {
		for id := want; id < ch.ID; id++ {
			seen, ok := a.missing[id]
			if !ok {
				a.missing[id] = now
				seen = now
			}
			if now.Sub(seen) < a.opts.GapWait {
				return changes[:i]
			}
		}
		want = ch.ID + 1
	}
	for id := range a.missing {
		if id < want {
			delete(a.missing, id)
		}
	}
	return changes
}

// consentKnown returns the leading changes whose causing event the event
// forwarder has passed: it saves the consent signals events carry, which
// the gate reads at send time, so a profile that entered an audience with
// the event that granted consent is not blocked for lack of it.
func (a *AudienceDelivery) consentKnown(ctx context.Context, changes []store.AudienceChange) ([]store.AudienceChange, error) {
	fwd, err := a.st.ForwardCursor(ctx)
	if err != nil {
		return nil, err
	}
	for i, ch := range changes {
		if ch.Seq > fwd {
			return changes[:i], nil
		}
	}
	return changes, nil
}

// receives reports whether d receives a change of an audience: it
// subscribes to the audience, and the snapshot it got on connect did not
// cover the change already.
func (d *Destination) receives(aud AudienceInfo, changeID int64) bool {
	for _, ref := range d.Audiences {
		if ref == aud.ID || aud.Key != "" && ref == aud.Key {
			return changeID > d.Horizons[ref]
		}
	}
	return false
}

// appendChange appends a change's messages for the destinations subscribed
// to its audience.
func (a *AudienceDelivery) appendChange(msgs []store.OutboxMessage, dests []*Destination, ch *store.AudienceChange, infos map[string]AudienceInfo) []store.OutboxMessage {
	info, ok := infos[ch.AudienceID]
	if !ok {
		if info, ok = a.dir.Audience(ch.AudienceID); !ok {
			info = AudienceInfo{ID: ch.AudienceID}
		}
		infos[ch.AudienceID] = info
	}
	var pinfo *ProfileInfo
	for _, d := range dests {
		if !d.receives(info, ch.ID) {
			continue
		}
		if pinfo == nil {
			p, _ := a.dir.Profile(ch.ProfileID)
			pinfo = &p
		}
		typ := "audience.exited"
		if ch.Entered {
			typ = "audience.entered"
		}
		data := audienceData(info, ch.ProfileID, *pinfo, d.Mapping)
		data["change_id"] = ch.ID
		if json.Valid([]byte(ch.Cause)) {
			data["cause"] = json.RawMessage(ch.Cause)
		}
		payload, err := json.Marshal(map[string]any{"type": typ, "timestamp": ch.At.UTC().Format(time.RFC3339Nano), "data": data})
		if err != nil {
			a.opts.Log.Warn("audience change not delivered", "change", ch.ID, "destination", d.ID, "err", err)
			continue
		}
		msgs = append(msgs, store.OutboxMessage{ID: changeMessageID(d, info, ch.ProfileID, ch.Entered, ch.At), DestinationID: d.ID,
			ProfileKey: ProfileKey(ch.ProfileID), Type: typ, Payload: payload, CreatedAt: a.opts.Now()})
	}
	return msgs
}

// ProfileKey is the outbox ordering and consent key of a resolved profile:
// its ID as the API shows it ("p" and 16 hex digits), the key the event
// forwarder saves consent signals under.
func ProfileKey(id uint64) string { return identity.ProfileID(id).String() }

// changeMessageID derives a change's message ID from what the change is,
// not from its number in the list: a replay of the log, which numbers the
// changes again, gives a change that happened the same way the same ID, so
// it is not enqueued twice. The snapshot on connect gives a member the ID
// of the change that made it enter, so when that change is saved after the
// snapshot read it, the follower's message for it is the same message and
// not sent twice. The horizon tells a re-subscription from the first.
func changeMessageID(d *Destination, aud AudienceInfo, profile uint64, entered bool, at time.Time) string {
	horizon := d.Horizons[aud.ID]
	if aud.Key != "" && slices.Contains(d.Audiences, aud.Key) {
		horizon = d.Horizons[aud.Key]
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s\naudience\n%s\n%d\n%t\n%d\n%d", d.ID, aud.ID, profile, entered, at.UnixMicro(), horizon))
	return "msg_" + hex.EncodeToString(h[:12])
}

// audienceData is the data of an audience message: the audience and the
// profile, with the destination's mapping applied to traits and
// identifiers.
func audienceData(info AudienceInfo, id uint64, p ProfileInfo, mp Mapping) map[string]any {
	prof := map[string]any{"id": ProfileKey(id)}
	traits := pick(p.Traits, mp.Traits)
	idents := map[string]any{}
	for typ, vs := range p.Identifiers {
		if slices.Contains(mp.Hash, typ) {
			continue
		}
		idents[typ] = vs
	}
	hashed := hashFields(mp.Hash, traits)
	for _, typ := range mp.Hash {
		if vs := p.Identifiers[typ]; len(vs) > 0 {
			if _, done := hashed[typ+"_sha256"]; !done {
				hashed[typ+"_sha256"] = HashIdentifier(typ, vs[0])
			}
		}
	}
	if len(idents) > 0 {
		prof["identifiers"] = idents
	}
	if vs := p.Identifiers["user_id"]; len(vs) > 0 {
		prof["user_id"] = vs[0]
	}
	if traits != nil {
		prof["traits"] = traits
	}
	if len(hashed) > 0 {
		prof["hashed"] = hashed
	}
	return map[string]any{"audience": info, "profile": prof}
}

// SnapshotResult is what a snapshot queued.
type SnapshotResult struct {
	ID        string         `json:"snapshot_id"`
	Messages  int            `json:"messages"`
	Audiences map[string]int `json:"audiences"` // audience ID → members sent
}

// snapshotPage is how many members a snapshot enqueues per transaction.
const snapshotPage = 1000

// Snapshot enqueues an audience.entered message with a "snapshot" field
// for every current member of the audiences (refs) d subscribes to, in
// transactions of 1000. The consent gate applies at send time as for any
// message. Changes after the snapshot follow it in the outbox, so a
// receiver that applies messages in order ends with the right members.
func (a *AudienceDelivery) Snapshot(ctx context.Context, d *Destination, refs []string) (*SnapshotResult, error) {
	return a.snapshot(ctx, d, refs, false)
}

// snapshot sends a snapshot; on connect, its messages have the IDs of the
// entries they stand for (see changeMessageID).
func (a *AudienceDelivery) snapshot(ctx context.Context, d *Destination, refs []string, connect bool) (*SnapshotResult, error) {
	if err := a.awaitForwarder(ctx); err != nil {
		return nil, err
	}
	res := &SnapshotResult{ID: "snap_" + uuid.NewString()[:13], Audiences: map[string]int{}}
	at := a.opts.Now().UTC()
	for _, ref := range refs {
		info, ok := a.dir.Audience(ref)
		if !ok {
			return res, mosaic.Errorf(mosaic.ENOTFOUND, "No audience %q.", ref)
		}
		n, err := a.snapshotAudience(ctx, d, info, res.ID, at, connect)
		res.Audiences[info.ID] = n
		res.Messages += n
		if err != nil {
			return res, err
		}
	}
	a.opts.Log.Info("audience snapshot queued", "destination", d.ID, "snapshot", res.ID, "messages", res.Messages)
	a.svc.Wake()
	return res, nil
}

// awaitForwarder waits until the event forwarder has passed what the
// memberships reflect, or ConsentWait passed (then the snapshot goes, and
// a profile whose consent is not known yet is blocked: replayable).
func (a *AudienceDelivery) awaitForwarder(ctx context.Context) error {
	if a.opts.Processed == nil {
		return nil
	}
	target := a.opts.Processed()
	for deadline := time.Now().Add(a.opts.ConsentWait); time.Now().Before(deadline); {
		fwd, err := a.st.ForwardCursor(ctx)
		if err != nil {
			return err
		}
		if fwd >= target {
			return nil
		}
		sleepCtx(ctx, 10*time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	a.opts.Log.Warn("snapshot sent before the event forwarder caught up; consent of the newest events may be unknown")
	return nil
}

func (a *AudienceDelivery) snapshotAudience(ctx context.Context, d *Destination, info AudienceInfo, snapID string, at time.Time, connect bool) (int, error) {
	n := 0
	for after := uint64(0); ; {
		members, err := a.dir.Members(info.ID, after, snapshotPage)
		if err != nil || len(members) == 0 {
			return n, err
		}
		msgs := make([]store.OutboxMessage, 0, len(members))
		for _, mb := range members {
			id := mb.ProfileID
			p, _ := a.dir.Profile(id)
			data := audienceData(info, id, p, d.Mapping)
			data["snapshot"] = map[string]any{"id": snapID, "at": at}
			payload, err := json.Marshal(map[string]any{"type": "audience.entered", "timestamp": at.Format(time.RFC3339Nano), "data": data})
			if err != nil {
				return n, err
			}
			h := sha256.Sum256([]byte(d.ID + "\n" + snapID + "\n" + info.ID + "\n" + strconv.FormatUint(id, 10)))
			msgID := "msg_" + hex.EncodeToString(h[:12])
			if connect {
				msgID = changeMessageID(d, info, id, true, mb.Since)
			}
			msgs = append(msgs, store.OutboxMessage{ID: msgID, DestinationID: d.ID,
				ProfileKey: ProfileKey(id), Type: "audience.entered", Payload: payload, CreatedAt: a.opts.Now()})
		}
		if err := a.st.Enqueue(ctx, msgs); err != nil {
			return n, err
		}
		n += len(members)
		after = members[len(members)-1].ProfileID
	}
}

// horizons returns the change ID every snapshot taken from now on covers,
// for each of refs: read before the members, it is at most what they
// reflect.
func (a *AudienceDelivery) horizons(ctx context.Context, refs []string) (map[string]int64, error) {
	end, err := a.st.AudienceChangesEnd(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, ref := range refs {
		out[ref] = end
	}
	return out, nil
}

// checkAudiences returns EINVALID if a ref names no audience.
func (a *AudienceDelivery) checkAudiences(refs []string) error {
	for _, ref := range refs {
		if _, ok := a.dir.Audience(ref); !ok {
			return mosaic.Errorf(mosaic.EINVALID, "Unknown audience %q: give an audience's ID or key (GET /api/v1/audiences lists them).", ref)
		}
	}
	return nil
}
