package main

import (
	"math/bits"
	"time"
)

// The latency histogram is a log-bucket histogram in the manner of
// HdrHistogram: values below 2^subBits nanoseconds get one bucket each, and
// every power-of-two range above that is split into 2^(subBits-1) equal
// buckets. Any recorded value is thus known to within 1/2^(subBits-1)
// (0.8 %), precise enough for a p99, in a fixed 60 KB whatever the run's
// length, with no allocation and no lock on the hot path.
const (
	subBits    = 8
	subCount   = 1 << subBits // values below this are exact
	halfCount  = subCount / 2 // buckets per power of two above that
	maxShift   = 64 - subBits // largest shift a uint64 needs
	numBuckets = subCount + maxShift*halfCount
)

// Histogram counts request latencies. It is not safe for concurrent use:
// each worker keeps its own and the runner merges them at the end.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	sum    uint64 // nanoseconds, for the mean
	max    uint64
	min    uint64
}

// Record adds one latency. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	h.total++
	h.sum += v
	h.max = max(h.max, v)
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.total += o.total
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest recorded value, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the average of the recorded values, exactly.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / h.total)
}

// Quantile returns the value below or at which a fraction q (0 to 1) of the
// recorded values lie: the upper edge of the bucket holding the value of
// rank ceil(q·n), clamped to the exact minimum and maximum. It returns 0 for
// an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.999999)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketUpper(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// bucketOf returns the index of the bucket that holds v.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits // ≥ 1
	top := v >> shift                // in [halfCount, subCount)
	return subCount + (shift-1)*halfCount + int(top-halfCount)
}

// bucketUpper returns the largest value that falls in bucket i.
func bucketUpper(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := (i-subCount)/halfCount + 1
	top := uint64((i-subCount)%halfCount + halfCount)
	return (top+1)<<shift - 1
}
