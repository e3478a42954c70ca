package dedupe

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mosaic-cdp/mosaic/store"
)

// Tests use a 7-hour window in 1-hour buckets: the same arithmetic as the
// default 7 days in days, easier to read.
var (
	testOptions = Options{Window: 7 * time.Hour, Buckets: 7}
	t0          = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
)

type step struct {
	source, message string
	at              time.Duration // after t0
	want            bool          // Seen's answer
}

func runSteps(t *testing.T, x *Index, steps []step) {
	t.Helper()
	for i, s := range steps {
		if got := x.Seen(KeyOf(s.source, s.message), t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d: Seen(%s/%s, t0+%v) = %v, want %v", i, s.source, s.message, s.at, got, s.want)
		}
	}
}

func TestIndexSeen(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"first sighting is new", []step{{"s1", "a", 0, false}}},
		{"retry at once", []step{{"s1", "a", 0, false}, {"s1", "a", time.Second, true}}},
		{"same message other source", []step{{"s1", "a", 0, false}, {"s2", "a", 0, false}}},
		{"just inside the window", []step{
			{"s1", "a", 30 * time.Minute, false},
			{"s1", "a", 7*time.Hour + 29*time.Minute, true},
		}},
		{"bucket margin past the window", []step{
			{"s1", "a", 30 * time.Minute, false},
			{"s1", "a", 7*time.Hour + 45*time.Minute, true}, // same generation as 7h30m
		}},
		{"after window and margin", []step{
			{"s1", "a", 30 * time.Minute, false},
			{"s1", "a", 8 * time.Hour, false},
			{"s1", "a", 8*time.Hour + time.Second, true}, // recorded again
		}},
		{"duplicates do not extend the window", []step{
			{"s1", "a", 0, false},
			{"s1", "a", 6 * time.Hour, true},
			{"s1", "a", 8 * time.Hour, false},
		}},
		{"late event still finds the key", []step{
			{"s1", "a", 2 * time.Hour, false},
			{"s1", "b", 3 * time.Hour, false},
			{"s1", "a", 90 * time.Minute, true},
		}},
		{"late event cannot revive an expired generation", []step{
			{"s1", "a", 0, false},
			{"s1", "b", 8 * time.Hour, false}, // clock moves, generation 0 dropped
			{"s1", "a", 6 * time.Hour, false},
		}},
		{"duplicate in a later bucket does not move the clock", []step{
			{"s1", "a", 0, false},
			{"s1", "b", 5 * time.Hour, false},
			{"s1", "b", 9 * time.Hour, true},  // b's generation is 5: within the window of 9
			{"s1", "a", 6 * time.Hour, true},  // clock still in bucket 5, generation 0 kept
			{"s1", "a", 8 * time.Hour, false}, // but a lookup at 8 sees it expired
		}},
		{"long gap expires everything", []step{
			{"s1", "a", 0, false},
			{"s1", "b", time.Hour, false},
			{"s1", "c", 100 * time.Hour, false},
			{"s1", "a", 100 * time.Hour, false},
			{"s1", "b", 100 * time.Hour, false},
		}},
		{"before 1970", []step{
			{"s1", "a", -56 * 365 * 24 * time.Hour, false},
			{"s1", "a", -56*365*24*time.Hour + time.Hour, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, New(testOptions), tt.steps)
		})
	}
}

func TestIndexPendingAndLoad(t *testing.T) {
	x := New(testOptions)
	runSteps(t, x, []step{{"s1", "a", 10 * time.Minute, false}, {"s1", "b", 20 * time.Minute, false}, {"s1", "a", 30 * time.Minute, true}})
	c1 := x.Pending()
	want := store.DedupeChunk{Newest: t0.Add(20 * time.Minute), Keys: keyBytes([]Key{KeyOf("s1", "a"), KeyOf("s1", "b")})}
	if diff := cmp.Diff(want, c1); diff != "" {
		t.Fatalf("Pending() mismatch (-want +got):\n%s", diff)
	}
	if got := x.Pending(); len(got.Keys) != 0 || !got.Newest.Equal(want.Newest) {
		t.Fatalf("second Pending() = %d bytes of keys, Newest %v; want none, Newest %v", len(got.Keys), got.Newest, want.Newest)
	}
	if x.MustFlush(t0.Add(2 * time.Hour)) {
		t.Fatalf("MustFlush(next bucket) = true with nothing pending, want false")
	}
	runSteps(t, x, []step{{"s1", "c", 2 * time.Hour, false}})
	for _, tt := range []struct {
		at   time.Duration
		want bool
	}{{2*time.Hour + 59*time.Minute, false}, {3 * time.Hour, true}} {
		if got := x.MustFlush(t0.Add(tt.at)); got != tt.want {
			t.Errorf("MustFlush(t0+%v) = %v with c pending in bucket 2, want %v", tt.at, got, tt.want)
		}
	}
	c2 := x.Pending()

	y := New(testOptions)
	if err := y.Load([]store.DedupeChunk{c2, c1}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := y.Len(), 3; got != want {
		t.Errorf("Len() after Load = %d, want %d", got, want)
	}
	if got, want := y.KeepSince(), t0.Add(-5*time.Hour); !got.Equal(want) {
		t.Errorf("KeepSince() after Load = %v, want %v", got, want)
	}
	runSteps(t, y, []step{
		{"s1", "b", 7 * time.Hour, true},   // bucket 0 live at bucket 7
		{"s1", "a", 8 * time.Hour, false},  // and expired at bucket 8
		{"s1", "c", 8 * time.Hour, true},   // bucket 2 still live
		{"s1", "c", 10 * time.Hour, false}, // bucket 2 expired at 10
	})
}

func TestIndexLoadIgnoresExpiredAndEmpty(t *testing.T) {
	x := New(testOptions)
	chunks := []store.DedupeChunk{
		{Newest: t0, Keys: keyBytes([]Key{KeyOf("s1", "old")})},
		{}, // saved before any key
		{Newest: t0.Add(10 * time.Hour), Keys: keyBytes([]Key{KeyOf("s1", "new")})},
	}
	if err := x.Load(chunks); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := x.Len(), 1; got != want {
		t.Errorf("Len() = %d, want %d: the chunk of bucket 0 expired at bucket 10", got, want)
	}
	runSteps(t, x, []step{{"s1", "old", 10 * time.Hour, false}, {"s1", "new", 10 * time.Hour, true}})
}

func TestIndexLoadRejectsTornChunk(t *testing.T) {
	x := New(testOptions)
	x.Seen(KeyOf("s1", "a"), t0)
	err := x.Load([]store.DedupeChunk{{Newest: t0, Keys: make([]byte, KeySize+3)}})
	if err == nil {
		t.Fatalf("Load(chunk of %d bytes) = nil, want an error", KeySize+3)
	}
	if got := x.Len(); got != 0 {
		t.Errorf("Len() after failed Load = %d, want 0", got)
	}
}

func TestIndexKeepSinceEmpty(t *testing.T) {
	if got := New(Options{}).KeepSince(); !got.IsZero() {
		t.Errorf("New(Options{}).KeepSince() = %v, want the zero time", got)
	}
}
