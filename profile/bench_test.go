package profile

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

// journey returns the events of one realistic customer, about 10: an
// identify with 8 traits, sometimes a later one that changes some, and
// track and page calls with the context an SDK sends (about 600 bytes a
// message, like the events the log holds).
func journey(r *rand.Rand, person int, seq *uint64) []*mosaic.Event {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(300*24)) * time.Hour)
	traits := map[string]any{
		"email":      fmt.Sprintf("customer.number%d@example.com", person),
		"name":       fmt.Sprintf("Customer %d", person),
		"first_name": "Customer",
		"plan":       []string{"free", "pro", "enterprise"}[r.IntN(3)],
		"country":    []string{"NL", "DE", "US", "FR", "GB"}[r.IntN(5)],
		"phone":      fmt.Sprintf("+3161%07d", person%10000000),
		"created_at": start.Format(time.RFC3339),
		"age":        18 + r.IntN(60),
	}
	evs := []*mosaic.Event{message(seq, start, "identify", map[string]any{"traits": traits})}
	n := 7 + r.IntN(5)
	for i := 1; i < n; i++ {
		at := start.Add(time.Duration(i) * time.Duration(1+r.IntN(3600)) * time.Second)
		switch k := r.IntN(10); {
		case k == 0:
			evs = append(evs, message(seq, at, "identify", map[string]any{"traits": map[string]any{
				"plan": "pro", "last_login": at.Format(time.RFC3339)}}))
		case k < 5:
			evs = append(evs, message(seq, at, "page", map[string]any{"name": "Product",
				"properties": map[string]any{"path": "/p/123", "url": "https://shop.example.com/p/123", "title": "A product"}}))
		default:
			evs = append(evs, message(seq, at, "track", map[string]any{
				"event":      []string{"Product Viewed", "Product Added", "Order Completed", "Signed In"}[r.IntN(4)],
				"properties": map[string]any{"product_id": "sku-123", "price": 19.99, "currency": "EUR", "quantity": 1}}))
		}
	}
	return evs
}

func message(seq *uint64, at time.Time, typ string, fields map[string]any) *mosaic.Event {
	*seq++
	fields["type"] = typ
	fields["messageId"] = fmt.Sprintf("msg-%016x", *seq)
	fields["userId"] = fmt.Sprintf("user-%d", *seq)
	fields["timestamp"] = at.Format(time.RFC3339Nano)
	fields["receivedAt"] = at.Add(time.Second).Format(time.RFC3339Nano)
	fields["context"] = map[string]any{
		"library":   map[string]any{"name": "analytics.js", "version": "5.2.0"},
		"ip":        "203.0.113.7",
		"userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"page":      map[string]any{"path": "/", "referrer": "", "url": "https://shop.example.com/"},
	}
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return &mosaic.Event{Seq: *seq, SourceID: "src-web-0001", MessageID: fmt.Sprintf("msg-%016x", *seq),
		Type: typ, ReceivedAt: at.Add(time.Second), Message: b}
}

// benchEvents returns the events of people customers, interleaved as they
// would arrive, with the profile ID each belongs to.
func benchEvents(people int) ([]*mosaic.Event, []uint64) {
	r := rand.New(rand.NewPCG(1, 2))
	var seq uint64
	var evs []*mosaic.Event
	var ids []uint64
	for p := range people {
		id := uint64(p+1) << 8 // like identity.ProfileID: the creating event's seq << 8
		for _, ev := range journey(r, p, &seq) {
			evs, ids = append(evs, ev), append(ids, id)
		}
	}
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i]; ids[i], ids[j] = ids[j], ids[i] })
	return evs, ids
}

