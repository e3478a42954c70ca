package audience

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"pgregory.net/rapid"
)

const schemaFile = "../docs/condition.schema.json"

func loadSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile(schemaFile)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaFile, err)
	}
	return sch
}

func validateJSON(sch *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// TestSchemaAcceptsGoldenTrees validates the tree of every golden file and
// every case against docs/condition.schema.json.
func TestSchemaAcceptsGoldenTrees(t *testing.T) {
	sch := loadSchema(t)
	goldens, _ := filepath.Glob("testdata/text/*.golden")
	for _, file := range goldens {
		_, tree, ok := strings.Cut(readFile(t, file), "\n\n")
		if !ok {
			t.Fatalf("%s has no tree after its text", file)
		}
		if err := validateJSON(sch, []byte(tree)); err != nil {
			t.Errorf("%s: the schema refuses the tree: %v", file, err)
		}
	}
	cases, _ := filepath.Glob("testdata/cases/*.json")
	for _, file := range cases {
		_, c, _ := loadCase(t, file)
		data, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(sch, data); err != nil {
			t.Errorf("%s: the schema refuses the tree %s: %v", file, data, err)
		}
	}
	if len(goldens) == 0 || len(cases) == 0 {
		t.Fatal("no golden trees found")
	}
}

// TestSchemaAcceptsRandomTrees validates random checked trees.
func TestSchemaAcceptsRandomTrees(t *testing.T) {
	sch := loadSchema(t)
	rapid.Check(t, func(t *rapid.T) {
		c := genCondition(t)
		data, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(sch, data); err != nil {
			t.Fatalf("the schema refuses %s: %v", data, err)
		}
	})
}

// TestSchemaRefusesBadTrees: what Decode refuses, the schema refuses too,
// except for what a schema cannot see.
func TestSchemaRefusesBadTrees(t *testing.T) {
	sch := loadSchema(t)
	beyondSchema := map[string]string{
		`{"trait": "country", "trait": "city", "op": "=", "value": "NL"}`: "a repeated key is not JSON Schema's business",
		`{"expr": "traits.plan =="}`:                                      "CEL syntax",
		`{"expr": "1 + 2"}`:                                               "CEL types",
	}
	for _, line := range strings.Split(readFile(t, "testdata/errors/decode.txt"), "\n") {
		var v any
		if line == "" || strings.HasPrefix(line, "//") || json.Unmarshal([]byte(line), &v) != nil || beyondSchema[line] != "" {
			continue
		}
		if _, err := Decode([]byte(line)); err == nil {
			t.Fatalf("Decode(%s) succeeded; the file lists bad conditions", line)
		}
		if err := validateJSON(sch, []byte(line)); err == nil {
			t.Errorf("the schema accepts %s, which Decode refuses", line)
		}
	}
}

// TestSchemaIsJSON checks the schema declares the draft it is written in.
func TestSchemaIsJSON(t *testing.T) {
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil || v["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("%s is not a draft 2020-12 schema: %v", schemaFile, err)
	}
}
