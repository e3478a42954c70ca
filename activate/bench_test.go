package activate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/store"
)

// BenchmarkWebhookDelivery measures deliveries per second from the outbox
// (SQLite) to a local webhook receiver, one message per request and in
// batches of 100, over 1000 profiles.
func BenchmarkWebhookDelivery(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			var requests, received atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				requests.Add(1)
				if batch == 1 {
					received.Add(1)
				} else {
					received.Add(int64(bytes.Count(body, []byte(`"Order Completed"`))))
				}
			}))
			defer srv.Close()
			st := openStore(b)
			svc := New(st, Options{HTTP: loopbackClient(), Consent: allowAll{}, Poll: 10 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- svc.Run(ctx) }()
			defer func() { cancel(); <-done }()
			waitFor(b, "start", func() bool { svc.mu.Lock(); defer svc.mu.Unlock(); return svc.ctx != nil })
			v, err := createPaused(ctx, svc, srv.URL, batch)
			if err != nil {
				b.Fatal(err)
			}
			n := max(b.N, 1000)
			msgs := make([]store.OutboxMessage, n)
			payload := []byte(`{"type":"event.track","timestamp":"2026-01-01T00:00:00Z","data":{"event":"Order Completed","userId":"u","properties":{"revenue":10.5}}}`)
			for i := range msgs {
				msgs[i] = store.OutboxMessage{ID: fmt.Sprintf("msg_%d", i), DestinationID: v, ProfileKey: fmt.Sprint(i % 1000), Type: "event", Payload: payload, CreatedAt: time.Now()}
			}
			if err := st.Enqueue(ctx, msgs); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			if _, err := svc.SetStatus(ctx, v, StatusActive, ""); err != nil {
				b.Fatal(err)
			}
			// Watch the receiver's counter (cheap) before the store's
			// (a query that would compete with the worker for the CPU).
			waitFor(b, "all received", func() bool { return received.Load() >= int64(n) })
			waitFor(b, "all recorded", func() bool {
				s, _ := st.DeliveryStats(ctx, v)
				return s.Counts[store.DeliveryDelivered] == int64(n)
			})
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "deliveries/s")
			b.ReportMetric(float64(requests.Load()), "requests")
			// Sender and receiver share the process: CPU per message is
			// both, and less distorted by neighbours than the rate.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-us/msg")
		})
	}
}

// createPaused creates a webhook destination and pauses it, so the
// outbox fills before delivery starts.
func createPaused(ctx context.Context, s *Service, url string, batch int) (string, error) {
	v, err := s.Create(ctx, Input{Name: "bench", Type: "webhook", Settings: map[string]any{"url": url, "batch_size": batch},
		Purposes: []string{"analytics"}, Events: &EventFilter{}})
	if err != nil {
		return "", err
	}
	_, err = s.SetStatus(ctx, v.ID, StatusPaused, "")
	return v.ID, err
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
