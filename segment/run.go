package segment

import (
	"context"
	"time"
)

// Run fires timers at their moments and saves what they change, and
// finishes backfills interrupted by a restart, until ctx ends. Start it
// with the profile stage; it waits for the stage to Load it.
func (s *Segments) Run(ctx context.Context) error {
	select {
	case <-s.loaded:
	case <-ctx.Done():
		return nil
	}
	s.profilesMu.Lock()
	s.runCtx = ctx
	s.profilesMu.Unlock()
	s.resumeJobs(ctx)
	var unsaved time.Time // when timers first changed something unsaved
	for {
		s.mu.Lock()
		next := s.timers.next()
		s.mu.Unlock()
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(s.opts.Now()), 0)
		}
		if !unsaved.IsZero() {
			wait = min(wait, max(s.opts.SaveEvery-time.Since(unsaved), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
		if s.Tick(s.opts.Now()) > 0 && unsaved.IsZero() {
			unsaved = time.Now()
		}
		if !unsaved.IsZero() && time.Since(unsaved) >= s.opts.SaveEvery {
			s.saveOwn(ctx)
			unsaved = time.Time{}
		}
	}
}

// resumeJobs starts the backfill of every definition that is not live.
func (s *Segments) resumeJobs(ctx context.Context) {
	s.mu.Lock()
	var ids []string
	for id := range s.computed {
		if !s.meta.Ready[id] {
			ids = append(ids, id)
		}
	}
	for _, la := range s.order {
		// Audiences made live before consent was loaded from the history
		// are backfilled again, once, with it.
		if !s.meta.Ready[la.a.ID] || la.consent && !s.meta.Consent {
			ids = append(ids, la.a.ID)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.startJob(ctx, id, cause{Kind: "backfill"})
	}
}
