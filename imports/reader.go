package imports

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Formats and encodings a file may have.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"

	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
)

// sniffBytes is how much of a file is looked at to guess its encoding and
// delimiter.
const sniffBytes = 64 << 10

// record is one row of a file.
type record interface {
	// value returns a column's value: a string for CSV, any JSON value for
	// JSON Lines. ok is false when the row has no such column.
	value(col string) (v any, ok bool)
	// text is the row as read, for the error report.
	text() string
}

// rowReader reads a file row by row in constant memory.
type rowReader interface {
	// next returns the next row and its line number; io.EOF at the end. A
	// *rowError is a bad row: reading goes on after it.
	next() (record, int, error)
	columns() []string // the header; nil for JSON Lines
}

// rowError is a row that could not be read.
type rowError struct {
	line   int
	column string
	reason string
	raw    string
}

func (e *rowError) Error() string { return e.reason }

// decodeText wraps r so that it yields UTF-8: it strips a UTF-8 BOM and
// decodes Windows-1252 when asked, or when enc is "" and the start of the
// file is not valid UTF-8. It returns the encoding used.
func decodeText(r io.Reader, enc string) (io.Reader, string, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", err
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
		head = head[3:]
		if enc == "" {
			enc = EncodingUTF8
		}
	}
	switch strings.ToLower(strings.ReplaceAll(enc, "_", "-")) {
	case "":
		if validUTF8Prefix(head) {
			return br, EncodingUTF8, nil
		}
		return charmap.Windows1252.NewDecoder().Reader(br), EncodingWindows1252, nil
	case "utf-8", "utf8":
		return br, EncodingUTF8, nil
	case "windows-1252", "cp1252", "latin1", "latin-1", "iso-8859-1":
		return charmap.Windows1252.NewDecoder().Reader(br), EncodingWindows1252, nil
	}
	return nil, "", fmt.Errorf("encoding %q is not supported; use utf-8 or windows-1252", enc)
}

// validUTF8Prefix reports whether b is UTF-8, allowing a rune cut at the end.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// sniffDelimiter guesses the delimiter from the header line: the most
// frequent of , ; tab | outside quotes, or ',' if none occurs.
func sniffDelimiter(head []byte) rune {
	counts := map[byte]int{}
	inQuote := false
	for _, c := range head {
		if c == '"' {
			inQuote = !inQuote
		}
		if !inQuote && (c == '\n' || c == '\r') {
			break
		}
		if !inQuote && (c == ',' || c == ';' || c == '\t' || c == '|') {
			counts[c]++
		}
	}
	best, n := byte(','), 0
	for _, c := range []byte{',', ';', '\t', '|'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

// csvReader reads a CSV file with a header row.
type csvReader struct {
	r      *csv.Reader
	header []string
	index  map[string]int
	row    csvRecord
}

type csvRecord struct {
	r      *csvReader
	fields []string
}

func (c *csvRecord) value(col string) (any, bool) {
	i, ok := c.r.index[col]
	if !ok || i >= len(c.fields) {
		return nil, false
	}
	return c.fields[i], true
}

func (c *csvRecord) text() string {
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	w.Comma = c.r.r.Comma
	_ = w.Write(c.fields)
	w.Flush()
	return strings.TrimRight(sb.String(), "\r\n")
}

// newCSVReader reads the header of r (UTF-8 already) with delimiter delim,
// or a guessed one if delim is 0.
func newCSVReader(r io.Reader, delim rune) (*csvReader, rune, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	if delim == 0 {
		head, _ := br.Peek(sniffBytes)
		delim = sniffDelimiter(head)
	}
	cr := csv.NewReader(br)
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes, cr.ReuseRecord = delim, -1, true, true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, delim, errors.New("the file is empty: a CSV import needs a header row with the column names")
		}
		return nil, delim, fmt.Errorf("the header row cannot be read: %w", err)
	}
	c := &csvReader{r: cr, header: make([]string, len(header)), index: make(map[string]int, len(header))}
	for i, h := range header {
		h = strings.TrimSpace(h)
		c.header[i] = h
		if _, dup := c.index[h]; !dup {
			c.index[h] = i
		}
	}
	c.row.r = c
	return c, delim, nil
}

func (c *csvReader) columns() []string { return c.header }

func (c *csvReader) next() (record, int, error) {
	fields, err := c.r.Read()
	line, _ := c.r.FieldPos(0)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.StartLine, &rowError{line: pe.StartLine, reason: pe.Err.Error()}
		}
		return nil, line, err
	}
	c.row.fields = fields
	if len(fields) == 1 && fields[0] == "" {
		return c.next() // a blank line
	}
	if len(fields) != len(c.header) {
		return nil, line, &rowError{line: line, raw: c.row.text(), reason: fmt.Sprintf(
			"the row has %d fields but the header has %d columns; check the delimiter and quoting", len(fields), len(c.header))}
	}
	return &c.row, line, nil
}

// jsonlReader reads JSON Lines: one object per line.
type jsonlReader struct {
	sc   *bufio.Scanner
	line int
	row  jsonRecord
}

type jsonRecord struct {
	raw string
	obj map[string]any
}

// value looks up a key, or a dotted path into nested objects
// ("address.city") when the object has no key with the dots.
func (j *jsonRecord) value(col string) (any, bool) {
	if v, ok := j.obj[col]; ok {
		return v, true
	}
	cur := any(j.obj)
	for part := range strings.SplitSeq(col, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (j *jsonRecord) text() string { return j.raw }

// maxLine bounds one JSON line.
const maxLine = 1 << 20

func newJSONLReader(r io.Reader) *jsonlReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	return &jsonlReader{sc: sc}
}

func (j *jsonlReader) columns() []string { return nil }

func (j *jsonlReader) next() (record, int, error) {
	for j.sc.Scan() {
		j.line++
		b := bytes.TrimSpace(j.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		j.row.raw = string(b)
		j.row.obj = nil
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&j.row.obj); err != nil || j.row.obj == nil {
			return nil, j.line, &rowError{line: j.line, raw: j.row.raw, reason: "the line is not a JSON object"}
		}
		if dec.InputOffset() != int64(len(b)) { // b is trimmed: anything left is more than one object
			return nil, j.line, &rowError{line: j.line, raw: j.row.raw,
				reason: "the line holds more than one JSON object; JSON Lines has one object per line"}
		}
		return &j.row, j.line, nil
	}
	if err := j.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, j.line + 1, fmt.Errorf("line %d is longer than %d bytes", j.line+1, maxLine)
		}
		return nil, j.line, err
	}
	return nil, j.line, io.EOF
}
