package main

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// BenchmarkErasure measures one erasure end to end on the embedded store:
// a person with 1,000 events among 100,000 events of 10,000 people, from
// the request to "completed" (log redaction, rebuild of all derived state,
// compaction).
func BenchmarkErasure(b *testing.B) {
	for range b.N {
		b.StopTimer()
		m := NewMain(serveConfig(&testing.T{}, "--data", b.TempDir(), "--addr", "127.0.0.1:0", "--admin-token", testToken, "--log-level", "error"), io.Discard)
		if err := m.Open(context.Background()); err != nil {
			b.Fatal(err)
		}
		now := time.Now().UTC()
		for batch := range 100 {
			recs := make([][]byte, 0, 1000)
			for i := range 1000 {
				n := batch*1000 + i
				user := fmt.Sprintf("user-%d", n%10_000)
				if n%100 == 0 {
					user = "the-person"
				}
				msg := fmt.Sprintf(`{"type":"track","messageId":"m%d","userId":%q,"event":"Viewed","properties":{"n":%d},"receivedAt":%q,"timestamp":%q}`,
					n, user, n, now.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
				ev := mosaic.Event{SourceID: "s", MessageID: fmt.Sprint("m", n), Type: "track", ReceivedAt: now, Message: []byte(msg)}
				rec, _ := ev.MarshalBinary()
				recs = append(recs, rec)
			}
			if _, err := m.Log.Append(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
		}
		if err := m.Settle(context.Background()); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		b.StartTimer()
		req, err := m.Requests.Create(context.Background(), privacyInput("user_id", "the-person"), "bench")
		if err != nil {
			b.Fatal(err)
		}
		for {
			r, err := m.Store.PrivacyRequest(context.Background(), req.ID)
			if err != nil {
				b.Fatal(err)
			}
			if r.Status == "completed" || r.Status == "failed" {
				if r.Status == "failed" {
					b.Fatalf("erasure failed: %s", r.Error)
				}
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.StopTimer()
		b.ReportMetric(time.Since(start).Seconds(), "s/erasure")
		m.Close(context.Background())
		b.StartTimer()
	}
}
