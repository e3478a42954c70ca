package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// ImportCmd streams a CSV or JSON Lines file to the running server, which
// turns each row into an identify or track call of the source.
type ImportCmd struct {
	ClientFlags
	Source      string `required:"" help:"Source (id or name) the rows belong to."`
	Map         string `help:"Mapping of Mosaic fields to the file's columns, e.g. 'user_id=Klantnummer,email=E-mail,first_name=Voornaam'. Default: the source's saved mapping." placeholder:"FIELD=COLUMN,..."`
	Event       string `help:"Make each row a track call with this event name (e.g. \"Order Completed\"); without it rows are identify calls (contacts)."`
	Key         string `help:"Column that identifies a row (customer or order number); re-importing gives the same messageIds. Default: the row's content." placeholder:"COLUMN"`
	Format      string `help:"csv or jsonl. Default: from the file name (.jsonl, .ndjson), else csv." enum:",csv,jsonl" default:""`
	Encoding    string `help:"utf-8 or windows-1252. Default: detected."`
	Delimiter   string `help:"CSV delimiter: , ; | or tab. Default: detected from the header."`
	SaveMapping bool   `help:"Save the mapping (and event, key) as the source's mapping for later imports."`
	Errors      string `help:"Write the error report (CSV) to this file if some rows failed." placeholder:"FILE" type:"path"`
	File        string `arg:"" help:"The CSV or JSON Lines file; - reads standard input." type:"path"`
}

type importJob struct {
	ID         string  `json:"id"`
	State      string  `json:"state"`
	Rows       int64   `json:"rows"`
	Stored     int64   `json:"stored"`
	Failed     int64   `json:"failed"`
	BytesRead  int64   `json:"bytes_read"`
	RowsPerSec float64 `json:"rows_per_second"`
	Encoding   string  `json:"encoding"`
	Delimiter  string  `json:"delimiter"`
	Error      string  `json:"error"`
}

// Run uploads the file and shows progress until the server has stored it.
func (c *ImportCmd) Run(g *Globals) error {
	if c.AdminToken == "" {
		return fmt.Errorf("no admin token: set MOSAIC_ADMIN_TOKEN (printed when the server first started) or pass --admin-token")
	}
	in, size, name, err := c.open()
	if err != nil {
		return err
	}
	defer in.Close()
	id := uuid.NewString()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sent atomic.Int64
	done := make(chan struct{})
	go c.progress(ctx, g.Stderr, id, size, &sent, done)
	job, err := c.upload(ctx, id, name, size, &countReader{r: in, n: &sent})
	close(done)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "Imported %s: %d rows, %d stored, %d failed (%.0f rows/s, %s", name, job.Rows, job.Stored, job.Failed, job.RowsPerSec, job.Encoding)
	if job.Delimiter != "" {
		fmt.Fprintf(g.Stdout, ", delimiter %q", job.Delimiter)
	}
	fmt.Fprintf(g.Stdout, ")\n  import id: %s\n", job.ID)
	if job.Failed > 0 {
		if err := c.saveReport(ctx, job.ID, g.Stdout); err != nil {
			return err
		}
	}
	if job.State != "done" {
		return fmt.Errorf("the import stopped: %s", job.Error)
	}
	return nil
}

func (c *ImportCmd) open() (io.ReadCloser, int64, string, error) {
	if c.File == "-" {
		return io.NopCloser(os.Stdin), 0, "stdin", nil
	}
	f, err := os.Open(c.File)
	if err != nil {
		return nil, 0, "", fmt.Errorf("cannot read the file to import: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, "", err
	}
	return f, st.Size(), filepath.Base(c.File), nil
}

// upload streams the file as the request body.
func (c *ImportCmd) upload(ctx context.Context, id, name string, size int64, body io.Reader) (*importJob, error) {
	q := url.Values{"id": {id}, "file": {name}}
	for k, v := range map[string]string{"map": c.Map, "event": c.Event, "key": c.Key, "format": c.Format,
		"encoding": c.Encoding, "delimiter": c.Delimiter} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if c.SaveMapping {
		q.Set("save_mapping", "true")
	}
	u := strings.TrimRight(c.Server, "/") + "/api/v1/sources/" + url.PathEscape(c.Source) + "/imports?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, "POST", u, body)
	if err != nil {
		return nil, fmt.Errorf("bad --server %q: %w", c.Server, err)
	}
	if size > 0 {
		req.ContentLength = size
	}
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the Mosaic server at %s (is 'mosaic serve' running? set --server or MOSAIC_SERVER): %w", c.Server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e apiError
		if json.NewDecoder(resp.Body).Decode(&e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("%s (%s)", e.Error.Message, e.Error.Code)
		}
		return nil, fmt.Errorf("server answered %s", resp.Status)
	}
	var job importJob
	return &job, json.NewDecoder(resp.Body).Decode(&job)
}

// progress prints rows/s and the ETA while the import runs, on a terminal.
func (c *ImportCmd) progress(ctx context.Context, w io.Writer, id string, size int64, sent *atomic.Int64, done <-chan struct{}) {
	if f, ok := w.(*os.File); !ok || !isTerminal(f) {
		return
	}
	start := time.Now()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			fmt.Fprint(w, "\r\033[K")
			return
		case <-tick.C:
		}
		var job importJob
		if err := c.call(ctx, "GET", "/api/v1/imports/"+id, nil, &job); err != nil {
			continue
		}
		line := fmt.Sprintf("%d rows  %.0f rows/s  %d failed", job.Rows, job.RowsPerSec, job.Failed)
		if n := sent.Load(); size > 0 && n > 0 {
			frac := float64(n) / float64(size)
			eta := time.Duration(float64(time.Since(start)) * (1 - frac) / frac).Round(time.Second)
			line += fmt.Sprintf("  %s %3.0f%%  ETA %s", bar(frac, 24), 100*frac, eta)
		}
		fmt.Fprintf(w, "\r\033[K%s", line)
	}
}

func bar(frac float64, width int) string {
	n := min(width, int(frac*float64(width)))
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// saveReport writes the error report to --errors, or says where it is.
func (c *ImportCmd) saveReport(ctx context.Context, id string, w io.Writer) error {
	path := "/api/v1/imports/" + id + "/errors"
	if c.Errors == "" {
		fmt.Fprintf(w, "  error report: %s%s (or rerun with --errors FILE)\n", strings.TrimRight(c.Server, "/"), path)
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(c.Server, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("downloading the error report: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("downloading the error report: server answered %s", resp.Status)
	}
	f, err := os.Create(c.Errors)
	if err != nil {
		return fmt.Errorf("writing the error report: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("writing the error report: %w", err)
	}
	fmt.Fprintf(w, "  error report: %s\n", c.Errors)
	return f.Close()
}

// countReader counts the bytes sent.
type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
