package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// countingObserver counts events per profile, following merges, and keeps
// its counts in a store setting: the smallest observer with durable state.
type countingObserver struct {
	st store.Store

	loaded uint64
	counts map[uint64]int
	seen   map[uint64][]uint64 // sequence numbers observed since Load, per profile
}

const countsKey = "test.observer.counts"

type countsState struct {
	Seq    uint64         `json:"seq"`
	Counts map[uint64]int `json:"counts"`
}

func (o *countingObserver) Load(ctx context.Context) (uint64, error) {
	o.counts, o.seen = map[uint64]int{}, map[uint64][]uint64{}
	v, err := o.st.Setting(ctx, countsKey)
	if mosaic.ErrorCode(err) == mosaic.ENOTFOUND {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var s countsState
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return 0, err
	}
	o.loaded, o.counts = s.Seq, s.Counts
	return s.Seq, nil
}

func (o *countingObserver) Observe(c *ProfileChange) {
	if c.Seq <= o.loaded {
		return
	}
	for _, id := range c.Removed {
		delete(o.counts, id)
	}
	if c.Event == nil {
		return
	}
	if !c.Rebuild {
		o.seen[c.Profile] = append(o.seen[c.Profile], c.Seq)
	}
	for _, m := range c.Merges {
		o.counts[m.Survivor] += o.counts[m.Absorbed]
		delete(o.counts, m.Absorbed)
	}
	if c.Profile != 0 {
		if c.State == nil || c.State.ID != c.Profile {
			panic(fmt.Sprintf("change at seq %d: state %v for profile %d", c.Seq, c.State, c.Profile))
		}
		o.counts[c.Profile]++
	}
}

func (o *countingObserver) Checkpoint(seq uint64) (func(context.Context) error, error) {
	data, err := json.Marshal(countsState{Seq: seq, Counts: maps.Clone(o.counts)})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return o.st.PutSetting(ctx, countsKey, string(data)) }, nil
}

// TestObserverSeesEachEventOnce restarts the stages several times, with and
// without graph snapshots, and checks that an observer with durable state
// counts every event exactly once, in log order per profile, after the
// merges.
func TestObserverSeesEachEventOnce(t *testing.T) {
	for _, snapshot := range []time.Duration{time.Nanosecond, time.Hour} {
		t.Run(fmt.Sprintf("snapshot every %s", snapshot), func(t *testing.T) {
			l, st := openLog(t, ""), openStore(t)
			total := 0
			for round := range 4 {
				o := &countingObserver{st: st}
				opts := ProfileOptions{SnapshotEvery: snapshot, CheckpointEvery: 10 * time.Millisecond, Observers: []ProfileObserver{o}}
				p, stop := stages(t, l, st, opts)
				last := appendMessages(t, l,
					fmt.Sprintf(`{"type":"page","anonymousId":"a%d","name":"Home"}`, round),
					fmt.Sprintf(`{"type":"identify","anonymousId":"a%d","userId":"u1"}`, round),
					`{"type":"track","userId":"u1","event":"Order Completed"}`)
				total += 3
				waitProfiles(t, p, last)
				time.Sleep(time.Duration(round) * 10 * time.Millisecond) // checkpoints in some rounds only
				stop()
				for id, seen := range o.seen {
					for i := 1; i < len(seen); i++ {
						if seen[i] <= seen[i-1] {
							t.Fatalf("round %d: profile %d: observed seq %d after %d", round, id, seen[i], seen[i-1])
						}
					}
				}
				if seq, _, _, err := st.ProfileCheckpoint(context.Background()); err != nil {
					t.Fatal(err)
				} else if saved, err := o.Load(context.Background()); err != nil || saved < seq {
					t.Fatalf("round %d: observer saved at seq %d (%v), profiles at %d: the observer must never be behind", round, saved, err, seq)
				}
			}
			o := &countingObserver{st: st}
			p, stop := stages(t, l, st, ProfileOptions{Observers: []ProfileObserver{o}})
			waitProfiles(t, p, l.LastSeq())
			stop()
			o.Load(context.Background())
			v, err := p.Profile("user_id:u1")
			if err != nil {
				t.Fatal(err)
			}
			if got := o.counts[uint64(v.ID)]; got != total || len(o.counts) != 1 {
				t.Errorf("observer counts = %v, want %d events on %s only (each once)", o.counts, total, v.ID)
			}
		})
	}
}
