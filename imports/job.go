package imports

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/collect"
)

// Ingester stores batches the way the Tracking API does (collect.Handler).
type Ingester interface {
	Ingest(ctx context.Context, src *mosaic.Source, batch []byte) (collect.IngestResult, *mosaic.Error)
}

// Settings keeps saved mappings (the store).
type Settings interface {
	Setting(ctx context.Context, key string) (string, error)
	PutSetting(ctx context.Context, key, value string) error
}

// Options configure a Manager.
type Options struct {
	// Dir keeps each import's status and error report.
	Dir string
	Log *slog.Logger
	Now func() time.Time
	// BatchRows is how many rows go into one batch (one durable append).
	// Default 1,000.
	BatchRows int
	// Workers is how many batches are validated, cleaned and appended at
	// once. Default 2; more helps on machines with more cores.
	Workers int
}

// Manager runs imports and keeps their status and error reports.
type Manager struct {
	ing      Ingester
	settings Settings
	opts     Options

	mu   sync.Mutex
	jobs map[string]*running
}

// NewManager returns a Manager that stores rows through ing.
func NewManager(ing Ingester, settings Settings, opts Options) (*Manager, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = 1000
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("imports: create %s: %w", opts.Dir, err)
	}
	return &Manager{ing: ing, settings: settings, opts: opts, jobs: map[string]*running{}}, nil
}