// BenchmarkApply measures folding events into the hot state alone.
func BenchmarkApply(b *testing.B) {
	evs, ids := benchEvents(2000)
	profiles := map[uint64]*Profile{}
	for _, id := range ids {
		profiles[id] = New(id)
	}
	b.SetBytes(int64(len(evs[0].Message)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		k := i % len(evs)
		if err := Apply(profiles[ids[k]], evs[k]); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSetApply measures what the engine does per event: the Set's
// Apply with its timeline and trait history rows, and a Flush every 10,000
// events.
func BenchmarkSetApply(b *testing.B) {
	evs, ids := benchEvents(2000)
	s := NewSet()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := range b.N {
		k := i % len(evs)
		if err := s.Apply(ids[k], evs[k]); err != nil {
			b.Fatal(err)
		}
		if i%10000 == 9999 {
			if _, err := s.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMerge measures merging two typical profiles.
func BenchmarkMerge(b *testing.B) {
	evs, ids := benchEvents(2)
	var ps [2]*Profile
	ps[0], ps[1] = New(ids[0]), New(1)
	for k, ev := range evs {
		p := ps[0]
		if ids[k] != ids[0] {
			p = ps[1]
		}
		if err := Apply(p, ev); err != nil {
			b.Fatal(err)
		}
	}
	data, _ := ps[0].MarshalBinary()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		var p Profile
		if err := p.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
		Merge(&p, ps[1])
	}
	reportCPU(b, cpu)
}

// BenchmarkEncode compares the binary form with the API's JSON, in size
// and speed, for a typical profile.
func BenchmarkEncode(b *testing.B) {
	evs, ids := benchEvents(1)
	p := New(ids[0])
	for _, ev := range evs {
		if err := Apply(p, ev); err != nil {
			b.Fatal(err)
		}
	}
	bin, _ := p.MarshalBinary()
	js, _ := json.Marshal(View(p))
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for range b.N {
			if _, err := p.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
		b.ReportMetric(float64(len(bin)), "bytes")
	})
	b.Run("unbinary", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for range b.N {
			var q Profile
			if err := q.UnmarshalBinary(bin); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for range b.N {
			if _, err := json.Marshal(View(p)); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
		b.ReportMetric(float64(len(js)), "bytes")
	})
}

// BenchmarkMemory measures the heap a Set of 50,000 realistic profiles
// (about 500,000 events) holds: the hot state per profile, including its
// share of the map. The Set flushes every 10,000 events, as checkpoints
// would, and twice at the end, so no rows or batch buffers are left. Run it
// with -benchtime=1x.
func BenchmarkMemory(b *testing.B) {
	const people = 50_000
	for range b.N {
		before := heap()
		evs, ids := benchEvents(people)
		s := NewSet()
		for k, ev := range evs {
			if err := s.Apply(ids[k], ev); err != nil {
				b.Fatal(err)
			}
			evs[k] = nil // the log's copy, not the profile's
			if k%10_000 == 9_999 {
				benchFlush(b, s)
			}
		}
		benchFlush(b, s)
		benchFlush(b, s) // drops the room the previous Flush kept for the next batch
		evs, ids = nil, nil
		after := heap()
		b.ReportMetric(float64(after-before)/people, "bytes/profile")
		var data, traits, encoded int
		s.Range(func(p *Profile) bool {
			bin, _ := p.MarshalBinary()
			data, traits, encoded = data+len(p.data), traits+len(p.Traits()), encoded+len(bin)
			return true
		})
		b.ReportMetric(float64(data)/people, "data-bytes/profile")
		b.ReportMetric(float64(encoded)/people, "binary-bytes/profile")
		b.ReportMetric(float64(traits)/people, "traits/profile")
		runtime.KeepAlive(s)
	}
}

func benchFlush(b *testing.B, s *Set) {
	if _, err := s.Flush(); err != nil {
		b.Fatal(err)
	}
}

func heap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// cpuTime returns the CPU time the process has used. Benchmarks report it
// per operation besides the wall time, which on a shared machine also
// counts the time other processes held the CPU.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// loggedEvents returns events with the messages of testdata/messages.jsonl:
// page, track, screen and identify calls as browser and mobile SDKs send
// them, enriched with the parsed user agent as the engine reads them from
// the log (about 1 kB each).
func loggedEvents(tb testing.TB) []*mosaic.Event {
	tb.Helper()
	data, err := os.ReadFile("testdata/messages.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []*mosaic.Event
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var m struct{ Type, MessageID string }
		if err := json.Unmarshal(line, &m); err != nil {
			tb.Fatalf("testdata/messages.jsonl line %d: %v", i+1, err)
		}
		evs = append(evs, &mosaic.Event{Seq: uint64(i + 1), SourceID: "src-web-0001", MessageID: m.MessageID,
			Type: m.Type, ReceivedAt: at, Message: line})
	}
	return evs
}

// BenchmarkDecode measures reading what a profile needs from a logged
// message.
func BenchmarkDecode(b *testing.B) {
	evs := loggedEvents(b)
	var d decoder
	size := 0
	for _, ev := range evs {
		size += len(ev.Message)
	}
	b.SetBytes(int64(size / len(evs)))
	b.ReportAllocs()
	cpu := cpuTime()
	n := 0
	for b.Loop() {
		if _, err := d.decode(evs[n%len(evs)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportCPU(b, cpu)
}

// BenchmarkSetApplyLogged is BenchmarkSetApply with logged messages: 2,000
// profiles, each event a new one in log order, a Flush every 10,000.
func BenchmarkSetApplyLogged(b *testing.B) {
	evs := loggedEvents(b)
	s := NewSet()
	b.ReportAllocs()
	cpu := cpuTime()
	n := 0
	for b.Loop() {
		ev := *evs[n%len(evs)]
		ev.Seq = uint64(n + 1)
		if err := s.Apply(uint64(n%2000+1)<<8, &ev); err != nil {
			b.Fatal(err)
		}
		if n++; n%10000 == 0 {
			if _, err := s.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPU(b, cpu)
}
