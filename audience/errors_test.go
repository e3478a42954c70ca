package audience

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestErrorGolden feeds each line of testdata/errors/parse.txt to Parse and
// each line of decode.txt to Decode, and compares the errors with the
// .golden files: every bad condition must fail with a message that says
// where and what.
func TestErrorGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parse func(string) error
	}{
		{"parse", func(s string) error { _, err := Parse(s); return err }},
		{"decode", func(s string) error { _, err := Decode([]byte(s)); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			for _, line := range strings.Split(readFile(t, "testdata/errors/"+tc.name+".txt"), "\n") {
				if line == "" || strings.HasPrefix(line, "//") {
					continue
				}
				err := tc.parse(line)
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("%s(%s) = %v, want an *Error", tc.name, line, err)
					continue
				}
				out.WriteString(line + "\n=> " + err.Error() + "\n\n")
			}
			golden := "testdata/errors/" + tc.name + ".golden"
			if *update {
				writeFile(t, golden, out.String())
			}
			if want := readFile(t, golden); out.String() != want {
				t.Errorf("errors differ from %s (-want +got):\n%s", golden, cmp.Diff(want, out.String()))
			}
		})
	}
}

// TestErrorPositions checks positions on more than one line, which the
// one-line golden files cannot show.
func TestErrorPositions(t *testing.T) {
	tests := []struct {
		name, src         string
		wantLine, wantCol int
	}{
		{"second line", "trait a = 1\n  and trait b =", 2, 16},
		{"after a comment", "# audience for the spring campaign\ntrait a = 1 annd trait b = 2", 2, 13},
		{"unicode before", "trait \"städte\" = \"köln\" and ?", 1, 29},
		{"bad window", "count(event x\n within 30x) > 1", 2, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.src)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want an *Error", tt.src, err)
			}
			if e.Line != tt.wantLine || e.Col != tt.wantCol {
				t.Errorf("Parse(%q) error at %d:%d (%v), want %d:%d", tt.src, e.Line, e.Col, err, tt.wantLine, tt.wantCol)
			}
		})
	}
}
