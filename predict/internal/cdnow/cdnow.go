// Package cdnow loads the CDNOW data set, the benchmark of the
// buy-till-you-die literature, for the tests of the predict packages. The
// data live outside the repository, in shared/data/cdnow beside the checkout;
// tests that need them fail (never skip) when they are missing.
package cdnow

import (
	"bufio"
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic/predict"
)

// CalibrationEnd is the as-of date of the published results: the end of
// week 39, 1997-09-30, with orders dated that day included.
var CalibrationEnd = time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)

// HoldoutEnd is the end of the tracking period, 1998-06-30 (week 78).
var HoldoutEnd = time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC)

// Dir returns the directory holding the CDNOW files, failing the test with
// instructions when it is not there.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cdnow: cannot locate this source file to find the data directory")
	}
	// This file is predict/internal/cdnow/cdnow.go in the checkout; the data
	// sit in shared/data/cdnow next to the checkout's directory.
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "data", "cdnow")
	if _, err := os.Stat(filepath.Join(dir, "cdnowElog.csv")); err != nil {
		t.Fatalf("cdnow: the CDNOW data set is missing (%v); check out the shared "+
			"data next to the repository so that ../shared/data/cdnow holds cdnowElog.csv", err)
	}
	return dir
}

// Elog reads cdnowElog.csv, the 2,357-customer sample as an event log, into
// orders keyed by the sample's customer id ("1" … "2357").
func Elog(t testing.TB) map[string][]predict.Order {
	t.Helper()
	rows := readCSV(t, "cdnowElog.csv")
	orders := make(map[string][]predict.Order)
	for i, row := range rows[1:] {
		if len(row) != 5 {
			t.Fatalf("cdnowElog.csv line %d: %d fields, want 5", i+2, len(row))
		}
		orders[row[1]] = append(orders[row[1]], order(t, row[2], row[4]))
	}
	return orders
}

// Sample reads CDNOW_sample.txt, the same sample as fixed-width text, into
// orders keyed by the sample's customer id without zero padding.
func Sample(t testing.TB) map[string][]predict.Order {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(t), "CDNOW_sample.txt"))
	if err != nil {
		t.Fatalf("cdnow: %v", err)
	}
	defer f.Close()
	orders := make(map[string][]predict.Order)
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) != 5 {
			t.Fatalf("CDNOW_sample.txt line %d: %d fields, want 5", line, len(fields))
		}
		id := strings.TrimLeft(fields[1], "0")
		orders[id] = append(orders[id], order(t, fields[2], fields[4]))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("cdnow: reading CDNOW_sample.txt: %v", err)
	}
	return orders
}

// SummaryRow is one line of cdnow_customers_summary_with_transactions.csv,
// the published calibration summary rounded to 2 decimals.
type SummaryRow struct {
	ID             string
	X              int
	Tx, T, MeanSum float64
}

// PublishedSummary reads the published calibration summary with spend.
func PublishedSummary(t testing.TB) []SummaryRow {
	t.Helper()
	rows := readCSV(t, "cdnow_customers_summary_with_transactions.csv")
	out := make([]SummaryRow, 0, len(rows)-1)
	for i, row := range rows[1:] {
		if len(row) != 5 {
			t.Fatalf("summary line %d: %d fields, want 5", i+2, len(row))
		}
		x, err := strconv.Atoi(row[1])
		if err != nil {
			t.Fatalf("summary line %d: x: %v", i+2, err)
		}
		out = append(out, SummaryRow{ID: row[0], X: x,
			Tx: number(t, row[2]), T: number(t, row[3]), MeanSum: number(t, row[4])})
	}
	return out
}

// PublishedFrequency reads cdnow_customers_summary.csv (ID, frequency,
// recency, T), the file the lifetimes tests fit on.
func PublishedFrequency(t testing.TB) []SummaryRow {
	t.Helper()
	rows := readCSV(t, "cdnow_customers_summary.csv")
	out := make([]SummaryRow, 0, len(rows)-1)
	for i, row := range rows[1:] {
		x, err := strconv.Atoi(row[1])
		if err != nil || len(row) != 4 {
			t.Fatalf("cdnow_customers_summary.csv line %d: bad row %q", i+2, row)
		}
		out = append(out, SummaryRow{ID: row[0], X: x, Tx: number(t, row[2]), T: number(t, row[3])})
	}
	return out
}

// Summaries builds every customer's calibration summary from the raw event
// log, in customer id order 1 … 2357.
func Summaries(t testing.TB) (ids []string, sums []predict.Summary) {
	t.Helper()
	orders := Elog(t)
	for i := 1; i <= len(orders); i++ {
		id := strconv.Itoa(i)
		s, ok := predict.Summarize(orders[id], CalibrationEnd, predict.SummaryOptions{})
		if !ok {
			t.Fatalf("cdnow: customer %s has no order in the calibration period", id)
		}
		ids, sums = append(ids, id), append(sums, s)
	}
	return ids, sums
}

func readCSV(t testing.TB, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(t), name))
	if err != nil {
		t.Fatalf("cdnow: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("cdnow: reading %s: %v", name, err)
	}
	return rows
}

func order(t testing.TB, date, sales string) predict.Order {
	t.Helper()
	d, err := time.Parse("20060102", date)
	if err != nil {
		t.Fatalf("cdnow: bad date %q: %v", date, err)
	}
	return predict.Order{Time: d, Revenue: number(t, sales)}
}

func number(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		t.Fatalf("cdnow: bad number %q: %v", s, err)
	}
	return v
}
