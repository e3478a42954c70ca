package activate

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
)

// eventList is an EventSource over events in memory, seq 1..n, all
// processed; it counts the pages read.
type eventList struct {
	evs   []mosaic.Event
	reads atomic.Int64
}

func newEventList(n int) *eventList {
	l := &eventList{}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		msg := fmt.Sprintf(`{"type":"track","event":"Order Completed","userId":"u%d","timestamp":"2026-01-01T00:00:00Z","properties":{"revenue":%d}}`, i%7, i)
		l.evs = append(l.evs, mosaic.Event{Seq: uint64(i + 1), Type: mosaic.TypeTrack, SourceID: "web", MessageID: fmt.Sprint("m", i),
			ReceivedAt: at, Message: []byte(msg)})
	}
	return l
}

func (l *eventList) Events(_ context.Context, q engine.EventQuery) ([]mosaic.Event, uint64, error) {
	l.reads.Add(1)
	limit := min(q.Limit, engine.MaxEventsLimit)
	from := min(int(q.After), len(l.evs))
	to := min(from+limit, len(l.evs))
	if to == from {
		return nil, q.After, nil
	}
	return l.evs[from:to], uint64(to), nil
}

func (l *eventList) Processed() uint64 { return uint64(len(l.evs)) }

func (l *eventList) WaitProcessed(ctx context.Context, seq uint64) error {
	if seq <= l.Processed() {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestForwarderPages(t *testing.T) {
	cases := []struct {
		name     string
		skipIdle bool
		dest     bool // a destination takes every event
		// destAfter creates the destination after this many pages.
		destAfter  int
		wantReads  bool
		wantQueued int
	}{
		{name: "no destination, skipping idle", skipIdle: true},
		{name: "no destination, recording consent", skipIdle: false, wantReads: true},
		{name: "a destination", skipIdle: true, dest: true, wantReads: true, wantQueued: 2500},
		{name: "a destination created after the first page", skipIdle: true, dest: true, destAfter: 1, wantReads: true, wantQueued: 1500},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := openStore(t)
			svc := New(st, Options{HTTP: loopbackClient(), Consent: allowAll{}})
			src := newEventList(2500)
			f := NewForwarder(src, st, svc, ForwardOptions{SkipIdle: tc.skipIdle})
			var dest *View
			cursor, pages := uint64(0), 0
			for {
				if tc.dest && pages == tc.destAfter && dest == nil {
					v, err := svc.Create(ctx, Input{Name: "hook", Type: "webhook", Settings: map[string]any{"url": "http://127.0.0.1:9/hook"},
						Purposes: []string{"marketing"}, Events: &EventFilter{}})
					if err != nil {
						t.Fatalf("Create = %v", err)
					}
					dest = v
				}
				next, err := f.page(ctx, cursor)
				if err != nil {
					t.Fatalf("page(%d) = %v", cursor, err)
				}
				if next == cursor {
					break
				}
				if next-cursor > engine.MaxEventsLimit {
					t.Errorf("page(%d) moved to %d, more than a page", cursor, next)
				}
				cursor, pages = next, pages+1
			}
			if saved, err := st.ForwardCursor(ctx); err != nil || saved != 2500 {
				t.Errorf("ForwardCursor() = %d, %v, want 2500", saved, err)
			}
			if got := src.reads.Load() > 0; got != tc.wantReads {
				t.Errorf("events read = %v (%d pages), want %v", got, src.reads.Load(), tc.wantReads)
			}
			queued := 0
			if dest != nil {
				ds, err := st.Deliveries(ctx, dest.ID, "", 0, 10000)
				if err != nil {
					t.Fatal(err)
				}
				queued = len(ds)
			}
			if queued != tc.wantQueued {
				t.Errorf("messages queued = %d, want %d", queued, tc.wantQueued)
			}
		})
	}
}
