package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// packBatchRef is PackBatch as first written, appending to each profile's
// values: the reference the presized one must match byte for byte.
func packBatchRef(b *ProfileBatch) []PackedProfile {
	at := map[uint64]int{}
	var out []PackedProfile
	get := func(id uint64) *PackedProfile {
		i, ok := at[id]
		if !ok {
			i = len(out)
			at[id] = i
			out = append(out, PackedProfile{ID: id})
		}
		return &out[i]
	}
	for _, p := range b.Profiles {
		get(p.ID).Data = nonNilBytes(p.Data)
	}
	for i := range b.Timeline {
		u := get(b.Timeline[i].ProfileID)
		u.Timeline = AppendTimeline(u.Timeline, b.Timeline[i])
	}
	for i := range b.Traits {
		u := get(b.Traits[i].ProfileID)
		u.Traits = AppendTraits(u.Traits, b.Traits[i])
	}
	return out
}

func TestPackBatchMatchesReference(t *testing.T) {
	texts := []string{"", "track", "Order Completed", "caf\u00e9", "bad\xffutf8", "nul\x00inside", "\xc3", "long " + string(bytes.Repeat([]byte("x"), 200))}
	for seed := range uint64(200) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			text := func() string { return texts[rng.IntN(len(texts))] }
			ids := 1 + rng.IntN(8)
			id := func() uint64 { return uint64(rng.IntN(ids)) + 1 }
			at := func() time.Time { return time.UnixMicro(rng.Int64N(1<<50) - 1<<49) }
			var b ProfileBatch
			for range rng.IntN(30) {
				b.Timeline = append(b.Timeline, TimelineRow{ProfileID: id(), Seq: rng.Uint64() >> rng.IntN(64), Time: at(), Type: text(), Name: text(), SourceID: text()})
			}
			for range rng.IntN(30) {
				var v []byte
				if rng.IntN(3) > 0 {
					v = []byte(text())
				}
				b.Traits = append(b.Traits, TraitRow{ProfileID: id(), GroupID: text(), Name: text(), Value: v, Time: at(), Seq: rng.Uint64() >> rng.IntN(64), SourceID: text(), MessageID: text()})
			}
			for range rng.IntN(10) {
				var d []byte
				if rng.IntN(4) > 0 {
					d = []byte(text())
				}
				b.Profiles = append(b.Profiles, ProfileRow{ID: id(), Data: d})
			}
			got, want := PackBatch(&b), packBatchRef(&b)
			if len(got) != len(want) {
				t.Fatalf("PackBatch() = %d profiles, want %d", len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if g.ID != w.ID || !bytes.Equal(g.Data, w.Data) || (g.Data == nil) != (w.Data == nil) ||
					!bytes.Equal(g.Timeline, w.Timeline) || (g.Timeline == nil) != (w.Timeline == nil) ||
					!bytes.Equal(g.Traits, w.Traits) || (g.Traits == nil) != (w.Traits == nil) {
					t.Errorf("PackBatch()[%d] = %+v, want %+v", i, g, w)
				}
				if cap(g.Timeline) != len(g.Timeline) || cap(g.Traits) != len(g.Traits) {
					t.Errorf("PackBatch()[%d] values have room past their end: a store appending to one would write over the next", i)
				}
			}
		})
	}
}

// BenchmarkPackBatch packs a checkpoint's worth of rows of one partition:
// plain ASCII text, as most events carry.
func BenchmarkPackBatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	var batch ProfileBatch
	const profiles = 5000
	for i := range 20000 {
		id := uint64(rng.IntN(profiles)) + 1
		t := time.UnixMicro(1_700_000_000_000_000 + int64(i))
		batch.Timeline = append(batch.Timeline, TimelineRow{ProfileID: id, Seq: uint64(i), Time: t, Type: "track", Name: "Product Viewed", SourceID: "web"})
		batch.Traits = append(batch.Traits, TraitRow{ProfileID: id, Name: "plan", Value: []byte(`"pro"`), Time: t, Seq: uint64(i), SourceID: "web", MessageID: fmt.Sprint("m-", i)})
	}
	for id := range uint64(profiles) {
		batch.Profiles = append(batch.Profiles, ProfileRow{ID: id + 1, Data: []byte("state")})
	}
	for b.Loop() {
		PackBatch(&batch)
	}
}
