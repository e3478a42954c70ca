package sqlite

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/store"
)

// BenchmarkSaveDedupe saves one dedupe commit per iteration, each with a
// chunk of 100k 16-byte keys (the size the dedupe stage's keys are expected
// to have), 100 duplicates and three sources' counters, expiring all but
// the last eight chunks as a long-running store would.
func BenchmarkSaveDedupe(b *testing.B) {
	const keys, keySize, kept = 100_000, 16, 8
	db, _ := openTemp(b)
	defer db.Close()
	ctx := context.Background()
	chunk := make([]byte, keys*keySize)
	rand.Read(chunk)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	counts := map[string]store.Increment{"s1": {Stored: 9000, Duplicates: 30}, "s2": {Stored: 900}, "s3": {Stored: 100}}
	b.SetBytes(int64(len(chunk)))
	b.ResetTimer()
	for i := range b.N {
		seq := uint64(i+1) * keys
		dups := make([]uint64, 100)
		for j := range dups {
			dups[j] = seq - uint64(j)
		}
		c := &store.DedupeCommit{
			Seq:          seq,
			Chunk:        store.DedupeChunk{Newest: start.Add(time.Duration(i) * time.Minute), Keys: chunk},
			Duplicates:   dups,
			Counts:       counts,
			ExpireBefore: start.Add(time.Duration(i-kept) * time.Minute),
		}
		if err := db.SaveDedupe(ctx, c); err != nil {
			b.Fatalf("SaveDedupe() = %v", err)
		}
	}
	b.ReportMetric(float64(b.N)*keys/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkAddRejected quarantines batches of ~700-byte events, the size of
// a typical Segment message.
func BenchmarkAddRejected(b *testing.B) {
	raw := []byte(`{"type":"track","event":` + strings.Repeat("x", 680) + `}`)
	for _, size := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			db, _ := openTemp(b)
			defer db.Close()
			ctx := context.Background()
			if err := db.CreateSource(ctx, &mosaic.Source{ID: "s1", Name: "web", WriteKey: "wk1"}); err != nil {
				b.Fatalf("CreateSource() = %v", err)
			}
			now := time.Now()
			b.SetBytes(int64(size * len(raw)))
			b.ResetTimer()
			for range b.N {
				batch := make([]*mosaic.Rejected, size)
				for j := range batch {
					batch[j] = &mosaic.Rejected{SourceID: "s1", ReceivedAt: now, Index: j, Code: mosaic.EINVALIDJSON,
						Reason: "The event is not JSON: check the sender.", Raw: raw}
				}
				if err := db.AddRejected(ctx, batch); err != nil {
					b.Fatalf("AddRejected() = %v", err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkSaveProfiles saves one profile checkpoint per iteration into a
// store of 100k profiles, shaped like those of a replay of the load
// generator's journeys: 50k events, nine in ten from 5,500 people new in
// this checkpoint (about nine events each), the rest from earlier people;
// two partitions' batches; each event with a timeline entry (about 60
// bytes packed), most with a trait write (about 100), and the new state
// (about 330 bytes) of every profile changed.
func BenchmarkSaveProfiles(b *testing.B) {
	const people, events, newPeople, parts = 100_000, 50_000, 5_500, 2
	db, _ := openTemp(b)
	defer db.Close()
	ctx := context.Background()
	state := []byte(strings.Repeat("s", 330))
	seed := &store.ProfileCommit{Seq: 1, Batches: []store.ProfileBatch{{}}}
	for id := uint64(1); id <= people; id++ {
		seed.Batches[0].Profiles = append(seed.Batches[0].Profiles, store.ProfileRow{ID: id, Data: state})
	}
	if err := db.SaveProfiles(ctx, seed); err != nil {
		b.Fatalf("SaveProfiles(seed) = %v", err)
	}
	next := xorshift()
	names := []string{"Product Viewed", "Order Completed", "Page Loaded", "Signed In", "Cart Updated"}
	traits := []string{"plan", "email", "city", "last_order", "score"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	known := uint64(people)
	commit := func(i int) *store.ProfileCommit {
		c := &store.ProfileCommit{Seq: uint64(i+1)*events + 1, Batches: make([]store.ProfileBatch, parts)}
		for e := range uint64(events) {
			id := known + next(newPeople) + 1
			if next(10) == 0 {
				id = next(known) + 1
			}
			seq := c.Seq - events + e
			bt := &c.Batches[id%parts]
			at := start.Add(time.Duration(seq) * time.Millisecond)
			bt.Timeline = append(bt.Timeline, store.TimelineRow{ProfileID: id, Seq: seq, Time: at,
				Type: "track", Name: names[next(uint64(len(names)))], SourceID: "2f0c1b8e-source-web"})
			if next(4) > 0 {
				bt.Traits = append(bt.Traits, store.TraitRow{ProfileID: id, GroupID: "", Name: traits[next(uint64(len(traits)))],
					Value: []byte(`"value ` + strings.Repeat("v", int(next(20))) + `"`), Time: at, Seq: seq,
					SourceID: "2f0c1b8e-source-web", MessageID: fmt.Sprintf("6c9a1e4d-4b1f-4c8e-9a3d-%012d", seq)})
			}
			bt.Profiles = append(bt.Profiles, store.ProfileRow{ID: id, Data: state})
		}
		known += newPeople
		return c
	}
	cpu, measured := saveCPU(b, commit, func(c *store.ProfileCommit) error { return db.SaveProfiles(ctx, c) })
	b.ReportMetric(float64(b.N)*events/b.Elapsed().Seconds(), "events/s")
	// Wall time waits for fsync and for other processes; CPU time is what
	// a replay, which keeps both cores busy, pays.
	if measured {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkSaveSegments saves one segment checkpoint per iteration into a
// store holding 1.5M audience changes of 500k people, shaped like a replay
// of the load generator's journeys with the 50 benchmark audiences: 20k
// changes and 15k profile states (about 600 bytes) a checkpoint, for
// people anywhere in the id range. Changes are what costs: each is a row
// of audience_changes and an entry in its two indexes.
func BenchmarkSaveSegments(b *testing.B) {
	const people, seeded, changes, states = 500_000, 1_500_000, 20_000, 15_000
	db, _ := openTemp(b)
	defer db.Close()
	ctx := context.Background()
	next := xorshift()
	audiences := make([]string, 50)
	for i := range audiences {
		audiences[i] = fmt.Sprintf("aud_%016x", next(1<<62))
	}
	state := []byte(strings.Repeat("s", 600))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var id int64
	version := uint64(0)
	commit := func(n, profiles int) *store.SegmentCommit {
		version++
		c := &store.SegmentCommit{Version: version, Seq: version * 100_000}
		for range n {
			id++
			seq := uint64(id) * 2
			c.Changes = append(c.Changes, store.AudienceChange{ID: id, AudienceID: audiences[next(50)],
				ProfileID: next(people) + 1, Entered: next(2) == 0, At: start.Add(time.Duration(id) * time.Millisecond),
				Seq: seq, Cause: fmt.Sprintf(`{"kind":"event","seq":%d,"type":"track"}`, seq)})
		}
		for range profiles {
			c.Profiles = append(c.Profiles, store.SegmentProfileRow{ID: next(people) + 1, Version: version, Data: state})
		}
		return c
	}
	for id < seeded {
		if err := db.SaveSegments(ctx, commit(50_000, 0)); err != nil {
			b.Fatalf("SaveSegments(seed) = %v", err)
		}
	}
	cpu, measured := saveCPU(b, func(int) *store.SegmentCommit { return commit(changes, states) },
		func(c *store.SegmentCommit) error { return db.SaveSegments(ctx, c) })
	if measured {
		b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(b.N*changes), "cpu-µs/change")
	}
}

// saveCPU runs save on b.N commits, each made by commit(i) outside the
// timer, and returns the process CPU time the saves took, false if the
// platform does not tell.
func saveCPU[C any](b *testing.B, commit func(i int) C, save func(C) error) (time.Duration, bool) {
	var cpu time.Duration
	measured := false
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		c := commit(i)
		b.StartTimer()
		before, _ := processCPU()
		if err := save(c); err != nil {
			b.Fatalf("save commit %d: %v", i, err)
		}
		after, ok := processCPU()
		cpu += after - before
		measured = ok
	}
	return cpu, measured
}

// xorshift returns a generator of numbers below n, the same sequence on
// every run, so that a benchmark saves the same commits each time.
func xorshift() func(n uint64) uint64 {
	rng := uint64(1)
	return func(n uint64) uint64 {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return rng % n
	}
}
