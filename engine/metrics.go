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
	}, func() float64 { return behind(e.log.LastSeq(), e.Processed()) })
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

// newProfileMetrics registers the profile stage's position and lag with reg
// (none if nil). Its observers (audiences, consent, predictions' inputs)
// see each event before the stage moves past it, so an operator reads from
// these how far behind the log a profile, an audience membership or a
// consent state may be.
func newProfileMetrics(reg prometheus.Registerer, p *Profiles) {
	f := promauto.With(reg)
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mosaic_profiles_processed_seq",
		Help: "Highest event log sequence number the profiles (and the audiences, consent and predictions' inputs they feed) reflect.",
	}, func() float64 { return float64(p.Processed()) })
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mosaic_profiles_lag_records",
		Help: "Records in the event log the profile stage has not yet reflected.",
	}, func() float64 { return behind(p.dedupe.log.LastSeq(), p.Processed()) })
}

// behind returns how many records a stage at done has left of a log ending
// at last: none when a scrape reads the log's end before a stage that has
// since moved past it.
func behind(last, done uint64) float64 {
	if last < done {
		return 0
	}
	return float64(last - done)
}
