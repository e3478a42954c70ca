package activate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// Options configures a Service. Zero fields get DefaultOptions' values.
type Options struct {
	Log   *slog.Logger
	Now   func() time.Time
	Kinds Kinds
	// Consent gates every message at send time. Default: SignalConsent
	// over the store, denying profiles without a signal.
	Consent Consent
	// HTTP is the client webhooks use; default an SSRF-guarded client with
	// no allow-list (use Guard.Client with the allow-list).
	HTTP *http.Client
	// FileRoot is where file exports with a relative directory go.
	FileRoot string
	// RetryBase is the first retry's delay (default 5s); each later one is
	// 4× longer, up to RetryCap (default 6h), with jitter.
	RetryBase time.Duration
	RetryCap  time.Duration
	// ProbeCap bounds the wait between probes of a destination that is
	// down (default 30s): while a whole round fails, the worker sends one
	// message at a time, RetryBase apart doubling up to ProbeCap, and the
	// first that gets through releases every waiting message. It is the
	// most a destination that comes back stays idle, whatever the
	// per-message backoff reached during a long outage.
	ProbeCap time.Duration
	// MaxAge is how long a message is retried before it is dead-lettered
	// (default 72h).
	MaxAge time.Duration
	// ClaimLimit is how many messages a worker takes per round (default
	// 1000); Concurrency how many requests it has in flight (default 32).
	ClaimLimit  int
	Concurrency int
	// DrainRate is how many messages a second a worker sends at most
	// while it catches up with the backlog of a destination that came
	// back after an outage (default 1000; negative: no limit). An hour's
	// backlog at 200 messages/s then goes in about 12 minutes and the
	// drain leaves ingestion its share of a small machine's CPU (see
	// docs/benchmarks.md); raise it on bigger machines.
	DrainRate int
	// Poll is how often an idle worker looks for due messages it was not
	// woken for (default 1s).
	Poll time.Duration
	// Retention is how long delivered and consent-blocked messages are
	// kept for the deliveries list before they are deleted (default 7
	// days); PurgeEvery how often that runs (default 10m). Pending and
	// dead messages are never deleted.
	Retention  time.Duration
	PurgeEvery time.Duration
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{Now: time.Now, Kinds: DefaultKinds(), RetryBase: 5 * time.Second, RetryCap: 6 * time.Hour, ProbeCap: 30 * time.Second,
		MaxAge: 72 * time.Hour, ClaimLimit: 1000, Concurrency: 32, DrainRate: 1000, Poll: time.Second, Retention: 7 * 24 * time.Hour, PurgeEvery: 10 * time.Minute}
}

func (o Options) withDefaults(st store.OutboxStore) Options {
	d := DefaultOptions()
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Kinds == nil {
		o.Kinds = d.Kinds
	}
	if o.Consent == nil {
		o.Consent = SignalConsent{Store: st}
	}
	if o.HTTP == nil {
		o.HTTP = Guard{}.Client(d.Concurrency)
	}
	for _, p := range []struct {
		v *time.Duration
		d time.Duration
	}{{&o.RetryBase, d.RetryBase}, {&o.RetryCap, d.RetryCap}, {&o.ProbeCap, d.ProbeCap}, {&o.MaxAge, d.MaxAge}, {&o.Poll, d.Poll},
		{&o.Retention, d.Retention}, {&o.PurgeEvery, d.PurgeEvery}} {
		if *p.v <= 0 {
			*p.v = p.d
		}
	}
	if o.ClaimLimit <= 0 {
		o.ClaimLimit = d.ClaimLimit
	}
	if o.Concurrency <= 0 {
		o.Concurrency = d.Concurrency
	}
	if o.DrainRate == 0 {
		o.DrainRate = d.DrainRate
	}
	return o
}

// Service manages destinations and runs their delivery workers.
type Service struct {
	st   store.OutboxStore
	opts Options

	mu      sync.Mutex
	ctx     context.Context // Run's; nil before Run
	workers map[string]*worker
	changed []func() // tell the followers the destinations changed
	aud     *AudienceDelivery
}

// New returns a Service; Run starts delivering.
func New(st store.OutboxStore, opts Options) *Service {
	return &Service{st: st, opts: opts.withDefaults(st), workers: map[string]*worker{}}
}

