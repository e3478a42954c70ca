package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// synth generates a synthetic stream of identifier sets: people with one
// to three devices (web browsers with an anonymous id, phones with a device
// id as well), 70% with an account who are logged in on 60% of their
// events, identify calls with their email (20% change email halfway) and
// for 30% a phone, families of two sharing a tablet (10% of people), and
// junk emails on 1% of identify calls. Deterministic from the seed.
type synth struct {
	people, total, n int
	rng              *rand.Rand
}

func newSynth(people, total int) *synth {
	return &synth{people: people, total: total, rng: rand.New(rand.NewPCG(1, 2))}
}

func (s *synth) uuid(key uint64, upper bool) string {
	var u [16]byte
	a, b := mix(key), mix(key^0xabcdef)
	for i := range 8 {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	return formatUUID(u[:], upper)
}

// next returns the identifiers of the next event.
func (s *synth) next() []Identifier {
	s.n++
	p := uint64(s.rng.IntN(s.people))
	h := mix(p + 1)
	d := uint64(s.rng.IntN(int(1 + h%3)))
	dev := p<<2 | d
	if d == 0 && mix(p/2)%10 == 0 { // the family tablet
		dev = 1<<62 | p/2
	}
	ids := []Identifier{{TypeAnonymousID, s.uuid(dev, false)}}
	if mix(dev)%2 == 0 {
		ids = append(ids, Identifier{TypeDeviceID, s.uuid(dev^1<<61, true)})
	}
	if h%10 < 7 && s.rng.IntN(10) < 6 {
		ids = append(ids, Identifier{TypeUserID, fmt.Sprintf("%d", p)})
	}
	if s.rng.IntN(10) == 0 {
		k := 0
		if (h>>16)%5 == 0 && s.n > s.total/2 {
			k = 1
		}
		email := fmt.Sprintf("p%d.%d@mail.mosaic.dev", p, k)
		if s.rng.IntN(100) == 0 {
			email = "test@test.com"
		}
		ids = append(ids, Identifier{TypeEmail, email})
		if (h>>24)%10 < 3 {
			ids = append(ids, Identifier{TypePhone, fmt.Sprintf("+316%08d", p%100_000_000)})
		}
	}
	return ids
}

// cpuTime returns the CPU time the process has used. Benchmarks report it
// per operation next to wall time, because this machine is shared: wall
// time includes the time other processes hold the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkResolve resolves a synthetic stream of 10 events per person and
// reports events per second (generation excluded) and the heap the graph
// takes per profile and per person, measured with runtime.MemStats before
// and after. Run with -benchtime=1x: one run of 1M people takes ~20s.
func BenchmarkResolve(b *testing.B) {
	for _, people := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("people=%d", people), func(b *testing.B) {
			for b.Loop() {
				resolveStream(b, people, 10*people)
			}
		})
	}
}