// Job states.
const (
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// Job is an import's status.
type Job struct {
	ID         string    `json:"id"`
	SourceID   string    `json:"source_id"`
	File       string    `json:"file,omitempty"`
	Format     string    `json:"format"`
	Encoding   string    `json:"encoding,omitempty"`
	Delimiter  string    `json:"delimiter,omitempty"`
	Mapping    Mapping   `json:"mapping"`
	State      string    `json:"state"`
	Rows       int64     `json:"rows"`       // rows read
	Stored     int64     `json:"stored"`     // rows appended to the event log
	Failed     int64     `json:"failed"`     // rows in the error report
	BytesRead  int64     `json:"bytes_read"` // of the file, as sent
	BytesTotal int64     `json:"bytes_total,omitempty"`
	RowsPerSec float64   `json:"rows_per_second"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Error      string    `json:"error,omitempty"`
}

// Request is one import to run.
type Request struct {
	ID        string // optional, chosen by the client to follow progress; a UUID
	Source    *mosaic.Source
	File      string // the file's name, for the report
	Format    string // csv or jsonl; "" guesses from File, else csv
	Encoding  string // "" detects UTF-8 or Windows-1252
	Delimiter rune   // 0 guesses
	Mapping   *Mapping
	// Save stores the mapping as the source's saved mapping.
	Save bool
	// Size is the file's size if known, for progress.
	Size int64
}

// running is a job in progress.
type running struct {
	mu         sync.Mutex
	job        Job
	rows       atomic.Int64
	stored     atomic.Int64
	failed     atomic.Int64
	bytesRead  atomic.Int64
	reportFile *os.File
	report     *csv.Writer
}

func (r *running) snapshot(now time.Time) Job {
	r.mu.Lock()
	j := r.job
	r.mu.Unlock()
	j.Rows, j.Stored, j.Failed, j.BytesRead = r.rows.Load(), r.stored.Load(), r.failed.Load(), r.bytesRead.Load()
	end := now
	if !j.FinishedAt.IsZero() {
		end = j.FinishedAt
	}
	if d := end.Sub(j.StartedAt).Seconds(); d > 0 {
		j.RowsPerSec = float64(j.Rows) / d
	}
	return j
}

// Run imports body synchronously and returns the final status. Row errors
// never stop it; they go to the error report. The error is for problems
// with the request (EINVALID: mapping, format, header) or the server.
func (m *Manager) Run(ctx context.Context, req Request, body io.Reader) (*Job, error) {
	r, err := m.start(ctx, &req)
	if err != nil {
		return nil, err
	}
	err = m.run(ctx, r, &req, &countingReader{r: body, n: &r.bytesRead})
	r.mu.Lock()
	r.job.FinishedAt, r.job.State = m.opts.Now().UTC(), StateDone
	if err != nil {
		r.job.State, r.job.Error = StateFailed, errText(err)
	}
	r.mu.Unlock()
	r.report.Flush()
	if ferr := errors.Join(r.report.Error(), r.reportFile.Close()); ferr != nil && err == nil {
		err = ferr
	}
	job := r.snapshot(m.opts.Now())
	m.save(&job)
	m.opts.Log.Info("import finished", "import_id", job.ID, "source_id", job.SourceID, "rows", job.Rows,
		"stored", job.Stored, "failed", job.Failed, "state", job.State)
	var merr *mosaic.Error
	if errors.As(err, &merr) && merr.Code == mosaic.EINVALID {
		return &job, err
	}
	return &job, nil
}

func errText(err error) string {
	var merr *mosaic.Error
	if errors.As(err, &merr) {
		return merr.Message
	}
	return "The import stopped: " + err.Error()
}

// start checks the request and registers the job.
func (m *Manager) start(ctx context.Context, req *Request) (*running, error) {
	if req.ID == "" {
		req.ID = uuid.NewString()
	} else if _, err := uuid.Parse(req.ID); err != nil {
		return nil, mosaic.Errorf(mosaic.EINVALID, "An import id must be a UUID, not %q.", req.ID)
	}
	if req.Format == "" {
		req.Format = FormatCSV
		if ext := strings.ToLower(filepath.Ext(req.File)); ext == ".jsonl" || ext == ".ndjson" {
			req.Format = FormatJSONL
		}
	}
	if req.Format != FormatCSV && req.Format != FormatJSONL {
		return nil, mosaic.Errorf(mosaic.EINVALID, "Format %q is not csv or jsonl.", req.Format)
	}
	if req.Mapping == nil || len(req.Mapping.Fields) == 0 {
		saved, err := m.SavedMapping(ctx, req.Source.ID)
		if err != nil {
			return nil, mosaic.Errorf(mosaic.EINVALID,
				"The import has no mapping and source %q has none saved. Give one, e.g. --map 'user_id=Klantnummer,email=E-mail'.", req.Source.Name)
		}
		if req.Mapping != nil && req.Mapping.Event != "" {
			saved.Event = req.Mapping.Event
		}
		req.Mapping = saved
	}
	f, err := os.OpenFile(m.reportPath(req.ID), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		if os.IsExist(err) {
			return nil, mosaic.Errorf(mosaic.ECONFLICT, "An import with id %s exists already.", req.ID)
		}
		return nil, err
	}
	r := &running{reportFile: f, report: csv.NewWriter(f)}
	_ = r.report.Write([]string{"row", "line", "column", "code", "reason", "data"})
	r.job = Job{ID: req.ID, SourceID: req.Source.ID, File: req.File, Format: req.Format, Mapping: *req.Mapping,
		State: StateRunning, BytesTotal: req.Size, StartedAt: m.opts.Now().UTC()}
	m.mu.Lock()
	m.jobs[req.ID] = r
	m.mu.Unlock()
	return r, nil
}

func (m *Manager) reportPath(id string) string { return filepath.Join(m.opts.Dir, id+".errors.csv") }
func (m *Manager) jobPath(id string) string    { return filepath.Join(m.opts.Dir, id+".json") }

func (m *Manager) save(j *Job) {
	b, _ := json.MarshalIndent(j, "", "  ")
	if err := os.WriteFile(m.jobPath(j.ID), b, 0o640); err != nil {
		m.opts.Log.Error("saving an import's status", "import_id", j.ID, "err", err)
	}
	m.mu.Lock()
	delete(m.jobs, j.ID)
	m.mu.Unlock()
}

// run reads the rows and stores them in batches: one goroutine reads and
// builds, the caller's stores, so parsing and the durable appends overlap.
func (m *Manager) run(ctx context.Context, r *running, req *Request, body io.Reader) error {
	rd, err := m.open(r, req, body)
	if err != nil {
		return err
	}
	fields, err := req.Mapping.compile(rd.columns())
	if err != nil {
		return err
	}
	b := &builder{sourceID: req.Source.ID, mapping: req.Mapping, fields: fields, importID: req.ID, file: req.File}
	if req.Save {
		if err := m.SaveMapping(ctx, req.Source.ID, req.Mapping); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *batch, 2)
	readErr := make(chan error, 1)
	go func() { readErr <- m.read(ctx, r, rd, b, batches) }()
	// Several batches are stored at once: validation and cleaning run in
	// the storing goroutine, and the appends of concurrent batches share
	// group commits. Rows are independent, so their order in the log does
	// not matter.
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var storeErr error
	for range m.opts.Workers {
		wg.Go(func() {
			for bt := range batches {
				errMu.Lock()
				failed := storeErr != nil
				errMu.Unlock()
				if failed {
					continue
				}
				if err := m.store(ctx, r, req.Source, bt); err != nil {
					errMu.Lock()
					storeErr = err
					errMu.Unlock()
					cancel()
				}
			}
		})
	}
	wg.Wait()
	if err := <-readErr; err != nil && storeErr == nil {
		return err
	}
	return storeErr
}

// open detects the encoding and, for CSV, the delimiter, and reads the
// header.
func (m *Manager) open(r *running, req *Request, body io.Reader) (rowReader, error) {
	text, enc, err := decodeText(body, req.Encoding)
	if err != nil {
		return nil, mosaic.Errorf(mosaic.EINVALID, "%s", upperFirst(err.Error()))
	}
	r.mu.Lock()
	r.job.Encoding = enc
	r.mu.Unlock()
	if req.Format == FormatJSONL {
		return newJSONLReader(text), nil
	}
	cr, delim, err := newCSVReader(text, req.Delimiter)
	if err != nil {
		return nil, mosaic.Errorf(mosaic.EINVALID, "%s.", upperFirst(err.Error()))
	}
	r.mu.Lock()
	r.job.Delimiter = string(delim)
	r.mu.Unlock()
	return cr, nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// batch is a Tracking API batch of rows.
type batch struct {
	body  []byte
	rows  []int // row number of each message
	lines []int // its line in the file
}

// maxBatchBytes keeps batches well under what one append should hold.
const maxBatchBytes = 2 << 20

// read builds batches from the rows and sends them on out, which it closes.
func (m *Manager) read(ctx context.Context, r *running, rd rowReader, b *builder, out chan<- *batch) error {
	defer close(out)
	bt := newBatch()
	n := 0
	for {
		rec, line, err := rd.next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rerr *rowError
		switch {
		case errors.As(err, &rerr):
			n++
			r.rows.Add(1)
			m.fail(r, n, rerr.line, rerr.column, "invalid_row", rerr.reason, rerr.raw)
			continue
		case err != nil:
			return mosaic.Errorf(mosaic.EINVALID, "Reading the file stopped at line %d: %v. The rows before it were imported.", line, err)
		}
		n++
		r.rows.Add(1)
		mark := len(bt.body)
		if len(bt.rows) > 0 {
			bt.body = append(bt.body, ',')
		}
		var berr *rowError
		if bt.body, berr = b.build(bt.body, rec, line, n); berr != nil {
			bt.body = bt.body[:mark]
			m.fail(r, n, berr.line, berr.column, "invalid_value", berr.reason, berr.raw)
			continue
		}
		bt.rows, bt.lines = append(bt.rows, n), append(bt.lines, line)
		if len(bt.rows) >= m.opts.BatchRows || len(bt.body) >= maxBatchBytes {
			select {
			case out <- bt.finish():
			case <-ctx.Done():
				return ctx.Err()
			}
			bt = newBatch()
		}
	}
	if len(bt.rows) > 0 {
		select {
		case out <- bt.finish():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func newBatch() *batch {
	return &batch{body: append(make([]byte, 0, 256<<10), `{"batch":[`...)}
}

func (bt *batch) finish() *batch {
	bt.body = append(bt.body, "]}"...)
	return bt
}

// store ingests one batch, reporting the rows collect rejected.
func (m *Manager) store(ctx context.Context, r *running, src *mosaic.Source, bt *batch) error {
	res, err := m.ing.Ingest(ctx, src, bt.body)
	if err != nil {
		return err
	}
	r.stored.Add(int64(res.Stored))
	if len(res.Rejected) == 0 {
		return nil
	}
	var msgs struct {
		Batch []json.RawMessage `json:"batch"`
	}
	_ = json.Unmarshal(bt.body, &msgs) // built by us: valid
	for _, rej := range res.Rejected {
		raw := ""
		if rej.Index < len(msgs.Batch) {
			raw = string(msgs.Batch[rej.Index])
		}
		m.fail(r, bt.rows[rej.Index], bt.lines[rej.Index], "", rej.Code, rej.Message, raw)
	}
	return nil
}

// fail adds a row to the error report.
func (m *Manager) fail(r *running, row, line int, column, code, reason, raw string) {
	r.failed.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.report.Write([]string{fmt.Sprint(row), fmt.Sprint(line), safeCell(column), code, safeCell(reason), safeCell(raw)})
}

// safeCell defuses CSV injection: a spreadsheet runs a cell starting with
// = + - @ (or a tab or carriage return before one) as a formula, so such a
// cell gets a leading apostrophe, which spreadsheets show as text.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Job returns an import's status; ENOTFOUND if there is none.
func (m *Manager) Job(id string) (*Job, error) {
	m.mu.Lock()
	r := m.jobs[id]
	m.mu.Unlock()
	if r != nil {
		j := r.snapshot(m.opts.Now())
		return &j, nil
	}
	if _, err := uuid.Parse(id); err == nil {
		if b, err := os.ReadFile(m.jobPath(id)); err == nil {
			var j Job
			if json.Unmarshal(b, &j) == nil {
				return &j, nil
			}
		}
	}
	return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No import %q. List a source's imports with GET /api/v1/sources/{id}/imports.", id)
}

// Jobs lists a source's imports, newest first.
func (m *Manager) Jobs(sourceID string) ([]*Job, error) {
	ents, err := os.ReadDir(m.opts.Dir)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []*Job
	m.mu.Lock()
	for id, r := range m.jobs {
		if j := r.snapshot(m.opts.Now()); j.SourceID == sourceID {
			out, seen[id] = append(out, &j), true
		}
	}
	m.mu.Unlock()
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || seen[id] {
			continue
		}
		if j, err := m.Job(id); err == nil && j.SourceID == sourceID {
			out = append(out, j)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].StartedAt.After(out[k].StartedAt) })
	if out == nil {
		out = []*Job{}
	}
	return out, nil
}

// Report opens an import's error report (CSV: row, line, column, code,
// reason, data). ENOTFOUND if there is no such import.
func (m *Manager) Report(id string) (io.ReadCloser, error) {
	if _, err := m.Job(id); err != nil {
		return nil, err
	}
	return os.Open(m.reportPath(id))
}

func mappingKey(sourceID string) string { return "imports.mapping." + sourceID }

// SavedMapping returns a source's saved mapping; ENOTFOUND if none.
func (m *Manager) SavedMapping(ctx context.Context, sourceID string) (*Mapping, error) {
	v, err := m.settings.Setting(ctx, mappingKey(sourceID))
	if err != nil {
		return nil, err
	}
	var mp Mapping
	if err := json.Unmarshal([]byte(v), &mp); err != nil {
		return nil, fmt.Errorf("imports: saved mapping of source %s: %w", sourceID, err)
	}
	return &mp, nil
}

// SaveMapping stores a source's mapping for later imports.
func (m *Manager) SaveMapping(ctx context.Context, sourceID string, mp *Mapping) error {
	if _, err := mp.compile(nil); err != nil {
		return err
	}
	b, _ := json.Marshal(mp)
	return m.settings.PutSetting(ctx, mappingKey(sourceID), string(b))
}

// countingReader counts the bytes read, for progress.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
