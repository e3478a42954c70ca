package segment

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
)

// Consent rides on any event (Segment's context.consent convention), so
// live it is read from every event the engine observes. What came before
// (existing data, or a log replayed with `mosaic replay`, which resets this
// engine's state) is loaded once, by the first backfill of an audience that
// reads consent: the whole log is read in order beside the stored
// timelines, which say whose each event is.

// found is the latest consent seen for one profile.
type foundConsent struct {
	consent map[string]bool
	at      time.Time
	seq     uint64
}

// loadConsent loads every profile's latest consent up to position upto.
func (s *Segments) loadConsent(ctx context.Context, j *Job, upto uint64) error {
	if err := s.awaitProfiles(ctx, upto); err != nil {
		return err
	}
	s.setPhase(j, "consent", int64(upto))
	if s.opts.Consent != nil { // the source holds every profile's consent
		s.mu.Lock()
		defer s.mu.Unlock()
		for id, p := range s.states {
			s.refreshConsent(id, p)
		}
		s.meta.Consent = true
		return nil
	}
	latest := map[uint64]foundConsent{}
	r := &logReader{src: s.events, upto: upto}
	err := s.st.TimelineSeqs(ctx, nil, upto, func(profile, seq uint64) error {
		ev, err := r.at(ctx, seq)
		if err != nil || ev == nil || !bytes.Contains(ev.Message, consentKey) {
			return err
		}
		o := readEvent(ev, "", wants{consent: true})
		if o.consent == nil {
			return nil
		}
		if old, ok := latest[profile]; !ok || newerConsent(o.at, seq, old.at, old.seq) {
			latest[profile] = foundConsent{o.consent, o.at, seq}
		}
		if seq%4096 == 0 {
			s.mu.Lock()
			j.Done = int64(seq)
			s.mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load consent: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, f := range latest {
		id = s.resolve(id)
		p := s.state(id)
		if p.Consent == nil || newerConsent(f.at, f.seq, p.ConsentAt, p.ConsentSeq) {
			p.Consent, p.ConsentAt, p.ConsentSeq = f.consent, f.at, f.seq
			s.dirty[id] = true
		}
	}
	s.meta.Consent = true
	return nil
}

// logReader reads the log forward in pages, for positions asked in
// increasing order.
type logReader struct {
	src    EventSource
	upto   uint64
	page   []mosaic.Event
	i      int
	cursor uint64
	done   bool
}

// at returns the event at seq, nil if the log no longer has it.
func (r *logReader) at(ctx context.Context, seq uint64) (*mosaic.Event, error) {
	for {
		for r.i < len(r.page) && r.page[r.i].Seq < seq {
			r.i++
		}
		if r.i < len(r.page) {
			if r.page[r.i].Seq == seq {
				return &r.page[r.i], nil
			}
			return nil, nil // not in the log any more (retention)
		}
		if r.done || r.cursor >= r.upto {
			return nil, nil
		}
		if r.cursor < seq-1 {
			r.cursor = seq - 1 // skip what no timeline entry reads
		}
		evs, next, err := r.src.Events(ctx, engine.EventQuery{After: r.cursor, Limit: engine.MaxEventsLimit})
		if err != nil {
			return nil, fmt.Errorf("read events after %d: %w", r.cursor, err)
		}
		if next <= r.cursor {
			r.done = true
		}
		r.page, r.i, r.cursor = evs, 0, next
	}
}
