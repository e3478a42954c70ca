package live

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/predict/btyd"
	"github.com/mosaic-cdp/mosaic/store"
)

// Options configures a Service.
type Options struct {
	Log *slog.Logger
	Now func() time.Time
	// Every is how often the models are refitted on their own; 0 means
	// only on demand.
	Every time.Duration
	// Score sets the horizons and the discount rate of the purchase
	// predictions (default btyd.DefaultScoreOptions: purchases over 90
	// days, CLV over 365 days at 10% a year).
	Score btyd.ScoreOptions
	// Recommendations is the number of products recommended per profile
	// (default 10).
	Recommendations int
	// TrainSample caps the profiles the propensity model trains on
	// (default 200,000); every profile is scored.
	TrainSample int
	// Fitted, if set, is called (on its own goroutine) after each fit
	// that wrote new predicted traits: audiences that read them are
	// evaluated again then.
	Fitted func()
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Score == (btyd.ScoreOptions{}) {
		o.Score = btyd.DefaultScoreOptions()
	}
	if o.Recommendations <= 0 {
		o.Recommendations = 10
	}
	if o.TrainSample <= 0 {
		o.TrainSample = 200000
	}
	return o
}

// Run is a fit's progress, as GET /api/v1/predictions/fit shows it.
type Run struct {
	Version    int        `json:"version"`
	State      string     `json:"state"` // running, done, failed
	Trigger    string     `json:"trigger"`
	AsOf       time.Time  `json:"as_of"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Stage      string     `json:"stage"`
	Done       int        `json:"done"`
	Total      int        `json:"total"`
	Profiles   int        `json:"profiles"`
	Error      string     `json:"error,omitempty"`
}

// Service runs fits and keeps the latest fit's predicted traits.
type Service struct {
	obs   *Observer
	st    store.PredictStore
	opts  Options
	names traitNames

	base   context.Context // fits run under it; Close cancels it
	cancel context.CancelFunc
	fits   sync.WaitGroup

	mu      sync.RWMutex
	run     *Run // the running or last fit; nil before the first since start
	version int  // the latest saved fit's
	lastFit time.Time
	values  map[uint64]*values
}

// NewService returns a Service over the observer's activity that keeps
// its fits in st. Load must be called before use.
func NewService(obs *Observer, st store.PredictStore, opts Options) (*Service, error) {
	opts = opts.withDefaults()
	if err := opts.Score.Validate(); err != nil {
		return nil, fmt.Errorf("predictions: %w", err)
	}
	s := &Service{obs: obs, st: st, opts: opts, values: map[uint64]*values{}}
	s.base, s.cancel = context.WithCancel(context.Background())
	days := func(d time.Duration) int { return int(d.Round(24*time.Hour).Hours() / 24) }
	s.names.num = [numTraits]string{
		numPAlive:     "p_alive",
		numPurchases:  fmt.Sprintf("purchases_%dd", days(opts.Score.PurchaseHorizon)),
		numCLV:        fmt.Sprintf("clv_%dd", days(opts.Score.CLVHorizon)),
		numChurn:      "churn_risk",
		numPurchase30: "purchase_30d",
	}
	return s, nil
}

// Load reads the latest fit's predicted traits into memory.
func (s *Service) Load(ctx context.Context) error {
	models, err := s.st.PredictionModels(ctx)
	if err != nil {
		return fmt.Errorf("load prediction models: %w", err)
	}
	vals := map[uint64]*values{}
	err = s.st.LoadPredictions(ctx, func(id uint64, data []byte) error {
		var p Prediction
		if err := json.Unmarshal(data, &p); err != nil {
			return fmt.Errorf("predictions of profile %d: %w", id, err)
		}
		v := valuesOf(&p, &s.names)
		vals[id] = &v
		return nil
	})
	if err != nil {
		return fmt.Errorf("load predictions: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = vals
	for _, m := range models {
		var info ModelInfo
		if json.Unmarshal(m.Report, &info) == nil && info.Version > s.version {
			s.version, s.lastFit = info.Version, info.FitAt
		}
	}
	return nil
}

// Predicted returns a profile's predicted traits from the latest fit, by
// name without the "predicted." prefix (p_alive, purchases_90d, clv_365d,
// churn_risk, purchase_30d, rfm_r, rfm_f, rfm_m, rfm_segment,
// best_channel, best_hour, recommended_products), nil if it has none.
// Numbers are float64 or int, best_hour an int 0–167 (Monday 00:00 = 0),
// recommended_products a []string. It reads memory only and is safe for
// concurrent use: audience conditions call it on every event.
func (s *Service) Predicted(profileID uint64) map[string]any {
	s.mu.RLock()
	v := s.values[profileID]
	s.mu.RUnlock()
	if v == nil {
		return nil
	}
	return v.asMap(&s.names)
}

// Prediction returns a profile's predicted traits with their models and
// inputs; ENOTFOUND if the latest fit gave it none.
func (s *Service) Prediction(ctx context.Context, profileID uint64) (*Prediction, error) {
	data, err := s.st.Predictions(ctx, profileID)
	if err != nil {
		return nil, err
	}
	var p Prediction
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("predictions of profile %d: %w", profileID, err)
	}
	return &p, nil
}

// Models returns the latest fit's model reports, by name.
func (s *Service) Models(ctx context.Context) ([]ModelInfo, error) {
	rows, err := s.st.PredictionModels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ModelInfo, 0, len(rows))
	for _, r := range rows {
		var m ModelInfo
		if err := json.Unmarshal(r.Report, &m); err != nil {
			return nil, fmt.Errorf("report of model %s: %w", r.Name, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Status returns the running or last fit since the server started, nil if
// none ran.
func (s *Service) Status() *Run {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.run == nil {
		return nil
	}
	r := *s.run
	return &r
}

// Start begins a fit as of asOf (now when zero) in the background and
// returns its first status. ECONFLICT if a fit is running, EINVALID if
// asOf is in the future.
func (s *Service) Start(ctx context.Context, asOf time.Time, trigger string) (*Run, error) {
	now := s.opts.Now()
	if asOf.IsZero() {
		asOf = now
	}
	if err := validateAsOf(asOf, now); err != nil {
		return nil, mosaic.Errorf(mosaic.EINVALID, "Cannot fit %s: a fit uses the data up to its as-of date and treats it as now. Give a past date, or none for now.", err)
	}
	s.mu.Lock()
	if s.run != nil && s.run.State == "running" {
		r := *s.run
		s.mu.Unlock()
		return nil, mosaic.Errorf(mosaic.ECONFLICT, "A fit (version %d, started %s) is running; wait for it to finish (GET /api/v1/predictions/fit).", r.Version, r.StartedAt.Format(time.RFC3339))
	}
	s.run = &Run{Version: s.version + 1, State: "running", Trigger: trigger, AsOf: asOf.UTC(), StartedAt: now.UTC(), Stage: "snapshot"}
	r := *s.run
	s.mu.Unlock()
	s.fits.Go(func() { s.fit(s.base, asOf.UTC(), r.Version) })
	return &r, nil
}

// Close stops a running fit and waits for it.
func (s *Service) Close() {
	s.cancel()
	s.fits.Wait()
}

// Fit runs a fit as of asOf (now when zero) and waits for it.
func (s *Service) Fit(ctx context.Context, asOf time.Time) (*Run, error) {
	r, err := s.Start(ctx, asOf, "api")
	if err != nil {
		return nil, err
	}
	for {
		cur := s.Status()
		if cur.Version == r.Version && cur.State != "running" {
			if cur.State == "failed" {
				return cur, errors.New(cur.Error)
			}
			return cur, nil
		}
		select {
		case <-ctx.Done():
			return cur, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Service) progress(stage string, done, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run.Stage, s.run.Done, s.run.Total = stage, done, total
}

// fit runs one fit and records its outcome in s.run.
func (s *Service) fit(ctx context.Context, asOf time.Time, version int) {
	start := s.opts.Now()
	err := s.fitAndSave(ctx, asOf, version)
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.opts.Now().UTC()
	s.run.FinishedAt, s.run.State, s.run.Stage = &end, "done", "done"
	if err != nil {
		s.run.State, s.run.Error = "failed", err.Error()
		s.opts.Log.Error("prediction fit failed", "version", version, "err", err)
		return
	}
	s.opts.Log.Info("predictions fitted", "version", version, "as_of", asOf, "profiles", s.run.Profiles, "took", end.Sub(start))
	if s.opts.Fitted != nil {
		go s.opts.Fitted()
	}
}

func (s *Service) fitAndSave(ctx context.Context, asOf time.Time, version int) error {
	ids, hs := s.obs.snapshot()
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ids[a], ids[b]) })
	j := &fitJob{opts: s.opts, names: &s.names, version: version, asOf: asOf, fitAt: s.opts.Now().UTC(), progress: s.progress}
	j.ids, j.hs = make([]uint64, len(ids)), make([]history, len(ids))
	for k, i := range order {
		j.ids[k], j.hs[k] = ids[i], hs[i]
	}
	if err := j.run(ctx); err != nil {
		return err
	}
	s.progress("save", 0, len(j.ids))
	f := &store.PredictionFit{}
	vals := make(map[uint64]*values, len(j.ids))
	for i, p := range j.out {
		if len(p.Traits) == 0 {
			continue
		}
		data, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode predictions of profile %d: %w", j.ids[i], err)
		}
		f.Profiles = append(f.Profiles, store.ProfileRow{ID: j.ids[i], Data: data})
		v := valuesOf(&j.out[i], &s.names)
		vals[j.ids[i]] = &v
	}
	for _, m := range j.ms {
		data, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode report of model %s: %w", m.Name, err)
		}
		f.Models = append(f.Models, store.PredictionModelRow{Name: m.Name, FitAt: m.FitAt, Report: data})
	}
	if err := s.st.SavePredictions(ctx, f); err != nil {
		return fmt.Errorf("save predictions: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values, s.version, s.lastFit = vals, version, j.fitAt
	s.run.Profiles, s.run.Done, s.run.Total = len(f.Profiles), len(j.ids), len(j.ids)
	return nil
}

// Schedule refits every opts.Every until ctx ends: the first time one
// interval after the latest fit (at once if that is past), or one interval
// after the start before any fit.
func (s *Service) Schedule(ctx context.Context) {
	if s.opts.Every <= 0 {
		return
	}
	s.mu.RLock()
	last := s.lastFit
	s.mu.RUnlock()
	next := s.opts.Now().Add(s.opts.Every)
	if !last.IsZero() {
		next = last.Add(s.opts.Every)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		if _, err := s.Start(ctx, time.Time{}, "schedule"); err != nil && mosaic.ErrorCode(err) != mosaic.ECONFLICT {
			s.opts.Log.Error("scheduled prediction fit", "err", err)
		}
		next = s.opts.Now().Add(s.opts.Every)
	}
}
