package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/synth"
)

// appendJourneys appends the synthetic journeys of people to l.
func appendJourneys(t testing.TB, l *eventlog.Log, people int, seed int64) {
	t.Helper()
	g := synth.New(synth.Options{People: people, Seed: seed})
	var recs [][]byte
	for {
		m, ok := g.NextMessage()
		if !ok {
			break
		}
		ev := mosaic.Event{SourceID: "web", MessageID: m.MessageID, Type: m.Type, ReceivedAt: m.Arrival, Message: m.JSON}
		r, _ := ev.MarshalBinary()
		recs = append(recs, r)
	}
	if _, err := l.Append(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// profileViews returns every profile the stage holds, by ID, with its
// newest timeline entries as the API would show them.
func profileViews(t *testing.T, p *Profiles) map[string]any {
	t.Helper()
	out := map[string]any{}
	for id := range p.graph().Profiles() {
		v, err := p.Profile(id.String())
		if err != nil {
			t.Fatal(err)
		}
		tl, err := p.Timeline(context.Background(), id.String(), time.Time{}, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		out[id.String()] = struct {
			V  *ProfileView
			TL any
		}{v, tl}
	}
	return out
}

// TestPartitionsFoldAsOne checks that folding in several partitions, with
// merges across them, checkpoints and restarts in between, gives exactly
// the profiles (state and timeline) that one partition gives.
func TestPartitionsFoldAsOne(t *testing.T) {
	l := openLog(t, "")
	appendJourneys(t, l, 800, 3)
	var want map[string]any
	for _, parts := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprintf("%d partitions", parts), func(t *testing.T) {
			st := openStore(t)
			opts := ProfileOptions{Partitions: parts, CheckpointEvery: time.Millisecond}
			p, stop := stages(t, l, st, opts)
			waitProfiles(t, p, l.LastSeq()/2)
			stop()
			p, stop = stages(t, l, st, opts) // restart halfway
			waitProfiles(t, p, l.LastSeq())
			stop()
			got := profileViews(t, p)
			if want == nil {
				want = got
				if len(want) < 500 {
					t.Fatalf("%d profiles from 800 people; the journeys should give more", len(want))
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("profiles differ from one partition's (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReapPublishesInOrder checks that the position of a folded page is
// published only once every page before it is folded too, and that reap
// waits for the oldest pages when more than keep are still folding.
func TestReapPublishesInOrder(t *testing.T) {
	page := func(upto uint64) *foldPage { return &foldPage{upto: upto, done: make(chan struct{})} }
	p := &Profiles{advanced: make(chan struct{})}
	a, b, c := page(10), page(20), page(30)
	p.pages = []*foldPage{a, b, c}

	close(b.done)
	p.reap(3)
	if got := p.Processed(); got != 0 {
		t.Fatalf("published %d while the first page was still folding", got)
	}
	close(a.done)
	p.reap(3)
	if got, left := p.Processed(), len(p.pages); got != 20 || left != 1 {
		t.Fatalf("after the first two pages: published %d with %d pages left, want 20 and 1", got, left)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		close(c.done)
	}()
	p.reap(0) // must wait for c
	if got, left := p.Processed(), len(p.pages); got != 30 || left != 0 {
		t.Fatalf("reap(0): published %d with %d pages left, want 30 and 0", got, left)
	}
}
