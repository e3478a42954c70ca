package engine

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the dedupe stage's Prometheus metrics.
type metrics struct {
	duplicates        prometheus.Counter
	corrupt           prometheus.Counter
	checkpointErrors  prometheus.Counter
	checkpointSeconds prometheus.Histogram
	keys              prometheus.Gauge
}

// newMetrics registers the metrics with reg (none if nil). Position and lag
// are computed when scraped, so they are exact whatever the engine is doing.
func newMetrics(reg prometheus.Registerer, e *Engine) *metrics {
	f := promauto.With(reg)
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mosaic_dedupe_processed_seq",
		Help: "Highest event log sequence number the dedupe stage has processed.",
	}, func() float64 { return float64(e.Processed()) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mosaic_dedupe_lag_records",
		Help: "Records in the event log not yet processed by the dedupe stage.",
	}, func() float64 {
		last, done := e.log.LastSeq(), e.Processed()
		if last < done {
			return 0
		}
		return float64(last - done)
	})
	return &metrics{
		duplicates: f.NewCounter(prometheus.CounterOpts{
			Name: "mosaic_dedupe_duplicates_total",
			Help: "Events found to repeat a (source, messageId) seen within the window.",
		}),
		corrupt: f.NewCounter(prometheus.CounterOpts{
			Name: "mosaic_dedupe_corrupt_records_total",
			Help: "Event log records skipped because they do not decode as an event.",
		}),
		checkpointErrors: f.NewCounter(prometheus.CounterOpts{
			Name: "mosaic_dedupe_checkpoint_errors_total",
			Help: "Dedupe checkpoints that failed to save and were retried.",
		}),
		checkpointSeconds: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "mosaic_dedupe_checkpoint_seconds",
			Help:    "Time to save a dedupe checkpoint to the store.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5ms to 4s
		}),
		keys: f.NewGauge(prometheus.GaugeOpts{
			Name: "mosaic_dedupe_keys",
			Help: "Message keys held by the dedupe index, as of the last checkpoint.",
		}),
	}
}
