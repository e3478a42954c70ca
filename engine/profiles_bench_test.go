package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/eventlog"
	"github.com/mosaic-cdp/mosaic/store/sqlite"
	"github.com/mosaic-cdp/mosaic/synth"
)

// BenchmarkProfilesStage measures dedupe + identity + profiles together:
// events/s from a filled log until the profiles reflect the last event, with
// checkpoints to SQLite, on synthetic customer journeys (package synth:
// several devices, logins, changing emails, shared devices, junk, late
// events, orders) of 50,000 people, about 10 events each.
func BenchmarkProfilesStage(b *testing.B) {
	opts := synth.DefaultOptions()
	opts.People = 50_000
	l, st := openLog(b, ""), openStore(b)
	recs := make([][]byte, 0, 1000)
	flush := func() {
		if _, err := l.Append(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
		recs = recs[:0]
	}
	g := synth.New(opts)
	for {
		m, ok := g.NextMessage()
		if !ok {
			break
		}
		ev := mosaic.Event{SourceID: "web", MessageID: m.MessageID, Type: m.Type, ReceivedAt: m.Arrival, Message: m.JSON}
		r, _ := ev.MarshalBinary()
		if recs = append(recs, r); len(recs) == cap(recs) {
			flush()
		}
	}
	flush()
	for _, parts := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("partitions=%d", parts), func(b *testing.B) {
			benchmarkProfilesStage(b, l, st, parts)
		})
	}
}

func benchmarkProfilesStage(b *testing.B, l *eventlog.Log, st *sqlite.DB, parts int) {
	for range b.N {
		if err := st.ResetDerived(context.Background()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		e := New(l, st, Options{})
		p, err := NewProfiles(e, st, ProfileOptions{Partitions: parts})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 2)
		go func() { done <- e.Run(ctx) }()
		go func() { done <- p.Run(ctx) }()
		wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Minute)
		if err := p.WaitProcessed(wctx, l.LastSeq()); err != nil {
			b.Fatal(err)
		}
		wcancel()
		b.ReportMetric(float64(l.LastSeq())/time.Since(start).Seconds(), "events/s")
		cancel()
		<-done
		<-done
	}
}
