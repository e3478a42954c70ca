package segment

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/profile"
)

// Job is the backfill of one definition: the history of its events loaded
// from the log, the traits it reads loaded from the profiles, then (for an
// audience) every profile evaluated.
type Job struct {
	Definition string     `json:"definition"`
	State      string     `json:"state"` // running, done, failed
	Phase      string     `json:"phase"` // events, traits, profiles, done
	Done       int64      `json:"done"`
	Total      int64      `json:"total"`
	Error      string     `json:"error,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Progress is the finished fraction of the job, from 0 to 1.
func (j *Job) progress() float64 {
	if j.State == "done" {
		return 1
	}
	if j.Total == 0 {
		return 0
	}
	return float64(j.Done) / float64(j.Total)
}

// startJob runs the backfill of a definition in the background.
func (s *Segments) startJob(ctx context.Context, defID string, why cause) {
	j := &Job{Definition: defID, State: "running", Phase: "events", StartedAt: s.opts.Now()}
	s.mu.Lock()
	s.jobs[defID] = j
	s.mu.Unlock()
	go func() {
		err := s.runJob(ctx, j, why)
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.opts.Now()
		j.FinishedAt = &now
		if err != nil {
			j.State, j.Error = "failed", err.Error()
			s.opts.Log.Error("backfill failed", "definition", defID, "err", err)
			return
		}
		j.State, j.Phase = "done", "done"
	}()
}

// PredictionsChanged evaluates again, over every profile, the audiences
// that read predicted traits: a fit of the prediction models changes them
// for everyone at once, with no event to carry the change.
func (s *Segments) PredictionsChanged(ctx context.Context) error {
	s.mu.Lock()
	var ids []string
	for _, la := range s.order {
		if la.traits[strings.TrimSuffix(predictedPrefix, ".")] {
			ids = append(ids, la.a.ID)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		if err := s.Backfill(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Backfill runs the backfill of a definition now and returns when it is
// done; the API starts them in the background instead.
func (s *Segments) Backfill(ctx context.Context, defID string) error {
	j := &Job{Definition: defID, State: "running", StartedAt: s.opts.Now()}
	s.mu.Lock()
	s.jobs[defID] = j
	s.mu.Unlock()
	err := s.runJob(ctx, j, cause{Kind: "backfill"})
	s.mu.Lock()
	j.State, j.Phase = "done", "done"
	if err != nil {
		j.State, j.Error = "failed", err.Error()
	}
	s.mu.Unlock()
	return err
}

func (s *Segments) runJob(ctx context.Context, j *Job, why cause) error {
	s.jobMu.Lock()
	defer s.jobMu.Unlock()
	s.mu.Lock()
	windows, traits, isAudience, ok := s.needs(j.Definition)
	if !ok {
		s.mu.Unlock()
		return nil // deleted meanwhile
	}
	names := s.trackLocked(windows)
	newTraits := s.trackTraitsLocked(traits)
	la := s.liveAudience(j.Definition)
	consent := la != nil && la.consent && !s.meta.Consent
	upto := s.seq
	s.mu.Unlock()
	s.setPhase(j, "events", 0)
	if err := s.loadHistory(ctx, j, names, upto); err != nil {
		return err
	}
	if consent {
		if err := s.loadConsent(ctx, j, upto); err != nil {
			return err
		}
	}
	s.setPhase(j, "traits", 0)
	if err := s.loadTraits(ctx, j, newTraits); err != nil {
		return err
	}
	s.setPhase(j, "profiles", 0)
	if isAudience {
		return s.evaluateAll(ctx, j, []string{j.Definition}, why)
	}
	s.mu.Lock()
	s.meta.Ready[j.Definition] = true
	var readers []string
	for _, la := range s.order {
		if s.meta.Ready[la.a.ID] && slices.ContainsFunc(la.computed, func(ct *ComputedTrait) bool { return ct.ID == j.Definition }) {
			readers = append(readers, la.a.ID)
		}
	}
	s.mu.Unlock()
	return s.evaluateAll(ctx, j, readers, why)
}

func (s *Segments) setPhase(j *Job, phase string, total int64) {
	s.mu.Lock()
	j.Phase, j.Done, j.Total = phase, 0, total
	s.mu.Unlock()
}

// needs returns the events (with windows) and traits a definition reads.
func (s *Segments) needs(id string) (windows map[string]time.Duration, traits []string, isAudience, ok bool) {
	if ct := s.computed[id]; ct != nil {
		return map[string]time.Duration{ct.Event: ct.window}, nil, false, true
	}
	la := s.liveAudience(id)
	if la == nil {
		return nil, nil, false, false
	}
	return la.windows, sortedKeys(la.traits), true, true
}

// trackLocked makes sure the events are kept long enough, and returns the
// names whose history must be loaded: new ones, ones kept for a shorter
// window so far, and ones whose load did not finish.
func (s *Segments) trackLocked(windows map[string]time.Duration) []string {
	var load []string
	for _, name := range sortedKeys(windows) {
		w := windows[name]
		t := s.meta.Events[name]
		switch {
		case t == nil:
			s.meta.Events[name] = &tracking{Retention: w}
		case t.Retention == 0:
		case w == 0 || w > t.Retention:
			t.Retention, t.Ready = w, false
		}
		if !s.meta.Events[name].Ready {
			load = append(load, name)
		}
	}
	return load
}

func (s *Segments) trackTraitsLocked(traits []string) []string {
	var load []string
	for _, t := range traits {
		if !s.meta.Traits[t] {
			s.meta.Traits[t] = false
			load = append(load, t)
		}
	}
	return load
}

// posting is one stored timeline entry: whose the event at seq is.
type posting struct{ profile, seq uint64 }

// loadHistory reads the events of names up to position upto from the log
// and replaces what profiles hold of them up to there. The timeline says
// whose each event is, so the profile stage must have saved up to upto.
func (s *Segments) loadHistory(ctx context.Context, j *Job, names []string, upto uint64) error {
	if len(names) == 0 {
		return nil
	}
	if err := s.awaitProfiles(ctx, upto); err != nil {
		return err
	}
	var posts []posting
	err := s.st.TimelineSeqs(ctx, names, upto, func(profile, seq uint64) error {
		posts = append(posts, posting{profile, seq})
		return nil
	})
	if err != nil {
		return fmt.Errorf("read timelines: %w", err)
	}
	s.setPhase(j, "events", int64(len(posts)))
	found := map[uint64]map[string][]item{}
	i, cursor := 0, uint64(0)
	if len(posts) > 0 {
		cursor = posts[0].seq - 1
	}
	for i < len(posts) && cursor < upto {
		evs, next, err := s.events.Events(ctx, engine.EventQuery{After: cursor, Limit: engine.MaxEventsLimit})
		if err != nil {
			return fmt.Errorf("read events after %d: %w", cursor, err)
		}
		for k := range evs {
			for i < len(posts) && posts[i].seq < evs[k].Seq {
				i++ // not in the log any more (retention)
			}
			if i == len(posts) || posts[i].seq != evs[k].Seq {
				continue
			}
			o := readEvent(&evs[k], "", wants{})
			byName := found[posts[i].profile]
			if byName == nil {
				byName = map[string][]item{}
				found[posts[i].profile] = byName
			}
			byName[o.name] = append(byName[o.name], item{At: o.at, Seq: evs[k].Seq, Props: append([]byte(nil), o.props...)})
			i++
		}
		if next <= cursor {
			break // the end of what the engine has processed
		}
		cursor = next
		s.mu.Lock()
		j.Done = int64(i)
		s.mu.Unlock()
	}
	s.applyHistory(names, found, upto)
	return nil
}

// awaitProfiles waits until the profile stage has saved position upto.
func (s *Segments) awaitProfiles(ctx context.Context, upto uint64) error {
	for {
		seq, _, _, err := s.st.ProfileCheckpoint(ctx)
		if err != nil {
			return fmt.Errorf("read profile checkpoint: %w", err)
		}
		if seq >= upto {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// applyHistory replaces every profile's events of names up to upto with
// those found; events after upto came live and stay.
func (s *Segments) applyHistory(names []string, found map[uint64]map[string][]item, upto uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for id, p := range s.states {
		for _, name := range names {
			list := p.events.get(name)
			kept := slices.DeleteFunc(slices.Clone(list), func(it item) bool { return it.Seq <= upto })
			if len(kept) != len(list) {
				p.events.set(name, kept)
				s.dirty[id] = true
			}
		}
	}
	for id, byName := range found {
		id = s.resolve(id)
		p := s.state(id)
		for name, items := range byName {
			for _, it := range items {
				p.addItem(name, it)
			}
			p.prune(name, s.meta.Events[name].Retention, now)
		}
		s.dirty[id] = true
	}
	for _, name := range names {
		s.meta.Events[name].Ready = true
	}
}

// resolve follows merges seen since the timeline was saved.
func (s *Segments) resolve(id uint64) uint64 {
	for range 64 {
		next, ok := s.redirects[id]
		if !ok {
			break
		}
		id = next
	}
	return id
}

// chunk is how many profiles a backfill handles per lock: small enough
// that events wait only briefly, large enough that locking is cheap.
const chunk = 16384

// loadTraits copies the traits from the profile stage's profiles.
func (s *Segments) loadTraits(ctx context.Context, j *Job, names []string) error {
	if len(names) == 0 {
		return nil
	}
	src := s.profileSource()
	if src == nil {
		return fmt.Errorf("no profile stage attached to read traits from")
	}
	ids := src.ProfileIDs()
	s.setPhase(j, "traits", int64(len(ids)))
	for start := 0; start < len(ids); start += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		src.ReadProfiles(ids[start:min(start+chunk, len(ids))], func(prs []*profile.Profile) {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, pr := range prs {
				p := s.state(pr.ID)
				s.refreshTraits(pr.ID, p, pr)
			}
			j.Done = int64(min(start+chunk, len(ids)))
		})
	}
	s.mu.Lock()
	for _, n := range names {
		s.meta.Traits[n] = true
	}
	s.mu.Unlock()
	return nil
}

// evaluateAll marks the audiences ready and evaluates them for every
// profile. Events arriving meanwhile evaluate them too: both set the
// membership to what the profile's data says at that moment.
func (s *Segments) evaluateAll(ctx context.Context, j *Job, audIDs []string, why cause) error {
	if len(audIDs) == 0 {
		return nil
	}
	var srcIDs []uint64
	if src := s.profileSource(); src != nil {
		srcIDs = src.ProfileIDs()
	}
	s.mu.Lock()
	for _, id := range audIDs {
		s.meta.Ready[id] = true
		if la := s.liveAudience(id); la != nil {
			la.ready = true
		}
	}
	// The profiles with their states, taken from the map once (see
	// list.go): looking a million up again, one by one, was a cache miss
	// each. While no state is removed (removals), the states stay right.
	all, listed := s.list.get()
	removals, made := s.removals, s.made
	if !listed {
		all = s.collectStates()
	}
	s.mu.Unlock()
	if !listed { // not under s.mu: sorting a million takes a while
		sortByID(all)
		s.mu.Lock()
		if s.removals == removals && s.made == made {
			s.list.set(all)
		}
		s.mu.Unlock()
	}
	all = withProfiles(all, srcIDs)
	s.setPhase(j, "profiles", int64(len(all)))
	part := make([]profileState, 0, chunk)
	var results []result
	stale := false
	for start := 0; start < len(all); start += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		now := s.opts.Now()
		stale = stale || s.removals != removals
		part = part[:0]
		for _, ps := range all[start:min(start+chunk, len(all))] {
			if len(s.redirects) > 0 {
				if _, merged := s.redirects[ps.id]; merged {
					continue // evaluated as its survivor
				}
			}
			if stale || ps.p == nil { // nil: a state may have been made since
				ps.p = s.states[ps.id]
			}
			part = append(part, ps)
		}
		for _, la := range s.order { // in order: readers after what they read
			if slices.Contains(audIDs, la.a.ID) {
				results = s.backfillChunk(part, results, la, now, why)
			}
		}
		j.Done = int64(min(start+chunk, len(all)))
		s.mu.Unlock()
	}
	return nil
}
