package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// writeContacts writes a CSV of n contact rows in the shape of a CRM
// export (Windows style: semicolons, capitals, spaces, national phone
// numbers, Dutch country names, day-month-year dates), each with a
// distinct customer number, email and phone.
func writeContacts(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	_, _ = w.WriteString("Klantnummer;E-mail;Voornaam;Achternaam;Telefoon;Land;Geboortedatum\n")
	for i := range n {
		fmt.Fprintf(w, "K%07d; Klant%d@Example.NL ;Jan;de  Vries;06 %08d;Nederland;%02d-%02d-19%02d\n",
			i, i, 10000000+i, 1+i%28, 1+i%12, 50+i%50)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var importedRE = regexp.MustCompile(`(\d+) rows, (\d+) stored, (\d+) failed`)

// BenchmarkImportEndToEnd measures `mosaic import` of MOSAIC_IMPORT_ROWS
// contact rows (default 200,000; the target is stated for
// 1,000,000) through the real path: the CLI streams the file over HTTP to
// the real server (SQLite, --default-region NL), which reads, maps,
// validates, cleans and appends the rows to the event log. Both run in
// this process, so the CPU figures are the client's and the server's
// together.
//
// It reports rows/s into the log (until the import answered: every row
// durable) with the sequential stages (dedupe, identity, profiles, schema)
// processing the rows at the same time, as they do in production, and then
// how long the stages took to catch up. cpu-µs/row is all threads' CPU
// from the start of the import until it answered; total-cpu-µs/row until
// the stages had processed and checkpointed every row.
// MOSAIC_IMPORT_CPUPROFILE=FILE writes a CPU profile of the import alone
// (until it answered). Run it once:
// -benchtime 1x.
func BenchmarkImportEndToEnd(b *testing.B) {
	rows := envInt("MOSAIC_IMPORT_ROWS", 200000)
	file := filepath.Join(b.TempDir(), "contacts.csv")
	if err := writeContacts(file, rows); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		importOnce(b, file, rows)
	}
}

func importOnce(b *testing.B, file string, rows int) {
	var cli CLI
	parser, err := kong.New(&cli, kong.Configuration(configLoader), kong.DefaultEnvars("MOSAIC"), kong.Exit(func(int) {}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := parser.Parse([]string{"serve", "--data", b.TempDir(), "--addr", "127.0.0.1:0", "--admin-token", testToken,
		"--log-level", "warn", "--default-region", "NL"}); err != nil {
		b.Fatal(err)
	}
	m := NewMain(cli.Serve, io.Discard)
	if err := m.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = m.Close(context.Background()) }()
	s := &backlogServer{b: b, m: m, client: &http.Client{}}
	s.post("/api/v1/sources", `{"name":"crm"}`, adminHeader())
	b.Logf("load average %s", loadAvg())

	if path := os.Getenv("MOSAIC_IMPORT_CPUPROFILE"); path != "" {
		stop := profileCPU(b, path)
		defer stop()
	}
	cpu0, start := cpuTime(), time.Now()
	var out, errOut bytes.Buffer
	code := run([]string{"import", "--server", m.URL(), "--admin-token", testToken, "--source", "crm",
		"--key", "Klantnummer", "--map", "user_id=Klantnummer,email=E-mail,first_name=Voornaam,last_name=Achternaam,phone=Telefoon,country=Land,birthday=Geboortedatum",
		file}, &out, &errOut)
	wall, cpu := time.Since(start), cpuTime()-cpu0
	if code != 0 {
		b.Fatalf("mosaic import = %d: %s %s", code, out.String(), errOut.String())
	}
	if os.Getenv("MOSAIC_IMPORT_CPUPROFILE") != "" {
		pprof.StopCPUProfile()
	}
	mt := importedRE.FindStringSubmatch(out.String())
	if mt == nil || mt[1] != strconv.Itoa(rows) || mt[2] != strconv.Itoa(rows) {
		b.Fatalf("mosaic import printed %q, want all %d rows stored", out.String(), rows)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := m.Settle(ctx); err != nil {
		b.Fatal(err)
	}
	settled, cpuAll := time.Since(start), cpuTime()-cpu0
	b.Logf("imported in %v, processed by the stages in %v; load average %s", wall.Round(time.Millisecond), settled.Round(time.Millisecond), loadAvg())
	b.ReportMetric(float64(rows)/wall.Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(rows), "cpu-µs/row")
	b.ReportMetric(float64(rows)/settled.Seconds(), "processed-rows/s")
	b.ReportMetric(float64(cpuAll.Nanoseconds())/1e3/float64(rows), "total-cpu-µs/row")
}

// profileCPU starts a CPU profile into path; the returned func closes the
// file (the caller stops the profile where it wants it to end).
func profileCPU(b *testing.B, path string) func() {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}
