package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketRoundTrip(t *testing.T) {
	values := []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 123456789, math.MaxUint64 >> 1, math.MaxUint64}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, want an index in [0, %d)", v, i, numBuckets)
		}
		if up := bucketUpper(i); up < v {
			t.Errorf("bucketUpper(bucketOf(%d)) = %d, want ≥ %d", v, up, v)
		}
		if i > 0 && bucketUpper(i-1) >= v {
			t.Errorf("bucketUpper(bucketOf(%d)-1) = %d, want < %d", v, bucketUpper(i-1), v)
		}
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	// Every bucket must start right after the previous one ends, or values
	// would be lost or counted twice.
	for i := 1; i < numBuckets; i++ {
		lo := bucketUpper(i-1) + 1
		if got := bucketOf(lo); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d (first value after bucket %d)", lo, got, i, i-1)
		}
	}
}

func TestQuantile(t *testing.T) {
	uniform := make([]time.Duration, 100000)
	for i := range uniform {
		uniform[i] = time.Duration(i+1) * time.Microsecond
	}
	rng := rand.New(rand.NewPCG(1, 2))
	skewed := make([]time.Duration, 50000)
	for i := range skewed {
		// Mostly fast, with a long tail, like real request latencies.
		skewed[i] = time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))
	}
	tests := []struct {
		name   string
		values []time.Duration
	}{
		{"uniform", uniform},
		{"exponential", skewed},
		{"one value", []time.Duration{7 * time.Millisecond}},
		{"small exact", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tt.values {
				h.Record(v)
			}
			sorted := slices.Sorted(slices.Values(tt.values))
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				want := exactQuantile(sorted, q)
				got := h.Quantile(q)
				if !within(got, want, 1.0/halfCount) {
					t.Errorf("Quantile(%v) = %v, want %v within %.1f%%", q, got, want, 100.0/halfCount)
				}
			}
			if got, want := h.Max(), sorted[len(sorted)-1]; got != want {
				t.Errorf("Max() = %v, want %v", got, want)
			}
		})
	}
}

func TestQuantileEmpty(t *testing.T) {
	var h Histogram
	if got := h.Quantile(0.99); got != 0 {
		t.Errorf("Quantile(0.99) of empty histogram = %v, want 0", got)
	}
	if got := h.Mean(); got != 0 {
		t.Errorf("Mean() of empty histogram = %v, want 0", got)
	}
}

func TestMerge(t *testing.T) {
	var a, b, all Histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Millisecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a.Count() != all.Count() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Fatalf("merged (count, max, mean) = (%d, %v, %v), want (%d, %v, %v)",
			a.Count(), a.Max(), a.Mean(), all.Count(), all.Max(), all.Mean())
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if got, want := a.Quantile(q), all.Quantile(q); got != want {
			t.Errorf("merged Quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func within(got, want time.Duration, rel float64) bool {
	return math.Abs(float64(got-want)) <= rel*float64(want)+1
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	for i := range b.N {
		h.Record(time.Duration(i%10_000_000) * time.Nanosecond)
	}
}
