package live

import (
	"bytes"
	"hash/fnv"
	"testing"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
	"github.com/mosaic-cdp/mosaic/profile"
	"github.com/mosaic-cdp/mosaic/synth"
)

// journeyChanges returns the changes the profile stage shows its observers
// for the synthetic journeys of people customers, in log order: every
// event, with the name, time and envelope the profile read, a customer's
// profile named after their anonymous id.
func journeyChanges(tb testing.TB, people int) []*engine.ProfileChange {
	tb.Helper()
	set := profile.NewSet()
	g := synth.New(synth.Options{People: people, Seed: 11})
	var cs []*engine.ProfileChange
	for seq := uint64(1); ; seq++ {
		m, ok := g.NextMessage()
		if !ok {
			break
		}
		msg := bytes.Clone(m.JSON) // the generator reuses its buffer
		var id uint64
		jsonscan.Object(msg, func(key, val []byte) bool {
			if string(key) == "anonymousId" {
				h := fnv.New64a()
				h.Write(val)
				id = h.Sum64()>>1 + 1
			}
			return true
		})
		ev := &mosaic.Event{Seq: seq, SourceID: "web", Type: m.Type, ReceivedAt: m.Arrival, Message: msg}
		c := &engine.ProfileChange{Seq: seq, Event: ev, Profile: id}
		if set.Apply(id, ev) == nil {
			c.Name, c.Time, c.Envelope = set.Applied()
		}
		cs = append(cs, c)
	}
	return cs
}

// BenchmarkObserveJourneys measures the observer as a replay drives it:
// every event of the synthetic journeys, from an empty observer, with a
// checkpoint's encoding every 10,000 events; the report gives the wall
// and CPU (with the garbage collector's) time per event.
func BenchmarkObserveJourneys(b *testing.B) {
	cs := journeyChanges(b, 20000)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		o := NewObserver(nil, ObserverOptions{})
		for i, c := range cs {
			o.Observe(c)
			if i%10000 == 9999 {
				if _, err := o.Checkpoint(c.Seq); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cs)), "ns/event")
	b.ReportMetric(float64(cpu)/float64(b.N*len(cs)), "cpu-ns/event")
}
