package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// BenchmarkProfilesStage measures dedupe + identity + profiles together:
// events/s from a filled log until the profiles reflect the last event, with
// checkpoints to SQLite. People browse anonymously, log in with an email and
// order; about 10 events per person.
func BenchmarkProfilesStage(b *testing.B) {
	const people, perPerson = 20_000, 10
	l, st := openLog(b, ""), openStore(b)
	recs := make([][]byte, 0, 1000)
	var seq int
	flush := func() {
		if _, err := l.Append(context.Background(), recs); err != nil {
			b.Fatal(err)
		}
		recs = recs[:0]
	}
	for person := range people {
		for i := range perPerson {
			var m string
			switch i {
			case 0:
				m = fmt.Sprintf(`{"type":"page","anonymousId":"anon-%d","name":"Home","context":{"page":{"url":"https://shop.example/"},"userAgent":"Mozilla/5.0"}}`, person)
			case 3:
				m = fmt.Sprintf(`{"type":"identify","anonymousId":"anon-%d","userId":"user-%d","traits":{"email":"p%d@shop.nl","name":"Person %d","plan":"pro","country":"NL"}}`, person, person, person, person)
			default:
				m = fmt.Sprintf(`{"type":"track","userId":"user-%d","event":"Order Completed","properties":{"revenue":%d.5,"currency":"EUR","product_id":"sku-%d"}}`, person, i, i)
			}
			seq++
			ev := mosaic.Event{SourceID: "web", MessageID: fmt.Sprint(seq), Type: typeOf(i), ReceivedAt: base.Add(time.Duration(seq) * time.Millisecond), Message: []byte(m)}
			r, _ := ev.MarshalBinary()
			if recs = append(recs, r); len(recs) == cap(recs) {
				flush()
			}
		}
	}
	flush()
	b.ResetTimer()
	for range b.N {
		if err := st.ResetDerived(context.Background()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		e := New(l, st, Options{})
		p, err := NewProfiles(e, st, ProfileOptions{})
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

func typeOf(i int) string {
	switch i {
	case 0:
		return "page"
	case 3:
		return "identify"
	}
	return "track"
}
