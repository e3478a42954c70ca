package audience

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeds adds the golden inputs and the error inputs as fuzz seeds.
func seeds(f *testing.F, add func(string)) {
	f.Helper()
	files, _ := filepath.Glob("testdata/text/*.txt")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(string(b))
	}
	for _, name := range []string{"testdata/errors/parse.txt", "testdata/errors/decode.txt"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			add(line)
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts prints canonically
// and reads back to the same tree, in both forms.
func FuzzParse(f *testing.F) {
	seeds(f, func(s string) { f.Add(s) })
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) = %T %v, want an *Error", src, err, err)
			}
			return
		}
		checkRoundTrips(t, c)
	})
}

// FuzzDecode: Decode never panics, and what it accepts round-trips.
func FuzzDecode(f *testing.F) {
	seeds(f, func(s string) {
		if c, err := Parse(s); err == nil {
			b, _ := c.MarshalJSON()
			f.Add(b)
		}
		f.Add([]byte(s))
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Decode(%q) = %T %v, want an *Error", data, err, err)
			}
			return
		}
		checkRoundTrips(t, c)
	})
}
