package dedupe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// drawKey draws a key from a small pool whose keys share few first bytes,
// so that shards fill, repack and hold look-alike keys even in short runs.
func drawKey(t *rapid.T, label string) Key {
	var k Key
	k[0] = byte(rapid.IntRange(0, 2).Draw(t, label+"-shard"))
	k[1] = byte(rapid.IntRange(0, 3).Draw(t, label+"-group")) << 6 // the directory's bits
	k[15] = byte(rapid.IntRange(0, 60).Draw(t, label+"-id"))
	return k
}

// TestGrowingMatchesMap compares a growing set with a map, with repacking
// thresholds from every key to the default.
func TestGrowingMatchesMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		g := newGrowing(rapid.IntRange(1, defaultMinDelta).Draw(t, "minDelta"))
		want := map[Key]bool{}
		for i, n := 0, rapid.IntRange(0, 400).Draw(t, "n"); i < n; i++ {
			k := drawKey(t, "key")
			if got := g.has(k); got != want[k] {
				t.Fatalf("has(%x) = %v after %d adds, want %v", k, got, len(want), want[k])
			}
			if !want[k] {
				g.add(k)
				want[k] = true
			}
		}
		if g.len() != len(want) {
			t.Fatalf("len() = %d, want %d", g.len(), len(want))
		}
		got := map[Key]bool{}
		for k := range g.all() {
			if got[k] {
				t.Fatalf("all() yields %x twice", k)
			}
			got[k] = true
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("all() mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestGrowingRepacks(t *testing.T) {
	tests := []struct {
		name       string
		minDelta   int
		keys       int
		wantPacked int // keys in shard 0's packed part afterwards
		wantDelta  int
	}{
		{name: "below the minimum", minDelta: 10, keys: 9, wantPacked: 0, wantDelta: 9},
		{name: "at the minimum", minDelta: 10, keys: 10, wantPacked: 10, wantDelta: 0},
		{name: "minimum again", minDelta: 10, keys: 25, wantPacked: 20, wantDelta: 5},
		{name: "an eighth of the packed part", minDelta: 1, keys: 100, wantPacked: 91, wantDelta: 9}, // 91 = 81 + 81/8
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGrowing(tt.minDelta)
			for i := range tt.keys {
				k := Key{15: 1} // all in shard 0, none the zero key
				k[1], k[2] = byte(i), byte(i>>8)
				g.add(k)
			}
			sh := &g.shards[0]
			packed := 0
			if sh.packed != nil {
				packed = len(sh.packed.keys)
			}
			if packed != tt.wantPacked || sh.used != tt.wantDelta {
				t.Errorf("after %d keys: %d packed, %d in the delta; want %d, %d", tt.keys, packed, sh.used, tt.wantPacked, tt.wantDelta)
			}
			if len(sh.delta)*3 < 4*sh.limit(tt.minDelta) {
				t.Errorf("delta table of %d slots for up to %d keys, want it at most three quarters full", len(sh.delta), sh.limit(tt.minDelta))
			}
		})
	}
}

// TestIndexRepackingMatchesDefault runs the same events through an index
// whose current generation repacks on every key and one with the default
// threshold: answers, and the state a reload rebuilds, must not differ.
func TestIndexRepackingMatchesDefault(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		events := genEvents(t)
		x, y := New(testOptions), newIndex(testOptions, 1)
		st := &fakeStore{}
		for i, e := range events {
			if y.MustFlush(e.at) {
				st.save(y, i)
			}
			if got, want := y.Seen(e.key, e.at), x.Seen(e.key, e.at); got != want {
				t.Fatalf("event %d: Seen = %v with repacking on every key, want %v", i, got, want)
			}
		}
		if diff := cmp.Diff(stateOf(x), stateOf(y)); diff != "" {
			t.Fatalf("state with repacking on every key differs (-default +repacking):\n%s", diff)
		}
		st.save(y, len(events))
		z := newIndex(testOptions, 1)
		if err := z.Load(st.chunks); err != nil {
			t.Fatalf("Load: %v", err)
		}
		if diff := cmp.Diff(stateOf(y), stateOf(z)); diff != "" {
			t.Fatalf("state after Load differs (-saved +loaded):\n%s", diff)
		}
	})
}

// TestGrowingZeroKey: the all-zero key marks empty delta slots, so the set
// keeps it aside; it must behave as any other key.
func TestGrowingZeroKey(t *testing.T) {
	g := newGrowing(1)
	if g.has(Key{}) {
		t.Fatal("has(zero key) = true in an empty set, want false")
	}
	g.add(Key{15: 1})
	g.add(Key{})
	if !g.has(Key{}) || g.len() != 2 {
		t.Fatalf("after adding the zero key: has = %v, len() = %d; want true, 2", g.has(Key{}), g.len())
	}
	var got []Key
	for k := range g.all() {
		got = append(got, k)
	}
	if diff := cmp.Diff([]Key{{}, {15: 1}}, got); diff != "" {
		t.Errorf("all() mismatch (-want +got):\n%s", diff)
	}
}
