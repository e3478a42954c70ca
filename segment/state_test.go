package segment

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// clonePrune is prune as it was, copying what it keeps: the reference for
// the pruning in place.
func clonePrune(list []item, retention time.Duration, now time.Time) []item {
	if retention <= 0 || len(list) == 0 {
		return list
	}
	cut := now.Add(-retention)
	i := 0
	for i < len(list) && !list[i].At.After(cut) {
		i++
	}
	if i > 0 {
		return slices.Clone(list[i:])
	}
	return list
}

// TestPrune: pruning in place keeps the events the copy kept, in order,
// over lists that grow and shrink, and the dropped events' properties are
// let go.
func TestPrune(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for run := range 200 {
		t.Run(fmt.Sprint(run), func(t *testing.T) {
			p := &pstate{}
			var want []item
			retention := time.Duration(rng.IntN(3)) * time.Hour
			now := t0
			for k := range 60 {
				now = now.Add(time.Duration(rng.IntN(40)) * time.Minute)
				it := item{At: now.Add(-time.Duration(rng.IntN(150)) * time.Minute), Seq: uint64(k), Props: []byte(fmt.Sprintf(`{"k":%d}`, k))}
				p.addItem("e", it)
				if i, found := slices.BinarySearchFunc(want, it, compareItems); !found {
					want = slices.Insert(want, i, it)
				}
				p.prune("e", retention, now)
				want = clonePrune(want, retention, now)
				got := p.events.get("e")
				if len(got) != len(want) {
					t.Fatalf("after %d events: %d kept, want %d", k+1, len(got), len(want))
				}
				for i := range got {
					if got[i].At != want[i].At || got[i].Seq != want[i].Seq || string(got[i].Props) != string(want[i].Props) {
						t.Fatalf("after %d events: event %d = %+v, want %+v", k+1, i, got[i], want[i])
					}
				}
				for _, it := range got[len(got):cap(got)] {
					if it.Props != nil {
						t.Fatalf("after %d events: a dropped event's properties are kept", k+1)
					}
				}
			}
		})
	}
}
