package imports

import (
	"encoding/json"
	"testing"
)

// TestAppendJSONAsMarshal: the row encoder writes what encoding/json
// writes, so messages (and content-derived messageIds) stay as they were.
func TestAppendJSONAsMarshal(t *testing.T) {
	for _, v := range []any{
		map[string]any{"type": "identify", "userId": "K0000001", "traits": map[string]any{"email": " A@B.nl ", "z": nil, "a": true},
			"context": map[string]any{"import": map[string]any{"row": 12, "line": 13, "file": "contacts.csv"}, "library": map[string]any{"name": "mosaic-import"}}},
		map[string]any{"name": "Jan <b> & \"Piet\"", "city": "Zürich", "sep": "a\u2028b", "ctl": "x\ty", "bad": "\xff"},
		map[string]any{"n": json.Number("12.50"), "f": 12.5, "big": 1e21, "list": []any{"x", json.Number("3"), false, nil, map[string]any{}}},
		map[string]any{"library": json.RawMessage(`{"name":"mosaic-import"}`), "import": json.RawMessage(`{"file":"a\u003cb.csv","row":1}`)},
		"plain", 42, nil,
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSON(nil, v); string(got) != string(want) {
			t.Errorf("appendJSON(%v) =\n %s\nwant\n %s", v, got, want)
		}
	}
}
