package audience

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sameTree compares trees by their exported fields: what both forms carry.
var sameTree = cmp.Options{cmpopts.IgnoreUnexported(Condition{}), cmp.AllowUnexported(Value{}), cmpopts.EquateEmpty()}

// TestTextGolden parses each testdata/text/*.txt (written freely: comments,
// line breaks, upper case) and compares the canonical text and the JSON
// tree with the .golden file next to it; then it checks the round trips
// both ways.
func TestTextGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/text/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs in testdata/text: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			src := readFile(t, file)
			c, err := Parse(src)
			if err != nil {
				t.Fatalf("Parse(%s) = %v", file, err)
			}
			tree, err := MarshalIndent(c)
			if err != nil {
				t.Fatalf("MarshalIndent: %v", err)
			}
			got := Format(c) + "\n\n" + string(tree) + "\n"
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *update {
				writeFile(t, golden, got)
			}
			if want := readFile(t, golden); got != want {
				t.Errorf("Parse(%s) then Format and MarshalIndent (-want +got):\n%s", file, cmp.Diff(want, got))
			}
			checkRoundTrips(t, c)
		})
	}
}

// checkRoundTrips checks tree → text → tree and tree → JSON → tree give the
// same tree, and that the text printed is canonical (text → tree → text is
// the identity on it).
func checkRoundTrips(t tester, c *Condition) {
	t.Helper()
	text := Format(c)
	fromText, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(Format(c)) = %v for %s", err, text)
	}
	if diff := cmp.Diff(c, fromText, sameTree); diff != "" {
		t.Errorf("Parse(Format(c)) differs from c (-c +parsed):\n%s", diff)
	}
	if again := Format(fromText); again != text {
		t.Errorf("Format(Parse(%s)) = %s, want it unchanged", text, again)
	}
	data, err := c.MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	fromJSON, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode(MarshalJSON(c)) = %v for %s", err, data)
	}
	if diff := cmp.Diff(c, fromJSON, sameTree); diff != "" {
		t.Errorf("Decode(MarshalJSON(c)) differs from c (-c +decoded):\n%s", diff)
	}
}

// tester is what *testing.T and *rapid.T share.
type tester interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (run go test -update to create the golden files)", err)
	}
	return string(b)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
