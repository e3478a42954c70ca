package main

import (
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic/synth"
)

// maxBatchBytes keeps a batch of journey messages, which are up to a few
// kilobytes each, under the Tracking API's 500 KiB body limit.
const maxBatchBytes = 400 << 10

// journeySource hands the messages of synthetic customer journeys (see
// package synth) to the workers, in the order the generator makes them,
// for 'mosaic-load run -journeys'.
type journeySource struct {
	mu   sync.Mutex
	gen  *synth.Generator
	done bool
}

// newJourneySource generates the journeys cfg asks for, with the other
// options at their defaults.
func newJourneySource(cfg *RunConfig) *journeySource {
	o := synth.DefaultOptions()
	o.People, o.EventsPerPerson, o.Seed = cfg.Journeys, cfg.PerPerson, cfg.Seed
	return &journeySource{gen: synth.New(o)}
}

// take appends up to n messages to dst, separated by commas and stopping
// early before a batch grows past maxBatchBytes, and their messageIds to
// ids. It returns the type of the last message, "" if none was left.
func (s *journeySource) take(dst []byte, n int, ids []string) ([]byte, []string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start, kind := len(dst), ""
	for i := 0; i < n && len(dst)-start < maxBatchBytes; i++ {
		m, ok := s.gen.NextMessage()
		if !ok {
			s.done = true
			break
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, m.JSON...)
		ids, kind = append(ids, m.MessageID), m.Type
	}
	return dst, ids, kind
}

// complete reports whether every message has been taken.
func (s *journeySource) complete() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// buildJourneys fills w.body and w.ids with the next journey messages and
// returns the path to post them to; false when all have been sent. The
// messages keep their own sentAt, so the server's clock-skew correction
// moves each to the time of sending while keeping how late it is.
func (w *worker) buildJourneys() (string, bool) {
	w.body, w.ids = w.body[:0], w.ids[:0]
	if w.r.cfg.Mode == "track" {
		var kind string
		w.body, w.ids, kind = w.r.journeys.take(w.body, 1, w.ids)
		return "/v1/" + kind, len(w.ids) > 0
	}
	w.body = append(w.body, `{"batch":[`...)
	w.body, w.ids, _ = w.r.journeys.take(w.body, w.r.cfg.Batch, w.ids)
	w.body = append(append(append(w.body, `],"sentAt":"`...), formatTime(time.Now())...), `"}`...)
	return "/v1/batch", len(w.ids) > 0
}
