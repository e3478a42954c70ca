package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// stages runs the dedupe and profile stages over log and st until stop is
// called; stop waits for both and returns the profile stage.
func stages(t *testing.T, l *eventlog.Log, st *sqlite.DB, opts ProfileOptions) (*Profiles, func()) {
	t.Helper()
	e := New(l, st, Options{})
	p, err := NewProfiles(e, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- e.Run(ctx) }()
	go func() { done <- p.Run(ctx) }()
	return p, func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("stage: %v", err)
			}
		}
	}
}

// appendMessages appends Segment messages (JSON) from one source.
func appendMessages(t *testing.T, l *eventlog.Log, msgs ...string) uint64 {
	t.Helper()
	recs := make([][]byte, len(msgs))
	for i, m := range msgs {
		var head struct{ Type string }
		if err := json.Unmarshal([]byte(m), &head); err != nil {
			t.Fatal(err)
		}
		ev := mosaic.Event{SourceID: "web", MessageID: fmt.Sprintf("m%d-%d", time.Now().UnixNano(), i), Type: head.Type,
			ReceivedAt: base.Add(time.Duration(i) * time.Second), Message: []byte(m)}
		recs[i], _ = ev.MarshalBinary()
	}
	first, err := l.Append(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	return first + uint64(len(msgs)) - 1
}

func waitProfiles(t *testing.T, p *Profiles, seq uint64) {
	t.Helper()
	// Generous: under the race detector on a loaded machine a few thousand
	// events can take many seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := p.WaitProcessed(ctx, seq); err != nil {
		t.Fatalf("profiles did not reach seq %d (at %d)", seq, p.Processed())
	}
}

// TestProfilesRestartAppliesOnce stops the stages at several points, with
// and without a graph snapshot in between, and checks that every event is
// applied exactly once and the merges survive.
func TestProfilesRestartAppliesOnce(t *testing.T) {
	for _, snapshot := range []time.Duration{time.Nanosecond, time.Hour} {
		t.Run(fmt.Sprintf("snapshot every %s", snapshot), func(t *testing.T) {
			l, st := openLog(t, ""), openStore(t)
			opts := ProfileOptions{SnapshotEvery: snapshot, CheckpointEvery: 10 * time.Millisecond}
			total := 0
			for round := range 4 {
				p, stop := stages(t, l, st, opts)
				last := appendMessages(t, l,
					fmt.Sprintf(`{"type":"page","anonymousId":"a%d","name":"Home"}`, round),
					fmt.Sprintf(`{"type":"identify","anonymousId":"a%d","userId":"u1","traits":{"round":%d}}`, round, round),
					`{"type":"track","userId":"u1","event":"Order Completed"}`)
				total += 3
				waitProfiles(t, p, last)
				time.Sleep(30 * time.Millisecond) // let a checkpoint happen in some rounds
				stop()
			}
			p, stop := stages(t, l, st, opts)
			defer stop()
			waitProfiles(t, p, l.LastSeq())
			v, err := p.Profile("user_id:u1")
			if err != nil {
				t.Fatal(err)
			}
			if v.EventCounts.Total != int64(total) {
				t.Errorf("events on the profile = %d, want %d (each once)", v.EventCounts.Total, total)
			}
			for round := range 4 {
				if id, err := p.Find(fmt.Sprintf("anonymous_id:a%d", round)); err != nil || id != v.ID {
					t.Errorf("anonymous_id:a%d = %v %v, want merged into %s", round, id, err, v.ID)
				}
			}
			if string(v.Traits["round"]) != "3" {
				t.Errorf("trait round = %s, want the newest, 3", v.Traits["round"])
			}
		})
	}
}

// blockingSaves is a profile store whose saves wait until released.
type blockingSaves struct {
	store.ProfileStore
	started chan struct{}
	release chan struct{}
}

func (b *blockingSaves) SaveProfiles(ctx context.Context, c *store.ProfileCommit) error {
	b.started <- struct{}{}
	<-b.release
	return b.ProfileStore.SaveProfiles(ctx, c)
}

// TestTimelineWhileMergeSaves reads a timeline while a save holding the
// events of two profiles is in flight and one has absorbed the other
// since: the absorbed profile's events, no longer pending and not stored
// yet, are shown with the survivor's.
func TestTimelineWhileMergeSaves(t *testing.T) {
	l, st := openLog(t, ""), openStore(t)
	bs := &blockingSaves{ProfileStore: st, started: make(chan struct{}, 10), release: make(chan struct{})}
	e := New(l, st, Options{})
	p, err := NewProfiles(e, bs, ProfileOptions{CheckpointEvery: time.Second, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- e.Run(ctx) }()
	go func() { done <- p.Run(ctx) }()
	defer func() {
		close(bs.release)
		cancel()
		<-done
		<-done
	}()
	last := appendMessages(t, l,
		`{"type":"page","anonymousId":"a1","name":"One"}`,
		`{"type":"page","anonymousId":"a2","name":"Two"}`,
		`{"type":"page","anonymousId":"a3","name":"Three"}`)
	waitProfiles(t, p, last)
	<-bs.started // the save of the three pages is in flight, and stays so
	last = appendMessages(t, l,
		`{"type":"identify","anonymousId":"a1","userId":"u1"}`,
		`{"type":"identify","anonymousId":"a2","userId":"u1"}`,
		`{"type":"identify","anonymousId":"a3","userId":"u1"}`)
	waitProfiles(t, p, last)
	rows, err := p.Timeline(context.Background(), "user_id:u1", time.Time{}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Errorf("timeline of u1 during the save = %d rows, want all 6 events: %+v", len(rows), rows)
	}
}

// TestProfileMetrics checks the stage's position and lag as scraped: at
// the end of the log once it caught up, and behind by what was appended
// after it stopped.
func TestProfileMetrics(t *testing.T) {
	l, st := openLog(t, ""), openStore(t)
	reg := prometheus.NewRegistry()
	p, stop := stages(t, l, st, ProfileOptions{Registerer: reg})
	last := appendMessages(t, l,
		`{"type":"page","anonymousId":"a1","name":"Home"}`,
		`{"type":"identify","anonymousId":"a1","userId":"u1"}`)
	waitProfiles(t, p, last)
	if got := metric(t, reg, "mosaic_profiles_processed_seq"); got != float64(last) {
		t.Errorf("mosaic_profiles_processed_seq = %v once caught up, want %d", got, last)
	}
	if got := metric(t, reg, "mosaic_profiles_lag_records"); got != 0 {
		t.Errorf("mosaic_profiles_lag_records = %v once caught up, want 0", got)
	}
	stop()
	appendMessages(t, l, `{"type":"track","userId":"u1","event":"Order Completed"}`, `{"type":"track","userId":"u1","event":"Signed Out"}`)
	if got := metric(t, reg, "mosaic_profiles_lag_records"); got != 2 {
		t.Errorf("mosaic_profiles_lag_records = %v with two events appended after the stage stopped, want 2", got)
	}
}
