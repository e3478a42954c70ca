package segment

import (
	"context"
	"runtime"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/audience"
	"github.com/mosaic-cdp/mosaic/store"
)

// Status says whether a definition is live or still backfilling.
type Status struct {
	// State is "live" once the backfill is done, else "backfilling" (or
	// "failed", with the job's error).
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
	Backfill *Job    `json:"backfill,omitempty"`
}

func (s *Segments) statusLocked(id string) Status {
	st := Status{State: "backfilling"}
	if j := s.jobs[id]; j != nil {
		c := *j
		st.Backfill, st.Progress = &c, j.progress()
		if j.State == "failed" {
			st.State = "failed"
		}
	}
	if s.meta.Ready[id] && (st.Backfill == nil || st.Backfill.State == "done") {
		st.State, st.Progress = "live", 1
	}
	return st
}

// ComputedTraitView is a computed trait with its status.
type ComputedTraitView struct {
	*ComputedTrait
	Status Status `json:"status"`
}

// ComputedTraits lists the computed traits, oldest first.
func (s *Segments) ComputedTraits() []ComputedTraitView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []ComputedTraitView{}
	for _, t := range s.computed {
		out = append(out, ComputedTraitView{t, s.statusLocked(t.ID)})
	}
	slices.SortFunc(out, func(a, b ComputedTraitView) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ComputedTrait returns a computed trait by ID or key.
func (s *Segments) ComputedTrait(ref string) (ComputedTraitView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.computed[ref]
	if t == nil {
		t = s.ctByKey[ref]
	}
	if t == nil {
		return ComputedTraitView{}, mosaic.Errorf(mosaic.ENOTFOUND, "No computed trait %q.", ref)
	}
	return ComputedTraitView{t, s.statusLocked(t.ID)}, nil
}

// AudienceView is an audience with its size and status.
type AudienceView struct {
	*Audience
	Size   int    `json:"size"`
	Status Status `json:"status"`
}

// Audiences lists the audiences with their sizes, oldest first.
func (s *Segments) Audiences() []AudienceView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []AudienceView{}
	for _, a := range s.audiences {
		out = append(out, AudienceView{a, len(s.members[a.ID]), s.statusLocked(a.ID)})
	}
	slices.SortFunc(out, func(a, b AudienceView) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	return out
}

// Audience returns an audience by ID or key.
func (s *Segments) Audience(ref string) (AudienceView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.audienceByRef(ref)
	if a == nil {
		return AudienceView{}, mosaic.Errorf(mosaic.ENOTFOUND, "No audience %q.", ref)
	}
	return AudienceView{a, len(s.members[a.ID]), s.statusLocked(a.ID)}, nil
}

// Member is one profile of an audience.
type Member struct {
	ProfileID uint64    `json:"-"`
	Since     time.Time `json:"since"`
}

// Members returns an audience's members with a profile ID above after, in
// ID order, at most limit, and how many members it has.
func (s *Segments) Members(ref string, after uint64, limit int) ([]Member, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.audienceByRef(ref)
	if a == nil {
		return nil, 0, mosaic.Errorf(mosaic.ENOTFOUND, "No audience %q.", ref)
	}
	set := s.members[a.ID]
	ids := s.membersAfter(a.ID, set, after, max(limit, 0))
	out := make([]Member, len(ids))
	for i, id := range ids {
		since, _ := s.states[id].member.get(a.slot)
		out[i] = Member{ProfileID: id, Since: since}
	}
	return out, len(set), nil
}

// Membership is one audience a profile is in.
type Membership struct {
	AudienceID string    `json:"audience_id"`
	Key        string    `json:"key"`
	Since      time.Time `json:"since"`
}

// ProfileAudiences returns the audiences a profile is in, by key.
func (s *Segments) ProfileAudiences(id uint64) []Membership {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Membership{}
	p := s.states[id]
	if p == nil {
		return out
	}
	for _, e := range p.member {
		aud := s.slotID(e.slot)
		if a := s.audiences[aud]; a != nil {
			out = append(out, Membership{AudienceID: aud, Key: a.Key, Since: e.time()})
		}
	}
	slices.SortFunc(out, func(a, b Membership) int { return compareStrings(a.Key, b.Key) })
	return out
}

// ComputedValue is a computed trait's value for one profile.
type ComputedValue struct {
	Value *audience.Value `json:"value"` // nil: no value
	// NextChange is when the value changes with no new event (an event
	// leaves the window); absent for never.
	NextChange *time.Time `json:"next_change,omitempty"`
}

// ProfileComputed returns every computed trait's value for a profile now.
func (s *Segments) ProfileComputed(id uint64) map[string]ComputedValue {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	p := s.states[id]
	if p == nil {
		p = &pstate{}
	}
	out := map[string]ComputedValue{}
	for key, t := range s.ctByKey {
		v, ok, next := t.value(p.events.get(t.Event), now)
		cv := ComputedValue{}
		if ok {
			cv.Value = &v
		}
		if !next.IsZero() {
			cv.NextChange = &next
		}
		out[key] = cv
	}
	return out
}

// Explanation is why a profile is or is not in an audience.
type Explanation struct {
	Member      bool                  `json:"member"`
	Since       *time.Time            `json:"since,omitempty"`
	At          time.Time             `json:"at"`
	NextChange  *time.Time            `json:"next_change,omitempty"`
	Explanation *audience.Explanation `json:"explanation"`
}

// Explain evaluates an audience's condition for a profile now, with the
// value and the data behind every node.
func (s *Segments) Explain(ref string, id uint64) (*Explanation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.audienceByRef(ref)
	if a == nil {
		return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No audience %q.", ref)
	}
	now := s.opts.Now()
	p := s.states[id]
	if p == nil {
		p = &pstate{}
	}
	res := audience.Explain(a.cond, &subject{s: s, p: p, id: id, now: now}, now)
	x := &Explanation{At: now, Explanation: res.Explain}
	if since, ok := p.member.get(a.slot); ok {
		x.Member, x.Since = true, &since
	}
	if next, ok := p.next.get(a.slot); ok {
		x.NextChange = &next
	}
	return x, nil
}

// Preview is the size of a condition's audience now, unsaved.
type Preview struct {
	Count     int      `json:"count"`
	Sample    []uint64 `json:"-"`
	Evaluated int      `json:"evaluated"`
}

// Preview evaluates a condition over every profile, with the evaluator
// real-time membership uses, and returns the count and up to sample IDs.
// EUNAVAILABLE while the history of an event it reads is being loaded
// (the first preview of a new event starts the load).
func (s *Segments) Preview(ctx context.Context, raw []byte, sample int) (*Preview, error) {
	c, err := parseCondition(raw)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	err = audience.Validate(c, func(ref string) (*audience.Condition, bool) {
		if a := s.audienceByRef(ref); a != nil {
			return a.cond, true
		}
		return nil, false
	})
	if err != nil {
		s.mu.Unlock()
		return nil, invalid("condition: %v", err)
	}
	la := s.liveOf(&Audience{ID: "preview", cond: c, deps: audience.Dependencies(c)})
	var missing []string
	for name, w := range la.windows {
		if t := s.meta.Events[name]; t == nil || !t.Ready || t.Retention != 0 && (w == 0 || w > t.Retention) {
			missing = append(missing, "event "+name)
		}
	}
	for name := range la.traits {
		if !s.meta.Traits[name] {
			missing = append(missing, "trait "+name)
		}
	}
	if la.consent && !s.meta.Consent {
		missing = append(missing, "consent")
	}
	s.mu.Unlock()
	if len(missing) > 0 {
		s.preload(s.jobContext(), la)
		return nil, mosaic.Errorf(mosaic.EUNAVAILABLE, "Mosaic is loading what this condition reads (%v) from the history; preview again in a few seconds.", missing)
	}
	return s.preview(la, sample), nil
}

func (s *Segments) preview(la *live, sample int) *Preview {
	var ids []uint64
	if src := s.profileSource(); src != nil {
		ids = src.ProfileIDs() // before s.mu: the stage's lock comes first
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	out := &Preview{Sample: []uint64{}}
	empty := &pstate{}
	emptyMatches := audience.Evaluate(la.a.cond, &subject{s: s, p: empty, now: now}, now).Value
	all := s.byID()
	seen := len(all)
	type part struct {
		count  int
		sample []uint64
	}
	parts := make([]part, runtime.GOMAXPROCS(0))
	parallel(len(all), func(w, lo, hi int) {
		pt, x := &parts[w], &subject{s: s, now: now}
		for i := lo; i < hi; i++ {
			x.p, x.id = all[i].p, all[i].id
			if audience.Evaluate(la.a.cond, x, now).Value {
				pt.count++
				if len(pt.sample) < sample {
					pt.sample = append(pt.sample, all[i].id)
				}
			}
		}
	})
	for _, pt := range parts {
		out.Count += pt.count
		out.Sample = append(out.Sample, pt.sample...)
	}
	slices.Sort(out.Sample)
	out.Sample = out.Sample[:min(len(out.Sample), sample)]
	out.Evaluated = seen
	if emptyMatches {
		// Profiles with no state hold nothing conditions read: they all
		// match as the empty state does.
		// Both lists in ID order: walked together, with no lookups.
		if !slices.IsSorted(ids) {
			ids = slices.Sorted(slices.Values(ids))
		}
		stateless, j := 0, 0
		for k, id := range ids {
			for j < len(all) && all[j].id < id {
				j++
			}
			if (j == len(all) || all[j].id != id) && (k == 0 || ids[k-1] != id) {
				out.Count++
				out.Evaluated++
				if stateless < sample {
					out.Sample = append(out.Sample, id)
					stateless++
				}
			}
		}
		slices.Sort(out.Sample)
		out.Sample = out.Sample[:min(len(out.Sample), sample)]
	}
	return out
}

// preload starts loading what a previewed condition reads, as a job of its
// own that no definition waits for.
func (s *Segments) preload(ctx context.Context, la *live) {
	go func() {
		s.jobMu.Lock()
		defer s.jobMu.Unlock()
		s.mu.Lock()
		names := s.trackLocked(la.windows)
		traits := s.trackTraitsLocked(sortedKeys(la.traits))
		consent := la.consent && !s.meta.Consent
		upto := s.seq
		s.mu.Unlock()
		j := &Job{Definition: "preview"}
		if err := s.loadHistory(ctx, j, names, upto); err != nil {
			s.opts.Log.Warn("loading history for a preview failed", "err", err)
			return
		}
		if err := s.loadTraits(ctx, j, traits); err != nil {
			s.opts.Log.Warn("loading traits for a preview failed", "err", err)
			return
		}
		if consent {
			if err := s.loadConsent(ctx, j, upto); err != nil {
				s.opts.Log.Warn("loading consent for a preview failed", "err", err)
			}
		}
	}()
}

// HistoryPoint is one period of an audience's history.
type HistoryPoint struct {
	Start   time.Time `json:"start"`
	Entered int64     `json:"entered"`
	Exited  int64     `json:"exited"`
	// Size is the audience's size at the end of the period.
	Size int64 `json:"size"`
}

// History returns an audience's entries and exits per period since a
// moment, with its size at the end of each period (worked back from its
// size now).
func (s *Segments) History(ctx context.Context, ref string, bucket time.Duration, since time.Time) ([]HistoryPoint, int, error) {
	view, err := s.Audience(ref)
	if err != nil {
		return nil, 0, err
	}
	buckets, err := s.st.AudienceHistory(ctx, view.ID, bucket, since)
	if err != nil {
		return nil, 0, err
	}
	out := make([]HistoryPoint, len(buckets))
	size := int64(view.Size)
	for i := len(buckets) - 1; i >= 0; i-- {
		b := buckets[i]
		out[i] = HistoryPoint{Start: b.Start, Entered: b.Entered, Exited: b.Exited, Size: size}
		size -= b.Entered - b.Exited
	}
	return out, view.Size, nil
}

// Changes returns recorded entries and exits after a change ID, in order:
// what delivery consumes. Only saved changes are returned.
func (s *Segments) Changes(ctx context.Context, audienceRef string, after int64, limit int) ([]store.AudienceChange, error) {
	id := ""
	if audienceRef != "" {
		view, err := s.Audience(audienceRef)
		if err != nil {
			return nil, err
		}
		id = view.ID
	}
	return s.st.AudienceChanges(ctx, id, after, limit)
}
