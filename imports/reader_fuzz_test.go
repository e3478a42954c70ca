package imports

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// FuzzCSVReader reads any bytes as a CSV import and checks what the import
// relies on: no panic, the reading ends, line numbers only go forward, a
// row handed on has one field per column, and a bad row says why.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{
		"id,email\n1,a@b.nl\n2,c@d.nl\n",
		"\xef\xbb\xbfKlantnummer;E-mail\nK1;\"a;b\"\n",
		"id,note\n1,\"two\nlines\"\n2,\"quote \"\"x\"\"\"\n",
		"id,naam\n1,Andr\xe9\n",
		"a,b\n1\n1,2,3\n\n1,2\n",
		"a|b\n\"unterminated\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, _, err := decodeText(bytes.NewReader(data), "")
		if err != nil {
			t.Fatalf("decodeText = %v", err)
		}
		cr, _, err := newCSVReader(r, 0)
		if err != nil {
			return // an empty file or an unreadable header: refused as a whole
		}
		last := 0
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("more rows than bytes: the reader does not end")
			}
			rec, line, err := cr.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if line < last {
				t.Fatalf("line %d after line %d", line, last)
			}
			last = line
			var re *rowError
			switch {
			case errors.As(err, &re):
				if re.reason == "" || re.line < 1 {
					t.Fatalf("row error %+v: want a line and a reason", re)
				}
			case err != nil:
				t.Fatalf("next() = %v, want a row, a row error or EOF", err)
			default:
				if n := len(rec.(*csvRecord).fields); n != len(cr.columns()) {
					t.Fatalf("row with %d fields for %d columns", n, len(cr.columns()))
				}
			}
		}
	})
}

// FuzzJSONLReader reads any bytes as JSON Lines: every row handed on is
// exactly one JSON object, and every other non-blank line a row error.
func FuzzJSONLReader(f *testing.F) {
	for _, s := range []string{
		"{\"id\":1,\"email\":\"a@b.nl\"}\n{\"id\":2}\n",
		"{\"address\":{\"city\":\"Utrecht\"}}\r\n\n[1,2]\nnot json\n",
		"{} {}\n{\"a\":1}x\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		jr := newJSONLReader(bytes.NewReader(data))
		last := 0
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("more rows than bytes: the reader does not end")
			}
			rec, line, err := jr.next()
			if err != nil && !errors.As(err, new(*rowError)) {
				return // EOF, or a line too long: the import stops with the reason
			}
			if line <= last {
				t.Fatalf("line %d after line %d", line, last)
			}
			last = line
			if err != nil {
				continue
			}
			raw := rec.text()
			var obj map[string]any
			if !json.Valid([]byte(raw)) || json.Unmarshal([]byte(raw), &obj) != nil || obj == nil {
				t.Fatalf("row %q handed on, want exactly one JSON object", raw)
			}
		}
	})
}
