package collect

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Tracking API's Prometheus metrics.
type metrics struct {
	requests      *prometheus.CounterVec // by route and HTTP status
	events        prometheus.Counter     // messages durably appended
	bytes         prometheus.Counter     // request body bytes as sent (compressed if gzip)
	rejected      *prometheus.CounterVec // messages quarantined, by error code
	appendSeconds prometheus.Histogram   // time Append took, i.e. waiting for the group commit
	suppressed    prometheus.Counter     // messages not stored: a suppressed identifier
}

// newMetrics makes the metrics and registers them on reg, if not nil.
// inFlight reports the requests being handled, for the gauge that shows how
// close the server is to answering 429.
func newMetrics(reg prometheus.Registerer, inFlight func() float64) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mosaic_collect_requests_total",
			Help: "Tracking API requests, by route and HTTP status.",
		}, []string{"route", "status"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mosaic_collect_events_total",
			Help: "Messages accepted and durably appended to the event log.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mosaic_collect_received_bytes_total",
			Help: "Request body bytes received by the Tracking API, as sent (before gzip inflation).",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mosaic_collect_rejected_events_total",
			Help: "Messages rejected by validation and put in quarantine, by error code.",
		}, []string{"code"}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mosaic_collect_suppressed_events_total",
			Help: "Messages answered but not stored because they carry an identifier on the suppression list.",
		}),
		appendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mosaic_collect_append_seconds",
			Help:    "Time to append a request's messages to the event log, including the wait for the shared fsync.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 15), // 0.1 ms to 1.6 s
		}),
	}
	if reg == nil {
		return m
	}
	m.requests = register(reg, m.requests)
	m.events = register(reg, m.events)
	m.bytes = register(reg, m.bytes)
	m.rejected = register(reg, m.rejected)
	m.appendSeconds = register(reg, m.appendSeconds)
	m.suppressed = register(reg, m.suppressed)
	register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mosaic_collect_in_flight_requests",
		Help: "Tracking API requests being handled; at Options.MaxInFlight, more get 429.",
	}, inFlight))
	return m
}

// register registers c, or returns the collector registered before under
// the same name (several handlers may share one registry, e.g. in tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return c
	case errors.As(err, &are):
		if old, ok := are.ExistingCollector.(C); ok {
			return old
		}
	}
	panic("collect: registering metrics: " + err.Error())
}
