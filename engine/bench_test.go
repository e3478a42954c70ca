package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/dedupe"
	"github.com/mosaic-cdp/mosaic/eventlog"
)

// benchRecords returns n log records of realistic events (about 700 bytes:
// context, page, properties), one in a hundred a retry of an earlier one,
// received over the course of one hour, within one day (so the stage
// never needs a checkpoint).
func benchRecords(b *testing.B, n int) []eventlog.Record {
	b.Helper()
	recs := make([]eventlog.Record, n)
	for i := range recs {
		id := i
		if i%100 == 99 {
			id = i - 50 // an SDK retry
		}
		ev := mosaic.Event{
			SourceID:   fmt.Sprintf("src_%d", i%4),
			MessageID:  fmt.Sprintf("0f8fad5b-d9cb-469f-a165-%012d", id),
			Type:       mosaic.TypeTrack,
			ReceivedAt: base.Add(time.Hour + time.Duration(i)*time.Hour/time.Duration(n)),
			Message: fmt.Appendf(nil, `{"type":"track","event":"Product Viewed","messageId":"0f8fad5b-d9cb-469f-a165-%012d",`+
				`"anonymousId":"a7c1f3f0-2b9e-4a57-9b1f-7d1e8a0f5c3d","userId":"user-%d",`+
				`"context":{"ip":"203.0.113.7","library":{"name":"analytics.js","version":"5.2.0"},`+
				`"page":{"path":"/products/42","referrer":"https://example.com/","title":"Blue shoes","url":"https://shop.example.com/products/42"},`+
				`"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",`+
				`"locale":"en-US","timezone":"Europe/Berlin"},"properties":{"product_id":"42","sku":"BS-42","category":"Shoes",`+
				`"name":"Blue shoes","brand":"Acme","price":79.99,"currency":"EUR","quantity":1},`+
				`"timestamp":"2025-03-01T23:30:00.000Z","sentAt":"2025-03-01T23:30:00.100Z"}`, id, i%5000),
		}
		data, err := ev.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = eventlog.Record{Seq: uint64(i + 1), Data: data}
	}
	return recs
}

// BenchmarkDedupeStage measures the dedupe stage alone on one goroutine:
// decoding each record, hashing its key, looking it up in and adding it to
// the index, counting, publishing per batch of 1000. No store, no disk. The
// index starts full: 2M keys over the 7 days before, so that each new key is
// looked for in every generation as on a server that has run for a week.
func BenchmarkDedupeStage(b *testing.B) {
	const n = 200_000
	recs := benchRecords(b, n)
	// Each pass over recs rewrites the first 4 bytes of every messageId, so
	// that the keys are new again.
	idAt := make([]int, n)
	for i, r := range recs {
		idAt[i] = bytes.Index(r.Data, []byte("0f8fad5b-"))
	}
	e := New(nil, nil, Options{})
	prefill(e, 2_000_000, 7*day)
	b.SetBytes(1000 * int64(len(recs[0].Data)))
	done, pass := 0, 0
	for b.Loop() {
		if done == n {
			b.StopTimer()
			pass++
			for i := range recs {
				copy(recs[i].Data[idAt[i]:], fmt.Sprintf("%04x", pass))
				recs[i].Seq += n
			}
			e.idx.Pending() // as a checkpoint would
			e.dups, done = nil, 0
			b.StartTimer()
		}
		last := e.Processed()
		for _, r := range recs[done : done+1000] {
			e.process(context.Background(), r, &last)
		}
		e.publish(last)
		done += 1000
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}

// prefill records n random keys in e's index, received evenly over the span
// before the benchmark's records.
func prefill(e *Engine, n int, span time.Duration) {
	r := rand.New(rand.NewPCG(5, 6))
	var k dedupe.Key
	for i := range n {
		binary.LittleEndian.PutUint64(k[:8], r.Uint64())
		binary.LittleEndian.PutUint64(k[8:], r.Uint64())
		e.idx.Seen(k, base.Add(time.Hour-span+time.Duration(i)*(span/time.Duration(n))))
	}
	e.idx.Pending()
}

// BenchmarkEngine measures the engine end to end on a real log and store:
// reading records back from the log (in the page cache), the dedupe stage,
// and checkpoints to SQLite, from start-up until everything is processed.
func BenchmarkEngine(b *testing.B) {
	const n = 200_000
	l := openLog(b, "")
	recs := benchRecords(b, n)
	for i := 0; i < n; i += 10_000 {
		data := make([][]byte, 10_000)
		for j := range data {
			data[j] = recs[i+j].Data
		}
		if _, err := l.Append(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st := openStore(b)
		b.StartTimer()
		r := start(b, New(l, st, Options{}))
		catchUp(b, r.Engine, l)
		b.StopTimer()
		if err := r.stop(b); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "events/s")
}
