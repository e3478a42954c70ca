package synth

import "testing"

// BenchmarkNext measures messages generated per second, on the scale of
// the benchmark data set (a million people); b.N messages are taken from
// the start of the stream.
func BenchmarkNext(b *testing.B) {
	o := DefaultOptions()
	o.People = 1_000_000
	g := New(o)
	var bytes int64
	b.ReportAllocs()
	for b.Loop() {
		m, ok := g.Next()
		if !ok {
			g = New(o)
			continue
		}
		bytes += int64(len(m))
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "msgs/s")
	b.ReportMetric(float64(bytes)/secs/1e6, "MB/s")
	b.ReportMetric(float64(bytes)/float64(b.N), "B/msg")
}

// BenchmarkNextMessage is Next with the message's type, id and arrival,
// as mosaic-load sends them.
func BenchmarkNextMessage(b *testing.B) {
	o := DefaultOptions()
	o.People = 1_000_000
	g := New(o)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.NextMessage(); !ok {
			g = New(o)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
