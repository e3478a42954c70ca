package activate

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File is the kind that writes messages to files in a directory, as CSV or
// JSON Lines. Each batch becomes one file, written under a temporary name,
// synced, then renamed: a reader never sees half a file. The schedule is
// the batch settings: batch_wait is how often a file is written at most,
// batch_size how many rows it holds at most; POST …/flush writes one now.
type File struct{}

// Type implements Kind.
func (File) Type() string { return "file" }

// Description implements Kind.
func (File) Description() string {
	return "Writes messages as CSV or JSON Lines files into a directory, atomically (write, sync, rename)."
}

// Spec implements Kind.
func (File) Spec() []Setting {
	return []Setting{
		{Name: "directory", Type: TypeString, Required: true, Description: "Directory the files are written to; relative paths are inside the data directory's exports folder. Created if missing."},
		{Name: "format", Type: TypeEnum, Enum: []string{"jsonl", "csv"}, Default: "jsonl", Description: "jsonl: one message per line as JSON. csv: columns id, type, profile, timestamp, data (JSON), with cells that a spreadsheet would run as formulas made inert."},
		{Name: "prefix", Type: TypeString, Default: "mosaic", Description: "Start of each file name; files are named <prefix>-<UTC time>-<first message id>.<format>."},
	}
}

// Open implements Kind.
func (File) Open(d *Destination, env Env) (Sender, error) {
	dir := d.Settings.String("directory")
	if !filepath.IsAbs(dir) {
		if env.FileRoot == "" {
			return nil, fmt.Errorf("directory %q is relative and the server has no exports folder: give an absolute path", dir)
		}
		dir = filepath.Join(env.FileRoot, filepath.Clean("/"+dir))
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create export directory: %w", err)
	}
	return &fileSender{dir: dir, format: d.Settings.String("format"), prefix: d.Settings.String("prefix"), now: env.Now}, nil
}

type fileSender struct {
	dir, format, prefix string
	now                 func() time.Time
}

// Send implements Sender.
func (f *fileSender) Send(ctx context.Context, msgs []Message) error {
	name := fmt.Sprintf("%s-%s-%s.%s", f.prefix, f.now().UTC().Format("20060102T150405.000000Z"), safeName(msgs[0].ID), f.format)
	tmp, err := os.CreateTemp(f.dir, ".tmp-"+name+"-*")
	if err != nil {
		return &SendError{Err: err}
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	w := bufio.NewWriter(tmp)
	if f.format == "csv" {
		err = writeCSV(w, msgs)
	} else {
		err = writeJSONL(w, msgs)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(f.dir, name))
	}
	if err == nil {
		err = syncDir(f.dir)
	}
	if err != nil {
		return &SendError{Err: fmt.Errorf("write export file: %w", err)}
	}
	return nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func writeJSONL(w *bufio.Writer, msgs []Message) error {
	for _, m := range msgs {
		w.Write(m.Payload)
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}

func writeCSV(w *bufio.Writer, msgs []Message) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"id", "type", "profile", "timestamp", "data"}); err != nil {
		return err
	}
	for _, m := range msgs {
		var p struct {
			Timestamp string          `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(m.Payload, &p)
		row := []string{m.ID, m.Type, m.ProfileKey, p.Timestamp, string(p.Data)}
		for i := range row {
			row[i] = SafeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SafeCell makes a CSV cell inert for spreadsheets: a cell starting with
// =, +, -, @, tab or carriage return would run as a formula (CSV
// injection), so it gets a leading apostrophe, as OWASP advises.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Close implements Sender.
func (f *fileSender) Close() error { return nil }