// Kinds returns the destination kinds the service offers.
func (s *Service) Kinds() Kinds { return s.opts.Kinds }

// Run starts a worker for every active destination and runs until ctx
// ends, then stops them.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	dests, err := s.all(ctx)
	for err != nil && ctx.Err() == nil {
		s.opts.Log.Error("cannot load destinations; retrying", "err", err)
		sleepCtx(ctx, s.opts.RetryBase)
		dests, err = s.all(ctx)
	}
	for _, d := range dests {
		s.restart(d)
	}
	s.purgeLoop(ctx)
	s.mu.Lock()
	ws := slices.Collect(maps.Values(s.workers))
	s.workers = map[string]*worker{}
	s.mu.Unlock()
	for _, w := range ws {
		w.stop()
		<-w.done
	}
	return nil
}

// all returns every destination, decoded.
func (s *Service) all(ctx context.Context) ([]*Destination, error) {
	sds, err := s.st.Destinations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Destination, 0, len(sds))
	for _, sd := range sds {
		d, err := fromStore(sd, s.opts.Kinds)
		if err != nil {
			s.opts.Log.Error("destination cannot be used", "destination", sd.ID, "err", err)
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// restart stops d's worker, if any, and starts a new one if d is active.
// d nil with id only stops.
func (s *Service) restart(d *Destination) {
	s.stopWorker(d.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.ctx.Err() != nil || d.Status != StatusActive {
		return
	}
	sender, err := s.opts.Kinds[d.Type].Open(d, s.env())
	if err != nil {
		s.opts.Log.Error("destination cannot start", "destination", d.ID, "err", err)
		return
	}
	ctx, stop := context.WithCancel(s.ctx)
	w := &worker{svc: s, dest: d, sender: sender, wake: make(chan struct{}, 1), flush: make(chan struct{}, 1), stop: stop, done: make(chan struct{}),
		pace: newPacer(d.Settings.Int("rate_limit"))}
	s.workers[d.ID] = w
	go w.run(ctx)
}

func (s *Service) stopWorker(id string) {
	s.mu.Lock()
	w := s.workers[id]
	delete(s.workers, id)
	s.mu.Unlock()
	if w != nil {
		w.stop()
		<-w.done
	}
}

func (s *Service) env() Env {
	return Env{HTTP: s.opts.HTTP, Now: s.opts.Now, Log: s.opts.Log, FileRoot: s.opts.FileRoot}
}

// Wake tells every worker that messages were enqueued. Stages that enqueue
// call it after their commit.
func (s *Service) Wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// OnChange adds a function called after destinations change.
func (s *Service) OnChange(fn func()) {
	s.mu.Lock()
	s.changed = append(s.changed, fn)
	s.mu.Unlock()
}

func (s *Service) notify() {
	s.mu.Lock()
	fns := slices.Clone(s.changed)
	s.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Create validates in, stores a new destination and starts delivering to
// it. The answer holds the signing secret, this once.
func (s *Service) Create(ctx context.Context, in Input) (*View, error) {
	settings, err := in.validate(s.opts.Kinds)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	d := &Destination{ID: id.String(), Name: in.Name, Type: in.Type, Status: StatusActive, Settings: settings,
		Secret: newSecret(), Purposes: in.Purposes, Audiences: in.Audiences, Events: in.Events, CreatedAt: now, UpdatedAt: now}
	if in.Mapping != nil {
		d.Mapping = *in.Mapping
	}
	if err := s.checkAudiences(in.Audiences); err != nil {
		return nil, err
	}
	if d.Horizons, err = s.horizons(ctx, nil, d.Audiences); err != nil {
		return nil, err
	}
	if _, err := s.opts.Kinds[d.Type].Open(d, s.env()); err != nil {
		return nil, mosaic.Errorf(mosaic.EINVALID, "The destination's settings do not work: %v.", err)
	}
	sd, err := d.toStore()
	if err != nil {
		return nil, err
	}
	if err := s.st.CreateDestination(ctx, sd); err != nil {
		return nil, err
	}
	s.opts.Log.Info("destination created", "destination", d.ID, "type", d.Type, "name", d.Name)
	s.restart(d)
	s.notify()
	s.snapshotOnConnect(ctx, d, d.Audiences)
	return d.view(s.opts.Kinds, true), nil
}

func (s *Service) audiences() *AudienceDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aud
}

// horizons returns old with the horizons of the audiences added, and
// without those of audiences no longer subscribed to.
func (s *Service) horizons(ctx context.Context, old map[string]int64, refs []string) (map[string]int64, error) {
	a := s.audiences()
	if a == nil || len(refs) == 0 {
		return nil, nil
	}
	var added []string
	out := map[string]int64{}
	for _, ref := range refs {
		if h, ok := old[ref]; ok {
			out[ref] = h
		} else {
			added = append(added, ref)
		}
	}
	h, err := a.horizons(ctx, added)
	if err != nil {
		return nil, err
	}
	maps.Copy(out, h)
	return out, nil
}

// checkAudiences returns EINVALID if a subscription names no audience.
func (s *Service) checkAudiences(refs []string) error {
	if a := s.audiences(); a != nil {
		return a.checkAudiences(refs)
	}
	return nil
}

// snapshotOnConnect sends the members of audiences d just subscribed to.
// A failure is logged, not returned: the destination is saved, and the
// user can ask for a snapshot again.
func (s *Service) snapshotOnConnect(ctx context.Context, d *Destination, refs []string) {
	a := s.audiences()
	if a == nil || len(refs) == 0 {
		return
	}
	if _, err := a.snapshot(context.WithoutCancel(ctx), d, refs, true); err != nil {
		s.opts.Log.Error("snapshot on connect failed; POST /api/v1/destinations/{id}/snapshot to send it", "destination", d.ID, "err", err)
	}
}

// Snapshot queues every current member of every audience the destination
// subscribes to, as audience.entered messages marked as a snapshot.
func (s *Service) Snapshot(ctx context.Context, id string) (*SnapshotResult, error) {
	d, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	a := s.audiences()
	if a == nil {
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Audience delivery is not running on this server.")
	}
	if len(d.Audiences) == 0 {
		return nil, mosaic.Errorf(mosaic.EINVALID, "Destination %q subscribes to no audience: add some with \"audiences\": [...] first.", d.Name)
	}
	return a.Snapshot(ctx, d, d.Audiences)
}

// Get returns a destination.
func (s *Service) Get(ctx context.Context, id string) (*View, error) {
	d, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.view(s.opts.Kinds, false), nil
}

func (s *Service) load(ctx context.Context, id string) (*Destination, error) {
	sd, err := s.st.Destination(ctx, id)
	if err != nil {
		return nil, err
	}
	return fromStore(sd, s.opts.Kinds)
}

// Destinations returns every destination decoded, for the forwarder.
func (s *Service) Destinations(ctx context.Context) ([]*Destination, error) { return s.all(ctx) }

// List returns every destination.
func (s *Service) List(ctx context.Context) ([]*View, error) {
	ds, err := s.all(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*View, len(ds))
	for i, d := range ds {
		out[i] = d.view(s.opts.Kinds, false)
	}
	return out, nil
}

// Update replaces a destination's configuration. Secret settings sent back
// redacted keep their stored value; the type cannot change.
func (s *Service) Update(ctx context.Context, id string, in Input) (*View, error) {
	d, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.Type == "" {
		in.Type = d.Type
	}
	if in.Type != d.Type {
		return nil, mosaic.Errorf(mosaic.EINVALID, "A destination's type cannot change (it is %s): create a new destination instead.", d.Type)
	}
	keepSecrets(fullSpec(s.opts.Kinds[d.Type]), in.Settings, d.Settings)
	settings, err := in.validate(s.opts.Kinds)
	if err != nil {
		return nil, err
	}
	if err := s.checkAudiences(in.Audiences); err != nil {
		return nil, err
	}
	var added []string
	for _, ref := range in.Audiences {
		if !slices.Contains(d.Audiences, ref) {
			added = append(added, ref)
		}
	}
	if d.Horizons, err = s.horizons(ctx, d.Horizons, in.Audiences); err != nil {
		return nil, err
	}
	d.Name, d.Settings, d.Purposes, d.Audiences, d.Events = in.Name, settings, in.Purposes, in.Audiences, in.Events
	d.Mapping = Mapping{}
	if in.Mapping != nil {
		d.Mapping = *in.Mapping
	}
	d.UpdatedAt = s.opts.Now().UTC()
	if err := s.save(ctx, d); err != nil {
		return nil, err
	}
	s.snapshotOnConnect(ctx, d, added)
	return d.view(s.opts.Kinds, false), nil
}

// keepSecrets puts stored values back where raw has the redaction marker.
func keepSecrets(spec []Setting, raw map[string]any, old Settings) {
	for _, f := range spec {
		if !f.Secret || raw == nil {
			continue
		}
		switch v := raw[f.Name].(type) {
		case string:
			if v == redactedValue {
				raw[f.Name] = old[f.Name]
			}
		case map[string]any:
			oldH := old.Headers(f.Name)
			for k, x := range v {
				if x == redactedValue {
					v[k] = oldH[k]
				}
			}
		}
	}
}

func (s *Service) save(ctx context.Context, d *Destination) error {
	sd, err := d.toStore()
	if err != nil {
		return err
	}
	if err := s.st.UpdateDestination(ctx, sd); err != nil {
		return err
	}
	s.restart(d)
	s.notify()
	return nil
}

// Delete deletes a destination and its undelivered messages.
func (s *Service) Delete(ctx context.Context, id string) error {
	s.stopWorker(id)
	if err := s.st.DeleteDestination(ctx, id); err != nil {
		return err
	}
	s.notify()
	return nil
}

// SetStatus pauses (paused), resumes or re-enables (active) a destination.
func (s *Service) SetStatus(ctx context.Context, id, status, reason string) (*View, error) {
	d, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	d.Status, d.StatusReason, d.UpdatedAt = status, reason, s.opts.Now().UTC()
	return d.view(s.opts.Kinds, false), s.save(ctx, d)
}

// disable turns a destination off after a 410 answer.
func (s *Service) disable(ctx context.Context, id string, se *SendError) error {
	d, err := s.load(context.WithoutCancel(ctx), id)
	if err != nil {
		return err
	}
	d.Status, d.StatusReason, d.UpdatedAt = StatusDisabled, se.Error()+"; resume it once the receiver wants messages again", s.opts.Now().UTC()
	s.opts.Log.Warn("destination disabled by its receiver", "destination", id, "reason", se.Error())
	sd, err := d.toStore()
	if err != nil {
		return err
	}
	// The calling worker stops itself: its context is canceled below.
	if err := s.st.UpdateDestination(context.WithoutCancel(ctx), sd); err != nil {
		return err
	}
	s.mu.Lock()
	if w := s.workers[id]; w != nil {
		w.stop()
		delete(s.workers, id)
	}
	s.mu.Unlock()
	return nil
}

// Flush makes a destination send what is queued now, without waiting for
// a batch to fill: a file export's "export now".
func (s *Service) Flush(ctx context.Context, id string) error {
	if _, err := s.st.Destination(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.workers[id]; w != nil {
		w.flushing()
	}
	return nil
}

// TestResult is the answer to a test send.
type TestResult struct {
	OK        bool          `json:"ok"`
	MessageID string        `json:"message_id"`
	Code      int           `json:"code,omitempty"`
	Error     string        `json:"error,omitempty"`
	Latency   time.Duration `json:"latency_ns"`
}

// Test sends one sample message to a destination directly (not through
// the outbox, and not gated by consent: it concerns no profile).
func (s *Service) Test(ctx context.Context, id string) (*TestResult, error) {
	d, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	sender, err := s.opts.Kinds[d.Type].Open(d, s.env())
	if err != nil {
		return nil, mosaic.Errorf(mosaic.EINVALID, "The destination's settings do not work: %v.", err)
	}
	defer sender.Close()
	now := s.opts.Now().UTC()
	msgID := "msg_test_" + uuid.NewString()[:8]
	payload, _ := json.Marshal(map[string]any{"type": "test", "timestamp": now.Format(time.RFC3339Nano),
		"data": map[string]any{"destination_id": d.ID, "message": "This is a test message from Mosaic."}})
	sctx, cancel := context.WithTimeout(ctx, d.Settings.Duration("timeout"))
	defer cancel()
	start := time.Now()
	err = sender.Send(sctx, []Message{{ID: msgID, Type: "test", ProfileKey: "test", Payload: payload, Time: now}})
	res := &TestResult{OK: err == nil, MessageID: msgID, Latency: time.Since(start)}
	if err != nil {
		se := asSendError(err)
		res.Code, res.Error = se.Code, se.Error()
	} else {
		res.Code = 200
	}
	return res, nil
}

// DeliveryView is a delivery as the API shows it.
type DeliveryView struct {
	Seq       int64           `json:"seq"`
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Profile   string          `json:"profile"`
	Status    string          `json:"status"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error,omitempty"`
	LastCode  int             `json:"last_code,omitempty"`
	LatencyMS float64         `json:"latency_ms,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	NextAt    *time.Time      `json:"next_attempt_at,omitempty"`
	DoneAt    *time.Time      `json:"done_at,omitempty"`
	Blocked   []string        `json:"blocked_purposes,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
}

// Deliveries lists a destination's messages, newest first.
func (s *Service) Deliveries(ctx context.Context, id, status string, before int64, limit int) ([]DeliveryView, error) {
	if _, err := s.st.Destination(ctx, id); err != nil {
		return nil, err
	}
	switch status {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryDead, store.DeliveryBlocked:
	default:
		return nil, mosaic.Errorf(mosaic.EINVALID, "status %q: use pending, delivered, dead or blocked.", status)
	}
	ds, err := s.st.Deliveries(ctx, id, status, before, limit)
	if err != nil {
		return nil, err
	}
	out := make([]DeliveryView, len(ds))
	for i, d := range ds {
		v := DeliveryView{Seq: d.Seq, ID: d.ID, Type: d.Type, Profile: d.ProfileKey, Status: d.Status, Attempts: d.Attempts,
			LastError: d.LastError, LastCode: d.LastCode, CreatedAt: d.CreatedAt, Blocked: d.Blocked, Payload: d.Payload}
		if d.Status == store.DeliveryDelivered {
			v.LatencyMS = float64(d.Latency.Microseconds()) / 1000
		}
		if d.Status == store.DeliveryPending && d.Attempts > 0 {
			v.NextAt = &d.NextAt
		}
		if !d.DoneAt.IsZero() {
			v.DoneAt = &d.DoneAt
		}
		out[i] = v
	}
	return out, nil
}

// Replay makes a destination's dead letters (or, with status blocked, its
// consent-blocked messages) pending again and wakes its worker.
func (s *Service) Replay(ctx context.Context, id, status string) (int64, error) {
	if _, err := s.st.Destination(ctx, id); err != nil {
		return 0, err
	}
	if status == "" {
		status = store.DeliveryDead
	}
	if status != store.DeliveryDead && status != store.DeliveryBlocked {
		return 0, mosaic.Errorf(mosaic.EINVALID, "Only dead or blocked messages can be replayed, not %q.", status)
	}
	n, err := s.st.Requeue(ctx, id, status, s.opts.Now())
	if err == nil {
		s.Wake()
	}
	return n, err
}

// Stats is a destination's delivery counters.
type Stats struct {
	Pending   int64            `json:"pending"`
	Retrying  int64            `json:"retrying"`
	Delivered int64            `json:"delivered"`
	Failed    int64            `json:"failed"` // dead letters
	Blocked   int64            `json:"blocked"`
	ByPurpose map[string]int64 `json:"blocked_by_purpose"`
	P50MS     float64          `json:"latency_p50_ms"`
	P99MS     float64          `json:"latency_p99_ms"`
}

// Stats returns a destination's counters; latencies (enqueue to
// delivered) are over its newest 1000 deliveries.
func (s *Service) Stats(ctx context.Context, id string) (*Stats, error) {
	if _, err := s.st.Destination(ctx, id); err != nil {
		return nil, err
	}
	st, err := s.st.DeliveryStats(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("delivery stats of %s: %w", id, err)
	}
	out := &Stats{Pending: st.Counts[store.DeliveryPending], Retrying: st.Retrying, Delivered: st.Counts[store.DeliveryDelivered],
		Failed: st.Counts[store.DeliveryDead], Blocked: st.Counts[store.DeliveryBlocked], ByPurpose: st.Blocked}
	if n := len(st.Latencies); n > 0 {
		l := slices.Clone(st.Latencies)
		slices.Sort(l)
		out.P50MS = float64(l[n*50/100].Microseconds()) / 1000
		out.P99MS = float64(l[min(n-1, n*99/100)].Microseconds()) / 1000
	}
	return out, nil
}
