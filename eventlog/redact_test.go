package eventlog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestRedact rewrites records across segments in place: their old bytes
// leave every file, the others are untouched, the log reads and verifies,
// and it reopens.
func TestRedact(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.SegmentSize = 4 << 10 // several segments
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for i := range 200 {
		recs = append(recs, []byte(fmt.Sprintf("record %03d secret-%03d padding padding padding", i+1, i+1)))
	}
	if _, err := l.Append(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if l.Segments() < 3 {
		t.Fatalf("test needs several segments, got %d", l.Segments())
	}
	erase := []uint64{3, 77, 150, 200, 150, 999}
	blank := func(seq uint64, old []byte) []byte { return bytes.Repeat([]byte{'x'}, len(old)) }
	n, err := l.Redact(erase, blank)
	if err != nil || n != 4 {
		t.Fatalf("Redact = %d, %v, want 4 records", n, err)
	}
	if _, err := l.Redact([]uint64{5}, func(uint64, []byte) []byte { return []byte("short") }); !errors.Is(err, ErrRedactSize) {
		t.Errorf("Redact with a shorter payload = %v, want ErrRedactSize", err)
	}
	check := func(l *Log) {
		t.Helper()
		if err := l.Verify(); err != nil {
			t.Fatalf("Verify after Redact = %v", err)
		}
		got, err := l.Read(0, 0, 0)
		if err != nil || len(got) != 200 {
			t.Fatalf("Read = %d records, %v", len(got), err)
		}
		for _, r := range got {
			erased := r.Seq == 3 || r.Seq == 77 || r.Seq == 150 || r.Seq == 200
			if want := recs[r.Seq-1]; erased == bytes.Equal(r.Data, want) {
				t.Errorf("record %d = %q (erased %v)", r.Seq, r.Data, erased)
			}
		}
	}
	check(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range []string{"secret-003", "secret-077", "secret-150", "secret-200"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s still holds %s", f, s)
			}
		}
	}
	l, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	check(l)
}

// BenchmarkRedact erases 10,000 records spread over a log of 200,000
// records of 500 bytes (one person's events among many): the cost of the
// log part of an erasure.
func BenchmarkRedact(b *testing.B) {
	l, err := Open(b.TempDir(), DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := bytes.Repeat([]byte{'e'}, 500)
	batch := make([][]byte, 1000)
	for i := range batch {
		batch[i] = rec
	}
	for range 200 {
		if _, err := l.Append(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	var seqs []uint64
	for s := uint64(7); s <= 200_000; s += 20 {
		seqs = append(seqs, s)
	}
	blank := func(_ uint64, old []byte) []byte { return make([]byte, len(old)) }
	b.ResetTimer()
	for b.Loop() {
		if n, err := l.Redact(seqs, blank); err != nil || n != len(seqs) {
			b.Fatalf("Redact = %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(len(seqs)), "records/op")
}

// Readers go on while records are redacted: a frame read while it is
// rewritten is read again, so no reader sees an error, and every record is
// visited once, either as it was or redacted.
func TestRedactWhileReading(t *testing.T) {
	opts := DefaultOptions()
	opts.SegmentSize = 64 << 10
	l, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const total = 4000
	var recs [][]byte
	for i := range total {
		recs = append(recs, []byte(fmt.Sprintf("record %05d %s", i+1, bytes.Repeat([]byte{'a'}, 200))))
	}
	if _, err := l.Append(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for round := range 30 {
			var seqs []uint64
			for s := uint64(1 + round%7); s <= total; s += 7 {
				seqs = append(seqs, s)
			}
			fill := byte('b' + round%20)
			if _, err := l.Redact(seqs, func(_ uint64, old []byte) []byte { return bytes.Repeat([]byte{fill}, len(old)) }); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		var n uint64
		if err := l.Scan(0, func(r Record) error {
			if n++; r.Seq != n {
				return fmt.Errorf("record %d visited where %d was expected", r.Seq, n)
			}
			return nil
		}); err != nil {
			t.Fatalf("Scan while redacting = %v", err)
		}
		if n != total {
			t.Fatalf("Scan visited %d records, want %d", n, total)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
	}
}
