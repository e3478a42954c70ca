package postgres

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/eventlog"
)

func TestPackRows(t *testing.T) {
	t0 := time.Unix(100, 0)
	t1 := time.Unix(101, 0)
	rec := func(seq uint64, at time.Time, size int) eventlog.Record {
		return eventlog.Record{Seq: seq, Time: at, Data: bytes.Repeat([]byte{byte('a' + seq%26)}, size)}
	}
	tests := []struct {
		name  string
		recs  []eventlog.Record
		max   int
		wantN []int32 // records per row
	}{
		{"one record", []eventlog.Record{rec(1, t0, 10)}, 32, []int32{1}},
		{"one row", []eventlog.Record{rec(1, t0, 10), rec(2, t0, 0), rec(3, t0, 10)}, 32, []int32{3}},
		{"bounded by records", []eventlog.Record{rec(1, t0, 1), rec(2, t0, 1), rec(3, t0, 1)}, 2, []int32{2, 1}},
		{"one per row", []eventlog.Record{rec(1, t0, 1), rec(2, t0, 1)}, 1, []int32{1, 1}},
		{"bounded by bytes", []eventlog.Record{rec(1, t0, 5000), rec(2, t0, 5000), rec(3, t0, 100)}, 32, []int32{1, 2}},
		{"a large record alone", []eventlog.Record{rec(1, t0, 10), rec(2, t0, 20000), rec(3, t0, 10)}, 32, []int32{1, 1, 1}},
		{"time changes", []eventlog.Record{rec(1, t0, 1), rec(2, t1, 1), rec(3, t1, 1)}, 32, []int32{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := packRows(tt.recs, tt.max)
			var ns []int32
			var got []eventlog.Record
			for _, r := range rows {
				ns = append(ns, r.n)
				var err error
				if got, err = r.unpack(got); err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(ns) != fmt.Sprint(tt.wantN) {
				t.Errorf("records per row = %v, want %v", ns, tt.wantN)
			}
			if len(got) != len(tt.recs) {
				t.Fatalf("unpacked %d records, want %d", len(got), len(tt.recs))
			}
			for i, r := range got {
				w := tt.recs[i]
				if r.Seq != w.Seq || !r.Time.Equal(w.Time) || !bytes.Equal(r.Data, w.Data) {
					t.Errorf("record %d = %d %v %q, want %d %v %q", i, r.Seq, r.Time, r.Data, w.Seq, w.Time, w.Data)
				}
			}
		})
	}
}

func TestUnpackDamaged(t *testing.T) {
	good := packOne([]eventlog.Record{{Data: []byte("abc")}, {Data: []byte("de")}})
	for _, tt := range []struct {
		name string
		row  logRow
	}{
		{"truncated", logRow{seq: 7, n: 2, data: good[:len(good)-1]}},
		{"trailing bytes", logRow{seq: 7, n: 2, data: append(bytes.Clone(good), 'x')}},
		{"more records claimed", logRow{seq: 7, n: 3, data: good}},
		{"bad length", logRow{seq: 7, n: 2, data: []byte{0xff, 0xff, 0xff}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.row.unpack(nil)
			if err == nil || !strings.Contains(err.Error(), "row at 7 is damaged") {
				t.Fatalf("unpack() = %v, want an error naming the damaged row", err)
			}
		})
	}
}

// Reads starting inside a row, and erasure of records inside rows of
// several, with payloads growing and shrinking.
func TestLogRowsReadRedact(t *testing.T) {
	db, _ := openTemp(t)
	t.Cleanup(func() { db.Close() })
	l := openLog(t, db, LogOptions{CacheBytes: -1})
	var batch [][]byte
	for i := range 100 {
		batch = append(batch, fmt.Appendf(nil, "event-%03d", i))
	}
	first, err := l.Append(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := db.pool.QueryRow(t.Context(), `SELECT count(*) FROM event_log`).Scan(&rows); err != nil || rows >= 10 {
		t.Fatalf("100 small records in %d rows (%v), want a few rows of up to %d", rows, err, rowMaxRecords)
	}
	for _, after := range []uint64{0, 1, 31, 32, 33, 50, 98} {
		recs, err := l.Read(first-1+after, 5, 0)
		if err != nil || len(recs) != min(5, 100-int(after)) {
			t.Fatalf("Read(%d, 5) = %d records, %v", after, len(recs), err)
		}
		for i, r := range recs {
			if want := fmt.Sprintf("event-%03d", int(after)+i); r.Seq != first+after+uint64(i) || string(r.Data) != want {
				t.Fatalf("Read(%d)[%d] = %d %q, want %d %q", after, i, r.Seq, r.Data, first+after+uint64(i), want)
			}
		}
	}
	erase := []uint64{first + 1, first + 40, first + 41, first + 99, first + 500}
	n, err := l.Redact(erase, func(seq uint64, old []byte) []byte {
		if seq == first+40 {
			return nil
		}
		return append([]byte("redacted-a-good-deal-longer-than-before-"), old...)
	})
	if err != nil || n != 4 {
		t.Fatalf("Redact() = %d, %v; want 4 records rewritten", n, err)
	}
	recs, err := l.Read(first-1, 0, 0)
	if err != nil || len(recs) != 100 {
		t.Fatalf("Read() after Redact = %d records, %v", len(recs), err)
	}
	for i, r := range recs {
		want := fmt.Sprintf("event-%03d", i)
		switch uint64(i) {
		case 1, 41, 99:
			want = "redacted-a-good-deal-longer-than-before-" + want
		case 40:
			want = ""
		}
		if string(r.Data) != want {
			t.Errorf("record %d = %q, want %q", i, r.Data, want)
		}
	}
	if c, err := l.Count(t.Context()); err != nil || c != 100 {
		t.Errorf("Count() = %d, %v; want 100", c, err)
	}
}
