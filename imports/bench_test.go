package imports

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/collect"
	"github.com/mosaic-cdp/mosaic/eventlog"
)

// memSettings is an in-memory settings store.
type memSettings struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memSettings) Setting(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return "", mosaic.Errorf(mosaic.ENOTFOUND, "no setting %s", key)
	}
	return v, nil
}

func (s *memSettings) PutSetting(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[key] = value
	return nil
}

type noQuarantine struct{}

func (noQuarantine) AddRejected(context.Context, []*mosaic.Rejected) error { return nil }

type oneSource struct{ src *mosaic.Source }

func (o oneSource) SourceByWriteKey(context.Context, string) (*mosaic.Source, error) {
	return o.src, nil
}

// contacts returns a CSV of n contact rows in the shape of a CRM export.
func contacts(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Klantnummer;E-mail;Voornaam;Achternaam;Telefoon;Land;Geboortedatum\n")
	for i := range n {
		fmt.Fprintf(&b, "K%07d; Klant%d@Example.NL ;Jan;de  Vries;06 %08d;Nederland;%02d-%02d-19%02d\n", i, i, 10000000+i, 1+i%28, 1+i%12, 50+i%50)
	}
	return b.Bytes()
}

// BenchmarkImportCSV measures a contact import end to end into a real
// event log: CSV parsing, mapping, the Tracking API's validation, cleaning
// (email, phone, name, country, date) and durable appends.
func BenchmarkImportCSV(b *testing.B) {
	const rows = 100000
	data := contacts(rows)
	lg, err := eventlog.Open(b.TempDir(), eventlog.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	src := &mosaic.Source{ID: "src-1", Name: "crm"}
	settings := &memSettings{}
	opts := collect.DefaultOptions()
	opts.Cleaner = clean.New(clean.Options{DefaultRegion: "NL", Settings: settings})
	h := collect.NewHandler(lg, oneSource{src}, noQuarantine{}, opts)
	mgr, err := NewManager(h, settings, Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	mp := &Mapping{Key: "Klantnummer", Fields: []Field{{"user_id", "Klantnummer"}, {"email", "E-mail"},
		{"firstName", "Voornaam"}, {"lastName", "Achternaam"}, {"phone", "Telefoon"}, {"country", "Land"}, {"birthday", "Geboortedatum"}}}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	start := cpuTime()
	for range b.N {
		job, err := mgr.Run(context.Background(), Request{Source: src, File: "contacts.csv", Mapping: mp}, bytes.NewReader(data))
		if err != nil || job.Stored != rows {
			b.Fatalf("import = %+v, %v", job, err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	// CPU time per row, all threads: on a shared machine wall time also
	// measures the neighbours.
	b.ReportMetric(float64(cpuTime()-start)/1e3/float64(rows*b.N), "cpu-µs/row")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
