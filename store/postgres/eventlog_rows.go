package postgres

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/mosaic-cdp/mosaic/eventlog"
)

// A row of event_log holds n consecutive records from seq, all appended at
// the same time: with n = 1 data is the record itself (the layout before
// migration 00014, which every row of an older log keeps); with n > 1 data
// is each record's length as a uvarint followed by its bytes.
//
// Why several records per row: PostgreSQL's cost of COPY is mostly per row
// (tuple, index entry, WAL record), not per byte. Measured on the 2-core
// machine, 300,000 events of 750 bytes in groups of 1,600 took 5.4–6.4 s of
// PostgreSQL CPU as one row each and 3.6–4.5 s as rows of ten (2.6 s with
// lz4, on payloads more repetitive than events); through /v1/batch its CPU
// per event fell from 15–24 µs to 7 µs (docs/benchmarks.md). Rows are kept small enough that a reader
// asking for one record reads few others and that compressed rows stay in
// the table's pages rather than in TOAST.
const (
	// rowMaxRecords bounds the records of one row; reads look this far
	// back for the row holding a position.
	rowMaxRecords = 32
	// rowMaxBytes bounds the payload of one row (a larger record gets a
	// row of its own).
	rowMaxBytes = 8 << 10
)

// logRow is one row of event_log.
type logRow struct {
	seq  int64
	n    int32
	at   time.Time
	data []byte
}

// packRows groups records (consecutive sequence numbers) into rows of up
// to maxRecords records and rowMaxBytes of payload, breaking where the
// append time changes.
func packRows(recs []eventlog.Record, maxRecords int) []logRow {
	var rows []logRow
	for i := 0; i < len(recs); {
		j, size := i+1, len(recs[i].Data)
		for j < len(recs) && j-i < maxRecords && recs[j].Time.Equal(recs[i].Time) && size+len(recs[j].Data) <= rowMaxBytes {
			size += len(recs[j].Data)
			j++
		}
		rows = append(rows, logRow{seq: seqArg(recs[i].Seq), n: int32(j - i), at: recs[i].Time, data: packOne(recs[i:j])})
		i = j
	}
	return rows
}

// packOne returns the data of one row holding recs.
func packOne(recs []eventlog.Record) []byte {
	if len(recs) == 1 {
		return recs[0].Data
	}
	size := 0
	for _, r := range recs {
		size += len(r.Data) + binary.MaxVarintLen32
	}
	data := make([]byte, 0, size)
	for _, r := range recs {
		data = binary.AppendUvarint(data, uint64(len(r.Data)))
		data = append(data, r.Data...)
	}
	return data
}

// unpack appends the row's records to out.
func (r logRow) unpack(out []eventlog.Record) ([]eventlog.Record, error) {
	if r.n == 1 {
		return append(out, eventlog.Record{Seq: uint64(r.seq), Time: r.at, Data: r.data}), nil
	}
	data := r.data
	for k := range r.n {
		size, w := binary.Uvarint(data)
		if w <= 0 || uint64(len(data)-w) < size {
			return out, fmt.Errorf("postgres: the event log row at %d is damaged: record %d of %d does not fit its row", r.seq, k+1, r.n)
		}
		out = append(out, eventlog.Record{Seq: uint64(r.seq) + uint64(k), Time: r.at, Data: data[w : w+int(size) : w+int(size)]})
		data = data[w+int(size):]
	}
	if len(data) != 0 {
		return out, fmt.Errorf("postgres: the event log row at %d is damaged: %d bytes after its %d records", r.seq, len(data), r.n)
	}
	return out, nil
}

// rowSource feeds COPY with rows.
type rowSource struct {
	rows []logRow
	i    int
	vals [4]any
}

func (s *rowSource) Next() bool { s.i++; return s.i <= len(s.rows) }
func (s *rowSource) Values() ([]any, error) {
	r := s.rows[s.i-1]
	s.vals = [4]any{r.seq, r.n, r.at, r.data}
	return s.vals[:], nil
}
func (s *rowSource) Err() error { return nil }

// logColumns are the columns rowSource fills.
var logColumns = []string{"seq", "n", "appended", "data"}
