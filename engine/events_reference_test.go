package engine

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/eventlog"
)

// eventsReference is Events as it was when it read the log with Read,
// which copies every record: Events must return the same pages.
func (e *Engine) eventsReference(ctx context.Context, q EventQuery) (events []mosaic.Event, next uint64, err error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultEventsLimit
	}
	limit = min(limit, MaxEventsLimit)
	upto := e.Processed()
	next = q.After
	for scanned := 0; len(events) < limit && next < upto && scanned < MaxEventsScan; {
		want := MaxEventsScan - scanned
		if q.SourceID == "" {
			want = limit - len(events)
		}
		recs, err := e.log.Read(next, min(want, readBatch), readBytes)
		if err != nil {
			return nil, 0, fmt.Errorf("engine: read events after seq %d: %w", next, err)
		}
		recs = recordsUpTo(recs, upto)
		if len(recs) == 0 {
			break
		}
		dups, err := e.duplicates(ctx, next, recs[len(recs)-1].Seq)
		if err != nil {
			return nil, 0, err
		}
		for _, r := range recs {
			scanned++
			next = r.Seq
			if ev, ok := e.visible(r, dups, q); ok {
				if e.opts.Enrich != nil && !q.Plain && len(ev.Message) > 0 {
					if msg, ok := e.opts.Enrich(nil, &ev); ok {
						ev.Message = msg
					}
				}
				events = append(events, ev)
				if len(events) == limit {
					break
				}
			}
		}
	}
	return events, next, nil
}

// recordsUpTo returns the prefix of recs with Seq <= upto.
func recordsUpTo(recs []eventlog.Record, upto uint64) []eventlog.Record {
	n, _ := slices.BinarySearchFunc(recs, upto+1, func(r eventlog.Record, seq uint64) int {
		switch {
		case r.Seq < seq:
			return -1
		case r.Seq > seq:
			return 1
		}
		return 0
	})
	return recs[:n]
}

// eventsPageResult is one page of Events.
type eventsPageResult struct {
	Events []mosaic.Event
	Next   uint64
	Err    string
}

// TestEventsMatchesReference pages through a log of several sources,
// duplicates, system records, records that are not events, messages large
// enough to end batches on their bytes and records removed by retention,
// with Events and with the reference, and compares every page. The pages
// are compared once all are read: a message still aliasing a buffer of the
// log would have been overwritten by then.
func TestEventsMatchesReference(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := eventlog.Open(dir, eventlog.Options{SegmentSize: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	st := openStore(t)
	appendReferenceRecords(t, l, 0, 400)
	if _, err := l.RemoveBefore(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	appendReferenceRecords(t, l, 400, 3000)
	e := start(t, New(l, st, Options{Enrich: enrichTagged})).Engine
	catchUp(t, e, l)
	if l.FirstSeq() <= 1 {
		t.Fatalf("FirstSeq() = %d after RemoveBefore, want records removed", l.FirstSeq())
	}
	for _, src := range []string{"", "src_a", "src_rare"} {
		for _, limit := range []int{0, 1, 7, 1000, 5000} {
			for _, flags := range []struct{ system, plain bool }{{false, false}, {true, false}, {false, true}} {
				q := EventQuery{SourceID: src, Limit: limit, System: flags.system, Plain: flags.plain}
				t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
					got := pageAll(t, e.Events, q)
					want := pageAll(t, e.eventsReference, q)
					if len(got) != len(want) {
						t.Errorf("Events(%+v): %d pages, reference %d", q, len(got), len(want))
					}
					for i := range min(len(got), len(want)) {
						if !reflect.DeepEqual(got[i], want[i]) {
							t.Fatalf("Events(%+v) page %d mismatch (-reference +got):\n%s", q, i, cmp.Diff(want[i], got[i]))
						}
					}
				})
			}
		}
	}
}

// enrichTagged enriches the messages that ask for it in the reference log,
// some by more than the room Events leaves for enrichment.
func enrichTagged(dst []byte, ev *mosaic.Event) ([]byte, bool) {
	if !bytes.Contains(ev.Message, []byte(`"enrich"`)) {
		return dst, false
	}
	dst = append(dst, bytes.TrimSuffix(ev.Message, []byte("}"))...)
	if ev.Seq%3 == 0 {
		dst = append(dst, `,"more":"`...)
		dst = append(dst, strings.Repeat("y", int(ev.Seq%7)*enrichRoom/2)...)
		dst = append(dst, '"')
	}
	return append(dst, `,"enriched":true}`...), true
}

// pageAll pages through events with q from each of a few starting points,
// until next stops moving or for 50 pages: small pages from every point
// would take long and find nothing more.
func pageAll(t *testing.T, events func(context.Context, EventQuery) ([]mosaic.Event, uint64, error), q EventQuery) []eventsPageResult {
	t.Helper()
	var out []eventsPageResult
	for _, after := range []uint64{0, 5, 401, 1234, 2999, 3000, 9999} {
		q.After = after
		for pages := 0; ; pages++ {
			evs, next, err := events(context.Background(), q)
			p := eventsPageResult{Events: evs, Next: next}
			if err != nil {
				p.Err = err.Error()
			}
			out = append(out, p)
			if err != nil || next == q.After || pages == 50 {
				break
			}
			q.After = next
		}
	}
	return out
}

// appendReferenceRecords appends the records from..to of the reference
// log, in groups of varied sizes.
func appendReferenceRecords(t *testing.T, l *eventlog.Log, from, to int) {
	t.Helper()
	for i := from; i < to; {
		n := min(1+i%97, to-i)
		recs := make([][]byte, n)
		for j := range recs {
			recs[j] = referenceRecord(t, i+j)
		}
		if _, err := l.Append(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		i += n
	}
}

// referenceRecord is record i of the reference log.
func referenceRecord(t *testing.T, i int) []byte {
	if i%211 == 7 {
		return []byte("not an event")
	}
	src := []string{"src_a", "src_b", "src_c"}[i%3]
	if i%17 == 0 {
		src = mosaic.SystemSourceID
	}
	if i%1009 == 500 {
		src = "src_rare"
	}
	id := fmt.Sprintf("m%d", i)
	if i%13 == 0 {
		id = fmt.Sprintf("m%d", i-3) // a duplicate, when the source matches
	}
	extra := ""
	if i%5 == 0 {
		extra = `,"enrich":true`
	}
	if i >= 1500 && i < 1600 {
		extra += `,"padding":"` + strings.Repeat("x", 60<<10) + `"`
	}
	ev := mosaic.Event{
		SourceID:   src,
		MessageID:  id,
		Type:       mosaic.TypeTrack,
		ReceivedAt: base.Add(time.Duration(i) * time.Second),
		Message:    fmt.Appendf(nil, `{"messageId":%q,"type":"track","event":"E%d"%s}`, id, i, extra),
	}
	b, err := ev.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