func resolveStream(b *testing.B, people, events int) {
	s := newSynth(people, events)
	batch := make([][]Identifier, 100_000)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g := New(DefaultRules())
	var elapsed, cpu time.Duration
	seq := uint64(0)
	for done := 0; done < events; done += len(batch) {
		for i := range batch {
			batch[i] = s.next()
		}
		start, startCPU := time.Now(), cpuTime()
		for _, ids := range batch {
			seq++
			if _, err := g.Resolve(seq, "web", "", t0, ids); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - startCPU
	}
	batch = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := g.Stats()
	heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(heap/float64(st.Profiles), "B/profile")
	b.ReportMetric(heap/float64(people), "B/person")
	b.ReportMetric(float64(st.Profiles)/float64(people), "profiles/person")
	b.ReportMetric(float64(st.Identifiers)/float64(st.Profiles), "ids/profile")
	b.Logf("%d events, %d people: %d profiles, %d identifiers, %d records; bytes: %+v", events, people, st.Profiles, st.Identifiers, st.Records, st.Bytes)
	runtime.KeepAlive(g)
}

// BenchmarkResolveWarm measures one event on a graph of 100,000 people that
// has seen them all: the common case, which must not allocate.
func BenchmarkResolveWarm(b *testing.B) {
	s := newSynth(100_000, 1_000_000)
	g := New(DefaultRules())
	seq := uint64(0)
	for range 1_000_000 {
		seq++
		g.Resolve(seq, "web", "", t0, s.next())
	}
	stream := make([][]Identifier, 1<<16)
	for i := range stream {
		stream[i] = s.next()
	}
	b.ReportAllocs()
	i := 0
	start := cpuTime()
	for b.Loop() {
		seq++
		g.Resolve(seq, "web", "", t0, stream[i&(len(stream)-1)])
		i++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkExtract reads the identifiers of a typical 700-byte identify
// call from a mobile SDK.
func BenchmarkExtract(b *testing.B) {
	msg := []byte(`{"type":"identify","messageId":"0f8fad5b-d9cb-469f-a165-70867728950e","timestamp":"2026-03-01T09:00:00.000Z",
"receivedAt":"2026-03-01T09:00:01.000Z","userId":"97980cfea0067","anonymousId":"507f191e810c19729de860ea",
"traits":{"name":"Peter Gibbons","email":"Peter@Initech.com","plan":"premium","logins":5,"address":{"street":"6th St","city":"San Francisco","state":"CA","postalCode":"94103","country":"USA"}},
"context":{"app":{"name":"InitechGlobal","version":"545","build":"3.0.1.545"},"device":{"id":"B5372DB0-C21E-11E4-8DFC-AA07A5B093DB","advertisingId":"7A3CBEA0-BDF5-11E4-8DFC-AA07A5B093DB","adTrackingEnabled":true,"manufacturer":"Apple","model":"iPhone7,2","type":"ios"},
"library":{"name":"analytics.js","version":"2.11.1"},"locale":"nl-NL","network":{"wifi":true},"os":{"name":"iPhone OS","version":"8.1.3"},"timezone":"Europe/Amsterdam","userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 9_1 like Mac OS X)"}}`)
	x, err := NewExtractor(ExtractConfig{DefaultRegion: "NL"})
	if err != nil {
		b.Fatal(err)
	}
	ev := &mosaic.Event{Type: mosaic.TypeIdentify, Message: msg}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, _, err := x.Extract(ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkExtractMessages reads the identifiers of stored messages as the
// web and mobile SDKs send them (testdata/messages.jsonl: pages, tracks,
// screens and identify calls in the proportions of a synthetic shop's
// log, after cleaning), one message per operation.
func BenchmarkExtractMessages(b *testing.B) {
	evs := loadMessages(b)
	x, err := NewExtractor(ExtractConfig{DefaultRegion: "NL"})
	if err != nil {
		b.Fatal(err)
	}
	size := 0
	for _, ev := range evs {
		size += len(ev.Message)
	}
	b.SetBytes(int64(size / len(evs)))
	b.ReportAllocs()
	i := 0
	start := cpuTime()
	for b.Loop() {
		if _, _, err := x.Extract(evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// loadMessages reads testdata/messages.jsonl as events, their type set as
// the log sets it.
func loadMessages(tb testing.TB) []*mosaic.Event {
	tb.Helper()
	data, err := os.ReadFile("testdata/messages.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	var evs []*mosaic.Event
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var m struct{ Type string }
		if err := json.Unmarshal(line, &m); err != nil {
			tb.Fatalf("messages.jsonl line %d: %v", i+1, err)
		}
		evs = append(evs, &mosaic.Event{Seq: uint64(i + 1), Type: m.Type, Message: line})
	}
	return evs
}

// BenchmarkSnapshot writes and restores the graph of 100,000 people.
func BenchmarkSnapshot(b *testing.B) {
	s := newSynth(100_000, 1_000_000)
	g := New(DefaultRules())
	for seq := range uint64(1_000_000) {
		g.Resolve(seq+1, "web", "", t0, s.next())
	}
	var buf bytes.Buffer
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			buf.Reset()
			if err := g.Snapshot(&buf); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
	b.Run("restore", func(b *testing.B) {
		for b.Loop() {
			if _, err := Restore(bytes.NewReader(buf.Bytes())); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
}
