package clean

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// ViolationStore keeps violation counts (store.Store has it).
type ViolationStore interface {
	AddViolations(ctx context.Context, rows []store.ViolationCount) error
	Violations(ctx context.Context, sourceID string) ([]store.ViolationCount, error)
}

// Violations aggregates violations per source, event, property and
// keyword, with a count, first and last time and one example. It
// implements ViolationRecorder, which collect calls on the request path:
// recording only adds to counts in memory, and Run moves them to the Store
// every few seconds and when it stops, so they survive restarts.
type Violations struct {
	// Store keeps the counts; nil keeps them in memory only.
	Store ViolationStore
	// Log receives failed saves (retried at the next flush).
	Log *slog.Logger
	Now func() time.Time

	flushMu sync.RWMutex // held by Flush, so Summary never sees counts in flight
	mu      sync.Mutex   // guards pending and size
	pending map[string]map[violationKey]*ViolationSummary
	size    int
}

type violationKey struct{ event, property, keyword string }

// ViolationSummary is one row of GET /api/v1/sources/{id}/violations.
type ViolationSummary struct {
	Event     string          `json:"event"`
	Property  string          `json:"property,omitempty"`
	Keyword   string          `json:"keyword"`
	Message   string          `json:"message"`
	Count     int64           `json:"count"`
	FirstSeen time.Time       `json:"first_seen"`
	LastSeen  time.Time       `json:"last_seen"`
	Example   json.RawMessage `json:"example,omitempty"`
}

// maxViolationRows bounds the memory the counts not yet saved take: past
// it, new kinds of violation wait for the next flush to be counted.
const maxViolationRows = 100000

// RecordViolations adds vs, found in the message example, to the counts.
func (a *Violations) RecordViolations(sourceID string, example []byte, vs []Violation) {
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = make(map[string]map[violationKey]*ViolationSummary)
	}
	m := a.pending[sourceID]
	if m == nil {
		m = make(map[violationKey]*ViolationSummary)
		a.pending[sourceID] = m
	}
	for _, v := range vs {
		k := violationKey{v.Event, v.Property, v.Keyword}
		s := m[k]
		if s == nil {
			if a.size >= maxViolationRows {
				continue
			}
			a.size++
			s = &ViolationSummary{Event: v.Event, Property: v.Property, Keyword: v.Keyword, FirstSeen: now,
				Example: json.RawMessage(bytes.Clone(example))}
			m[k] = s
		}
		s.Count++
		s.Message, s.LastSeen = v.Message, now
	}
}

// Flush saves the counts recorded since the last flush. On failure they
// stay, to be saved with the next. Without a Store it does nothing.
func (a *Violations) Flush(ctx context.Context) error {
	if a.Store == nil {
		return nil
	}
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	a.mu.Lock()
	pending := a.pending
	a.pending, a.size = nil, 0
	a.mu.Unlock()
	var rows []store.ViolationCount
	for src, m := range pending {
		for _, s := range m {
			rows = append(rows, store.ViolationCount{SourceID: src, Event: s.Event, Property: s.Property, Keyword: s.Keyword,
				Message: s.Message, Count: s.Count, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen, Example: s.Example})
		}
	}
	err := a.Store.AddViolations(ctx, rows)
	if err == nil || mosaic.ErrorCode(err) == mosaic.ENOTFOUND {
		return err // a source never created cannot be counted: drop, do not retry forever
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for src, m := range pending {
		for k, s := range m {
			a.merge(src, k, s)
		}
	}
	return err
}

// merge adds s back to pending, under a.mu.
func (a *Violations) merge(src string, k violationKey, s *ViolationSummary) {
	if a.pending == nil {
		a.pending = make(map[string]map[violationKey]*ViolationSummary)
	}
	m := a.pending[src]
	if m == nil {
		m = make(map[violationKey]*ViolationSummary)
		a.pending[src] = m
	}
	cur := m[k]
	if cur == nil {
		m[k] = s
		a.size++
		return
	}
	cur.Count += s.Count
	cur.FirstSeen, cur.Example = s.FirstSeen, s.Example // s was recorded first
}

// Run flushes every interval until ctx ends, then once more.
func (a *Violations) Run(ctx context.Context, interval time.Duration) error {
	log := a.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := a.Flush(ctx); err != nil {
				log.Warn("saving tracking-plan violation counts; retrying", "err", err)
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return a.Flush(fctx)
		}
	}
}

// Summary returns a source's violations by event and property, most
// frequent first, and the unplanned event names: the saved counts and
// those not saved yet.
func (a *Violations) Summary(ctx context.Context, sourceID string) (rows []ViolationSummary, unplanned []string, err error) {
	a.flushMu.RLock()
	defer a.flushMu.RUnlock()
	all := map[violationKey]*ViolationSummary{}
	if a.Store != nil {
		saved, err := a.Store.Violations(ctx, sourceID)
		if err != nil {
			return nil, nil, err
		}
		for _, v := range saved {
			all[violationKey{v.Event, v.Property, v.Keyword}] = &ViolationSummary{Event: v.Event, Property: v.Property,
				Keyword: v.Keyword, Message: v.Message, Count: v.Count, FirstSeen: v.FirstSeen, LastSeen: v.LastSeen,
				Example: json.RawMessage(v.Example)}
		}
	}
	a.mu.Lock()
	for k, s := range a.pending[sourceID] {
		cur := all[k]
		if cur == nil {
			c := *s
			all[k] = &c
			continue
		}
		cur.Count += s.Count
		cur.Message, cur.LastSeen = s.Message, s.LastSeen
	}
	a.mu.Unlock()
	rows = []ViolationSummary{}
	unplanned = []string{}
	for _, s := range all {
		if !json.Valid(s.Example) {
			s.Example = nil
		}
		rows = append(rows, *s)
		if s.Keyword == "unplanned" {
			unplanned = append(unplanned, s.Event)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].Event+rows[i].Property+rows[i].Keyword < rows[j].Event+rows[j].Property+rows[j].Keyword
	})
	sort.Strings(unplanned)
	return rows, unplanned, nil
}
