package eventlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// openLog opens a log in dir and closes it when the test ends.
func openLog(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v, want nil", dir, err)
	}
	t.Cleanup(func() { closeQuietly(t, l) })
	return l
}

// closeQuietly closes l, accepting that the test closed it already.
func closeQuietly(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("Close() = %v, want nil", err)
	}
}

// reopen closes l and opens its directory again.
func reopen(t testing.TB, l *Log, opts Options) *Log {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	return openLog(t, l.dir, opts)
}

// payload is the deterministic content of record number seq of a test log,
// size bytes long (at least long enough to name seq).
func payload(seq uint64, size int) []byte {
	p := fmt.Appendf(nil, "record-%d:", seq)
	for len(p) < size {
		p = append(p, byte('a'+(seq+uint64(len(p)))%26))
	}
	return p
}

// batchOf returns n payloads of size bytes for the seqs from first on.
func batchOf(first uint64, n, size int) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = payload(first+uint64(i), size)
	}
	return recs
}

// appendBatch appends recs and checks that they got the wanted first seq.
func appendBatch(t testing.TB, l *Log, recs [][]byte, wantFirst uint64) {
	t.Helper()
	first, err := l.Append(context.Background(), recs)
	if err != nil {
		t.Fatalf("Append(%d records) = %v, want nil", len(recs), err)
	}
	if first != wantFirst {
		t.Fatalf("Append(%d records) first = %d, want %d", len(recs), first, wantFirst)
	}
}

// fill appends n records of size bytes in batches of batch, continuing after
// LastSeq, and returns everything the log should then hold after the start.
func fill(t testing.TB, l *Log, n, batch, size int) [][]byte {
	t.Helper()
	var all [][]byte
	for done := 0; done < n; done += batch {
		k := min(batch, n-done)
		first := l.LastSeq() + 1
		recs := batchOf(first, k, size)
		appendBatch(t, l, recs, first)
		all = append(all, recs...)
	}
	return all
}

// fataler is the part of testing.TB the helpers below need, which
// rapid.T has too.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// scanAll returns copies of all records after after, through Scan.
func scanAll(t fataler, l *Log, after uint64) []Record {
	t.Helper()
	var out []Record
	err := l.Scan(after, func(r Record) error {
		r.Data = bytes.Clone(r.Data)
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%d) = %v, want nil", after, err)
	}
	return out
}

// wantRecords builds the records the log should return for data starting
// at seq first.
func wantRecords(first uint64, data [][]byte) []Record {
	out := make([]Record, len(data))
	for i, d := range data {
		out[i] = Record{Seq: first + uint64(i), Data: d}
	}
	return out
}

// comparable is a Record as tests compare it: without the append time, and
// with Data as a string, which cmp compares quickly and prints readably.
type comparable struct {
	Seq  uint64
	Data string
}

func comparables(recs []Record) []comparable {
	out := make([]comparable, len(recs))
	for i, r := range recs {
		out[i] = comparable{Seq: r.Seq, Data: string(r.Data)}
	}
	return out
}

// checkRecords compares got with want, ignoring append times.
func checkRecords(t testing.TB, what string, got, want []Record) {
	t.Helper()
	if diff := cmp.Diff(comparables(want), comparables(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// segmentFiles returns the segment file names in dir, in order.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	firsts, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(firsts))
	for i, f := range firsts {
		names[i] = segmentName(f)
	}
	return names
}

// lastSegment returns the path of the newest segment in dir.
func lastSegment(t testing.TB, dir string) string {
	t.Helper()
	names := segmentFiles(t, dir)
	if len(names) == 0 {
		t.Fatalf("no segment in %s", dir)
	}
	return filepath.Join(dir, names[len(names)-1])
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// logBuffer captures what the log reports through its slog.Logger.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
