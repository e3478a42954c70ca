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
