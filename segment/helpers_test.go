package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
)

// clock is a controllable clock: time moves only when a test says so,
// unless it is real (benchmarks of what happens in real time).
type clock struct {
	mu   sync.Mutex
	now  time.Time
	real bool
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real {
		return time.Now()
	}
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// env is the real pipeline: event log, dedupe and profile stages, SQLite,
// and the segment engine as the profile stage's observer.
type env struct {
	t     testing.TB
	dir   string
	log   *eventlog.Log
	st    *sqlite.DB
	clock *clock
	seg   *Segments
	prof  *engine.Profiles
	stop  func()
	ctx   context.Context
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	l, err := eventlog.Open(filepath.Join(dir, "log"), eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mosaic.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, log: l, st: st, clock: &clock{now: t0}}
	t.Cleanup(func() {
		if e.stop != nil {
			e.stop()
		}
		st.Close()
		l.Close()
	})
	e.start()
	return e
}

// start runs the stages with a new segment engine, as a restart does.
func (e *env) start() {
	e.t.Helper()
	de := engine.New(e.log, e.st, engine.Options{})
	e.seg = New(e.st, de, Options{Now: e.clock.Now})
	p, err := engine.NewProfiles(de, e.st, engine.ProfileOptions{CheckpointEvery: 10 * time.Millisecond, Append: e.log.Append, Observers: []engine.ProfileObserver{e.seg}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.seg.Attach(p)
	e.prof = p
	ctx, cancel := context.WithCancel(context.Background())
	e.ctx = ctx
	done := make(chan error, 2)
	go func() { done <- de.Run(ctx) }()
	go func() { done <- p.Run(ctx) }()
	e.stop = func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				e.t.Errorf("stage: %v", err)
			}
		}
		e.stop = nil
	}
}

func (e *env) restart() {
	e.stop()
	e.start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.prof.WaitProcessed(ctx, e.log.LastSeq()); err != nil {
		e.t.Fatalf("profiles did not catch up after a restart: %v", err)
	}
}

var msgCounter atomic.Int64

// send appends Segment messages and waits until the profiles reflect them.
func (e *env) send(msgs ...string) {
	e.t.Helper()
	recs := make([][]byte, len(msgs))
	for i, m := range msgs {
		var head struct{ Type string }
		if err := json.Unmarshal([]byte(m), &head); err != nil {
			e.t.Fatalf("bad test message %s: %v", m, err)
		}
		ev := mosaic.Event{SourceID: "web", MessageID: fmt.Sprintf("m%d", msgCounter.Add(1)), Type: head.Type,
			ReceivedAt: e.clock.Now(), Message: []byte(m)}
		recs[i], _ = ev.MarshalBinary()
	}
	first, err := e.log.Append(context.Background(), recs)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.prof.WaitProcessed(ctx, first+uint64(len(msgs))-1); err != nil {
		e.t.Fatalf("profiles did not catch up: %v", err)
	}
}

// order is a track call at t for user u.
func order(u string, at time.Time, props string) string {
	if props == "" {
		props = "{}"
	}
	return fmt.Sprintf(`{"type":"track","userId":%q,"event":"Order Completed","timestamp":%q,"properties":%s}`, u, at.Format(time.RFC3339Nano), props)
}

func identify(u string, at time.Time, traits string) string {
	return fmt.Sprintf(`{"type":"identify","userId":%q,"timestamp":%q,"traits":%s}`, u, at.Format(time.RFC3339Nano), traits)
}

// waitLive waits until a definition's backfill is done.
func (e *env) waitLive(id string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		e.seg.mu.Lock()
		j := e.seg.jobs[id]
		state, msg := "", ""
		if j != nil {
			state, msg = j.State, j.Error
		}
		e.seg.mu.Unlock()
		switch state {
		case "done":
			return
		case "failed":
			e.t.Fatalf("backfill of %s failed: %s", id, msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("backfill of %s did not finish", id)
}

func (e *env) audience(key, cond string) *Audience {
	e.t.Helper()
	raw, _ := json.Marshal(cond)
	a, err := e.seg.CreateAudience(context.Background(), &AudienceSpec{Key: key, Condition: raw})
	if err != nil {
		e.t.Fatalf("CreateAudience(%s, %s) = %v", key, cond, err)
	}
	e.waitLive(a.ID)
	return a
}

func (e *env) computed(sp ComputedTraitSpec) *ComputedTrait {
	e.t.Helper()
	ct, err := e.seg.CreateComputedTrait(context.Background(), &sp)
	if err != nil {
		e.t.Fatalf("CreateComputedTrait(%+v) = %v", sp, err)
	}
	e.waitLive(ct.ID)
	return ct
}

// pid returns the profile ID of user u.
func (e *env) pid(u string) uint64 {
	e.t.Helper()
	id, err := e.prof.Find("user_id:" + u)
	if err != nil {
		e.t.Fatalf("Find(%s) = %v", u, err)
	}
	return uint64(id)
}

func (e *env) member(aud string, u string) bool {
	e.t.Helper()
	for _, m := range e.seg.ProfileAudiences(e.pid(u)) {
		if m.Key == aud {
			return true
		}
	}
	return false
}

// members returns the users of an audience, by the user IDs given.
func (e *env) members(aud string, users ...string) []string {
	e.t.Helper()
	var in []string
	for _, u := range users {
		if e.member(aud, u) {
			in = append(in, u)
		}
	}
	return in
}
