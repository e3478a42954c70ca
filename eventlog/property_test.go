package eventlog

import (
	"context"
	"testing"

	"pgregory.net/rapid"
)

// logMachine drives a real log with random appends, reads, scans and
// reopens, and compares every answer with a model: the slice of all
// payloads appended so far.
type logMachine struct {
	dir   string
	opts  Options
	log   *Log
	model [][]byte // model[i] is the payload of seq i+1
}

func (m *logMachine) Append(t *rapid.T) {
	recs := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 300), 1, 20).Draw(t, "records")
	first, err := m.log.Append(context.Background(), recs)
	if err != nil {
		t.Fatalf("Append(%d records) = %v", len(recs), err)
	}
	if want := uint64(len(m.model)) + 1; first != want {
		t.Fatalf("Append first = %d, want %d", first, want)
	}
	m.model = append(m.model, recs...)
}

func (m *logMachine) Read(t *rapid.T) {
	after := rapid.Uint64Range(0, uint64(len(m.model))+2).Draw(t, "after")
	max := rapid.IntRange(0, 30).Draw(t, "max")
	maxBytes := rapid.IntRange(0, 2000).Draw(t, "maxBytes")
	got, err := m.log.Read(after, max, maxBytes)
	if err != nil {
		t.Fatalf("Read(%d, %d, %d) = %v", after, max, maxBytes, err)
	}
	want := m.expectRead(after, max, maxBytes)
	m.compare(t, "Read", got, want)
}

// expectRead applies Read's documented limits to the model.
func (m *logMachine) expectRead(after uint64, max, maxBytes int) []Record {
	var want []Record
	bytes := 0
	for seq := after + 1; seq <= uint64(len(m.model)); seq++ {
		data := m.model[seq-1]
		if maxBytes > 0 && len(want) > 0 && bytes+len(data) > maxBytes {
			break
		}
		want = append(want, Record{Seq: seq, Data: data})
		bytes += len(data)
		if max > 0 && len(want) >= max {
			break
		}
	}
	return want
}

func (m *logMachine) Scan(t *rapid.T) {
	after := rapid.Uint64Range(0, uint64(len(m.model))).Draw(t, "after")
	m.compare(t, "Scan", scanAll(t, m.log, after), wantRecords(after+1, m.model[after:]))
}

func (m *logMachine) Reopen(t *rapid.T) {
	if err := m.log.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	l, err := Open(m.dir, m.opts)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	m.log = l
}

func (m *logMachine) Check(t *rapid.T) {
	if got := m.log.LastSeq(); got != uint64(len(m.model)) {
		t.Fatalf("LastSeq() = %d, want %d", got, len(m.model))
	}
}

func (m *logMachine) compare(t *rapid.T, what string, got, want []Record) {
	if len(got) != len(want) {
		t.Fatalf("%s returned %d records, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].Seq != want[i].Seq || string(got[i].Data) != string(want[i].Data) {
			t.Fatalf("%s record %d = seq %d %q, want seq %d %q", what, i, got[i].Seq, got[i].Data, want[i].Seq, want[i].Data)
		}
	}
}

func TestLogMatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		opts := Options{
			SegmentSize:   rapid.Int64Range(minSegmentSize, 4096).Draw(rt, "segmentSize"),
			IndexInterval: rapid.IntRange(1, 1024).Draw(rt, "indexInterval"),
		}
		dir := t.TempDir()
		l, err := Open(dir, opts)
		if err != nil {
			rt.Fatalf("Open() = %v", err)
		}
		m := &logMachine{dir: dir, opts: opts, log: l}
		defer func() { m.log.Close() }()
		rt.Repeat(rapid.StateMachineActions(m))
	})
}
