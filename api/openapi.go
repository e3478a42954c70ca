package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// OpenAPI is the OpenAPI 3.1 document of the admin and Tracking APIs. It is
// served at /api/v1/openapi.json, and docs/reference.md is generated from it
// (see Reference).
//
//go:embed openapi.json
var OpenAPI []byte

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(OpenAPI)
}

// The subset of OpenAPI that Reference renders.
type (
	oaDoc struct {
		Info       struct{ Title, Description string }
		Tags       []struct{ Name, Description string }
		Paths      map[string]map[string]json.RawMessage
		Components struct {
			Parameters map[string]oaParam
			Responses  map[string]oaResponse
			Schemas    map[string]oaSchema
		}
	}
	oaOp struct {
		Tags                 []string
		Summary, Description string
		Parameters           []oaParam
		Security             *[]map[string][]string
		RequestBody          *struct {
			Content map[string]struct {
				Schema  oaSchema
				Example any
			}
		}
		Responses map[string]oaResponse
	}
	oaParam struct {
		Ref         string `json:"$ref"`
		Name, In    string
		Description string
		Required    bool
		Schema      oaSchema
	}
	oaResponse struct {
		Ref         string `json:"$ref"`
		Description string
		Content     map[string]struct{ Schema oaSchema }
	}
	oaSchema struct {
		Ref         string `json:"$ref"`
		Type        any
		Description string
		Properties  map[string]oaSchema
		Items       *oaSchema
		Default     any
		Enum        []any
	}
)

var methodOrder = []string{"get", "post", "put", "patch", "delete"}

// Reference renders the OpenAPI document as Markdown, grouped by tag.
func Reference() ([]byte, error) {
	var doc oaDoc
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s reference\n\n<!-- Generated from api/openapi.json by `go test ./api -update`. Do not edit. -->\n\n%s\n", doc.Info.Title, doc.Info.Description)
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, tag := range doc.Tags {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n", tag.Name, tag.Description)
		for _, p := range paths {
			for _, m := range methodOrder {
				raw, ok := doc.Paths[p][m]
				if !ok {
					continue
				}
				var op oaOp
				if err := json.Unmarshal(raw, &op); err != nil {
					return nil, fmt.Errorf("openapi.json %s %s: %w", m, p, err)
				}
				if len(op.Tags) > 0 && op.Tags[0] == tag.Name {
					writeOp(&b, &doc, strings.ToUpper(m), p, &op)
				}
			}
		}
	}
	writeSchemas(&b, &doc)
	return []byte(b.String()), nil
}

func writeOp(b *strings.Builder, doc *oaDoc, method, path string, op *oaOp) {
	fmt.Fprintf(b, "\n### `%s %s`\n\n%s.", method, path, op.Summary)
	if op.Description != "" {
		fmt.Fprintf(b, " %s", op.Description)
	}
	b.WriteString("\n\n")
	switch {
	case op.Security != nil && len(*op.Security) == 0:
		b.WriteString("Authentication: none.\n")
	case op.Security != nil:
		b.WriteString("Authentication: the source's write key.\n")
	default:
		b.WriteString("Authentication: the admin token.\n")
	}
	params := op.Parameters
	if shared, ok := doc.Paths[path]["parameters"]; ok {
		var ps []oaParam
		_ = json.Unmarshal(shared, &ps)
		params = append(ps, params...)
	}
	if len(params) > 0 {
		b.WriteString("\n| parameter | in | type | description |\n|---|---|---|---|\n")
		for _, p := range params {
			if p.Ref != "" {
				p = doc.Components.Parameters[refName(p.Ref)]
			}
			fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", p.Name, p.In, typeOf(p.Schema), p.Description)
		}
	}
	if op.RequestBody != nil {
		c := op.RequestBody.Content["application/json"]
		fmt.Fprintf(b, "\nBody (JSON): %s\n", typeOf(c.Schema))
		if c.Example != nil {
			ex, _ := json.Marshal(c.Example)
			fmt.Fprintf(b, "\n```json\n%s\n```\n", ex)
		}
	}
	writeResponses(b, doc, op.Responses)
}

func writeResponses(b *strings.Builder, doc *oaDoc, responses map[string]oaResponse) {
	codes := make([]string, 0, len(responses))
	for c := range responses {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	b.WriteString("\n| status | meaning | body |\n|---|---|---|\n")
	for _, c := range codes {
		r := responses[c]
		if r.Ref != "" {
			r = doc.Components.Responses[refName(r.Ref)]
		}
		body := ""
		if j, ok := r.Content["application/json"]; ok {
			body = typeOf(j.Schema)
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", c, r.Description, body)
	}
}

func writeSchemas(b *strings.Builder, doc *oaDoc) {
	b.WriteString("\n## Schemas\n")
	names := make([]string, 0, len(doc.Components.Schemas))
	for n := range doc.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := doc.Components.Schemas[n]
		fmt.Fprintf(b, "\n### %s\n\n", n)
		if s.Description != "" {
			fmt.Fprintf(b, "%s\n\n", s.Description)
		}
		if len(s.Properties) == 0 {
			fmt.Fprintf(b, "%s\n", typeOf(s))
			continue
		}
		props := make([]string, 0, len(s.Properties))
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		b.WriteString("| field | type | description |\n|---|---|---|\n")
		for _, p := range props {
			fmt.Fprintf(b, "| `%s` | %s | %s |\n", p, typeOf(s.Properties[p]), s.Properties[p].Description)
		}
	}
}

func refName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

// typeOf renders a schema's type in a few words, linking named schemas.
func typeOf(s oaSchema) string {
	switch {
	case s.Ref != "":
		n := refName(s.Ref)
		return fmt.Sprintf("[%s](#%s)", n, strings.ToLower(n))
	case s.Items != nil:
		return "array of " + typeOf(*s.Items)
	case len(s.Enum) > 0:
		return fmt.Sprintf("one of %v", s.Enum)
	}
	switch t := s.Type.(type) {
	case string:
		return t
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, " or ")
	}
	if len(s.Properties) > 0 {
		return "object"
	}
	return "any"
}
