package collect

import (
	"context"
	"sync"
	"testing"

	"github.com/mosaic-cdp/mosaic"
)

// memLog is an Appender that keeps records in memory, in order, and can be
// told to fail or to hold appends until released.
type memLog struct {
	mu      sync.Mutex
	records [][]byte
	fail    error         // returned by Append while set
	gate    chan struct{} // if set, Append waits until it is closed
	entered chan struct{} // if set, Append signals here on entry
}

func (l *memLog) Append(ctx context.Context, records [][]byte) (uint64, error) {
	if l.entered != nil {
		l.entered <- struct{}{}
	}
	if l.gate != nil {
		select {
		case <-l.gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return 0, l.fail
	}
	first := uint64(len(l.records)) + 1
	for _, r := range records {
		l.records = append(l.records, append([]byte(nil), r...)) // the handler reuses r
	}
	return first, nil
}

func (l *memLog) setFail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = err
}

// events decodes every stored record.
func (l *memLog) events(t *testing.T) []mosaic.Event {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := make([]mosaic.Event, len(l.records))
	for i, r := range l.records {
		if err := evs[i].UnmarshalBinary(r); err != nil {
			t.Fatalf("record %d does not decode: %v", i, err)
		}
		evs[i].Seq = uint64(i) + 1
	}
	return evs
}

// memSources is a Sources with real state: sources can be added and
// deleted, and lookups are counted.
type memSources struct {
	mu      sync.Mutex
	byKey   map[string]*mosaic.Source
	lookups int
	fail    error
}

func newMemSources(srcs ...*mosaic.Source) *memSources {
	s := &memSources{byKey: make(map[string]*mosaic.Source)}
	for _, src := range srcs {
		s.byKey[src.WriteKey] = src
	}
	return s
}

func (s *memSources) SourceByWriteKey(_ context.Context, key string) (*mosaic.Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	if s.fail != nil {
		return nil, s.fail
	}
	if src, ok := s.byKey[key]; ok {
		return src, nil
	}
	return nil, mosaic.Errorf(mosaic.ENOTFOUND, "no source with write key %q", key)
}

func (s *memSources) add(src *mosaic.Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byKey[src.WriteKey] = src
}

func (s *memSources) delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byKey, key)
}

func (s *memSources) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups
}

// memQuarantine is a Quarantine that keeps what it is given.
type memQuarantine struct {
	mu       sync.Mutex
	rejected []*mosaic.Rejected
	fail     error
}

func (q *memQuarantine) AddRejected(_ context.Context, r []*mosaic.Rejected) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.rejected = append(q.rejected, r...)
	return nil
}

func (q *memQuarantine) all() []*mosaic.Rejected {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]*mosaic.Rejected(nil), q.rejected...)
}
