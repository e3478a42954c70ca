package dedupe

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic/store"
	"pgregory.net/rapid"
)

// model is the naive reference: one map from key to the bucket it was
// recorded in, no generations, no expiry, no sealing.
type model struct {
	width, buckets int64
	rec            map[Key]int64
	clock          int64
	started        bool
}

func newModel(o Options) *model {
	return &model{width: int64(o.Window) / int64(o.Buckets), buckets: int64(o.Buckets), rec: map[Key]int64{}}
}

func (m *model) bucket(t int64) int64 {
	if t < 0 && t%m.width != 0 {
		return t/m.width - 1
	}
	return t / m.width
}

func (m *model) seen(k Key, t int64) bool {
	now := m.bucket(t)
	if m.started {
		now = max(now, m.bucket(m.clock))
	}
	if r, ok := m.rec[k]; ok && r >= now-m.buckets {
		return true
	}
	if !m.started || t > m.clock {
		m.clock, m.started = t, true
	}
	m.rec[k] = m.bucket(m.clock)
	return false
}

type event struct {
	key Key
	at  time.Time
}

// genEvents draws messages from a small pool, so repeats are common, at
// times that mostly move forward by minutes to hours and sometimes step back.
func genEvents(t *rapid.T) []event {
	pool := rapid.IntRange(1, 40).Draw(t, "pool")
	n := rapid.IntRange(0, 300).Draw(t, "n")
	at := t0
	events := make([]event, n)
	for i := range events {
		at = at.Add(time.Duration(rapid.Int64Range(-90, 150).Draw(t, "minutes")) * time.Minute)
		m := rapid.IntRange(0, pool-1).Draw(t, "message")
		events[i] = event{KeyOf(fmt.Sprintf("src_%d", m%3), fmt.Sprintf("msg-%d", m)), at}
	}
	return events
}

func TestIndexMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		events := genEvents(t)
		x, m := New(testOptions), newModel(testOptions)
		recorded := map[Key]time.Time{} // receivedAt when the index last recorded a key
		newest := time.Time{}
		for i, e := range events {
			got, want := x.Seen(e.key, e.at), m.seen(e.key, e.at.UnixNano())
			if got != want {
				t.Fatalf("event %d: Seen(%x, %v) = %v, want %v (reference)", i, e.key[:4], e.at, got, want)
			}
			if e.at.After(newest) {
				newest = e.at
			}
			// The promise: a copy within the window of the first is a duplicate.
			if first, ok := recorded[e.key]; ok && !got && newest.Sub(first) < testOptions.Window {
				t.Fatalf("event %d: Seen(%x, %v) = false, want true: recorded at %v, within the window", i, e.key[:4], e.at, first)
			}
			if !got {
				recorded[e.key] = e.at
			}
		}
		if got, want := x.Len(), liveKeys(m); got > len(m.rec) || got < want {
			t.Fatalf("Len() = %d, want between %d live and %d ever recorded", got, want, len(m.rec))
		}
	})
}

// liveKeys counts the keys the reference still considers in the window.
func liveKeys(m *model) int {
	n := 0
	for _, b := range m.rec {
		if b >= m.bucket(m.clock)-m.buckets {
			n++
		}
	}
	return n
}

// fakeStore keeps checkpoints the way store.Store documents it.
type fakeStore struct {
	chunks []store.DedupeChunk
	next   int        // index of the first event not covered by the checkpoint
	state  indexState // of the index at the checkpoint
}

// indexState is what an Index knows that decides its answers, independent
// of how it stores it. The clock matters only through its bucket: stores
// round it to microseconds, and bucket boundaries are whole microseconds.
type indexState struct {
	Bucket      int64
	Generations map[int64][]Key // each sorted
}

func stateOf(x *Index) indexState {
	s := indexState{Bucket: x.curBucket, Generations: map[int64][]Key{}}
	add := func(b int64, k Key) { s.Generations[b] = append(s.Generations[b], k) }
	for k := range x.cur.all() {
		add(x.curBucket, k)
	}
	for _, g := range x.sealed {
		for _, k := range g.keys {
			add(g.bucket, k)
		}
	}
	for _, keys := range s.Generations {
		slices.SortFunc(keys, func(a, b Key) int { return bytes.Compare(a[:], b[:]) })
	}
	return s
}

func (s *fakeStore) save(x *Index, next int) {
	c := x.Pending()
	c.Newest = c.Newest.Truncate(time.Microsecond) // the precision stores keep
	s.chunks = append(s.chunks, c)
	expire := x.KeepSince()
	kept := s.chunks[:0]
	for _, c := range s.chunks {
		if !c.Newest.Before(expire) {
			kept = append(kept, c)
		}
	}
	s.chunks, s.next, s.state = kept, next, stateOf(x)
}

// run feeds events[from:] to x, checkpointing where checkpoint says and
// wherever MustFlush requires, and returns Seen's answers.
func run(x *Index, st *fakeStore, events []event, from int, checkpoint []bool) []bool {
	var answers []bool
	for i := from; i < len(events); i++ {
		if x.MustFlush(events[i].at) {
			st.save(x, i)
		}
		answers = append(answers, x.Seen(events[i].key, events[i].at))
		if checkpoint[i] {
			st.save(x, i+1)
		}
	}
	return answers
}

func TestIndexReloadIsDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		events := genEvents(t)
		checkpoint := rapid.SliceOfN(rapid.Bool(), len(events), len(events)).Draw(t, "checkpoint")
		crash := rapid.IntRange(0, len(events)).Draw(t, "crash")

		want := run(New(testOptions), &fakeStore{}, events, 0, checkpoint)

		st := &fakeStore{state: stateOf(New(testOptions))}
		got := run(New(testOptions), st, events[:crash], 0, checkpoint)[:st.next]
		y := New(testOptions)
		if err := y.Load(st.chunks); err != nil {
			t.Fatalf("Load: %v", err)
		}
		if diff := cmp.Diff(st.state, stateOf(y)); diff != "" {
			t.Fatalf("state after Load differs from the checkpointed one (-want +got):\n%s", diff)
		}
		got = append(got, run(y, st, events, st.next, checkpoint)...)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("event %d after a crash at %d, reload from %d: Seen = %v, want %v as without the crash", i, crash, st.next, got[i], want[i])
			}
		}
	})
}
