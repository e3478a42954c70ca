package live

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// insertSortedCopying is insertSorted as it was first written, copying for
// every insertion out of order: the reference the in-place insertion must
// agree with.
func insertSortedCopying[T any](s []T, v T, at func(T) int64) []T {
	n := len(s)
	if n == 0 || at(s[n-1]) <= at(v) {
		return append(s, v)
	}
	i, _ := slices.BinarySearchFunc(s, at(v), func(e T, t int64) int { return cmp.Compare(at(e), t+1) })
	out := make([]T, 0, n+1)
	return append(append(append(out, s[:i]...), v), s[i:]...)
}

// TestInsertInPlace feeds activities a little out of order, as profiles
// receive them, taking snapshots between insertions: the history must
// equal the copying reference's, and no snapshot may change afterwards.
func TestInsertInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for run := range 200 {
		var h history
		var ref []act
		var gen uint64
		type snap struct{ acts, want []act }
		var snaps []snap
		limit := 5 + rng.IntN(40)
		for i := range 100 {
			a := act{t: int64(i*10 - rng.IntN(40)), hour: uint8(i)}
			h.insertAct(a, limit, gen)
			ref = insertSortedCopying(ref, a, func(a act) int64 { return a.t })
			if len(ref) > limit {
				ref = slices.Clone(ref[len(ref)-limit:])
			}
			if !slices.Equal(h.acts, ref) {
				t.Fatalf("run %d, insert %d: acts = %v, want %v", run, i, h.acts, ref)
			}
			if rng.IntN(8) == 0 {
				gen++ // what Observer.snapshot does
				snaps = append(snaps, snap{h.acts, slices.Clone(h.acts)})
			}
		}
		for i, s := range snaps {
			if !slices.Equal(s.acts, s.want) {
				t.Fatalf("run %d: snapshot %d changed to %v, was %v", run, i, s.acts, s.want)
			}
		}
	}
}
