package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
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

// urgentObserver counts like countingObserver and says it is urgent while
// a profile it has not saved yet received an order.
type urgentObserver struct {
	countingObserver
	mu      sync.Mutex
	pending bool
}

func (o *urgentObserver) Observe(c *ProfileChange) {
	o.countingObserver.Observe(c)
	if c.Event != nil && c.Event.Type == "track" {
		o.mu.Lock()
		o.pending = true
		o.mu.Unlock()
	}
}

func (o *urgentObserver) Checkpoint(seq uint64) (func(context.Context) error, error) {
	o.mu.Lock()
	o.pending = false
	o.mu.Unlock()
	return o.countingObserver.Checkpoint(seq)
}

func (o *urgentObserver) Urgent() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pending
}

// TestUrgentCheckpoint: with regular checkpoints an hour apart, changes an
// observer calls urgent are saved at once (and Saved is told), while other
// changes wait for the regular checkpoint.
func TestUrgentCheckpoint(t *testing.T) {
	l, st := openLog(t, ""), openStore(t)
	o := &urgentObserver{countingObserver: countingObserver{st: st}}
	saved := make(chan uint64, 100)
	opts := ProfileOptions{CheckpointEvery: time.Hour, Observers: []ProfileObserver{o}, Saved: func(seq uint64) { saved <- seq }}
	p, stop := stages(t, l, st, opts)
	defer stop()
	page := appendMessages(t, l, `{"type":"page","anonymousId":"a1","name":"Home"}`)
	waitProfiles(t, p, page)
	order := appendMessages(t, l, `{"type":"track","anonymousId":"a1","event":"Order Completed"}`)
	waitProfiles(t, p, order)
	select {
	case seq := <-saved:
		if seq != order {
			t.Fatalf("first save at seq %d, want %d: the order's (the page alone is not urgent)", seq, order)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the urgent change was not saved: regular checkpoints are an hour apart")
	}
	if seq, _, _, err := st.ProfileCheckpoint(context.Background()); err != nil || seq != order {
		t.Errorf("stored profile checkpoint at %d (%v), want %d", seq, err, order)
	}
	more := appendMessages(t, l, `{"type":"page","anonymousId":"a1","name":"Cart"}`)
	waitProfiles(t, p, more)
	select {
	case seq := <-saved:
		t.Errorf("a save at seq %d without an urgent change, an hour before the regular checkpoint", seq)
	case <-time.After(200 * time.Millisecond):
	}
}

// recordingObserver keeps what each change said of its event, by the
// event's position (partitions may tell changes out of log order).
type recordingObserver struct {
	countingObserver
	names map[uint64]string
	times map[uint64]time.Time
}

func (o *recordingObserver) Observe(c *ProfileChange) {
	if c.Event != nil {
		o.names[c.Event.Seq], o.times[c.Event.Seq] = c.Name, c.Time
	}
}

// TestChangeNamesTheEvent: observers get the event's name and time as the
// profile read them, so they need not decode the message again.
func TestChangeNamesTheEvent(t *testing.T) {
	l, st := openLog(t, ""), openStore(t)
	o := &recordingObserver{countingObserver: countingObserver{st: st}, names: map[uint64]string{}, times: map[uint64]time.Time{}}
	p, stop := stages(t, l, st, ProfileOptions{Observers: []ProfileObserver{o}})
	last := appendMessages(t, l,
		`{"type":"track","anonymousId":"a1","event":"Order Completed","timestamp":"2026-03-01T10:00:00Z"}`,
		`{"type":"page","anonymousId":"a1","name":"Home","timestamp":"2026-03-01T10:01:00.5Z"}`,
		`{"type":"identify","anonymousId":"a1","traits":{"plan":"pro"},"timestamp":"2026-03-01T10:02:00Z"}`,
		`{"type":"track","event":"No One"}`)
	waitProfiles(t, p, last)
	stop()
	first := last - 3
	want := []struct {
		name string
		time time.Time
	}{
		{"Order Completed", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"Home", time.Date(2026, 3, 1, 10, 1, 0, 5e8, time.UTC)},
		{"", time.Date(2026, 3, 1, 10, 2, 0, 0, time.UTC)},
		{"", time.Time{}}, // no identifier: not applied
	}
	for i, w := range want {
		seq := first + uint64(i)
		if o.names[seq] != w.name || !o.times[seq].Equal(w.time) {
			t.Errorf("event %d: name %q, time %v; want %q, %v", seq, o.names[seq], o.times[seq], w.name, w.time)
		}
	}
}
