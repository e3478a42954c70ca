package audience

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPropertyValue reads event properties by name and by path.
func TestPropertyValue(t *testing.T) {
	props := `{
		"revenue": 12.5, "currency":"EUR", "items": [{"sku": "a}"}, "]"], "note": "say \"hi\"\n",
		"product": {"category": "shoes", "size": {"eu": 42}}, "product.category": "exact key wins",
		"caf\u00e9": true, "empty": {}, "nothing": null, "neg": -3e2, "shop.id": {"x": 1}
	}`
	tests := []struct {
		name string
		want any // as encoding/json decodes it; nil with ok false for absent
		ok   bool
	}{
		{"revenue", 12.5, true},
		{"currency", "EUR", true},
		{"note", "say \"hi\"\n", true},
		{"items", []any{map[string]any{"sku": "a}"}, "]"}, true},
		{"product.size.eu", 42.0, true},
		{"product.category", "exact key wins", true},
		{"café", true, true},
		{"nothing", nil, true},
		{"neg", -300.0, true},
		{"empty", map[string]any{}, true},
		{"missing", nil, false},
		{"product.missing", nil, false},
		{"revenue.x", nil, false},
		// A path is made of single keys: "shop.id" holds {"x": 1}, but
		// shop.id.x looks for "shop", which is absent.
		{"shop.id.x", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := propertyValue([]byte(props), tt.name)
			if ok != tt.ok || !cmp.Equal(v.Native(), tt.want) {
				t.Errorf("propertyValue(%s) = %#v, %v, want %#v, %v", tt.name, v.Native(), ok, tt.want, tt.ok)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"a": }`, `{"a" 1}`, `{"a": "unterminated}`, `{"a": [1, 2}`, `{"b": 1 "a": 2}`} {
		if v, ok := propertyValue([]byte(bad), "a"); ok {
			t.Errorf("propertyValue(%s, a) = %v, want not found", bad, v.Native())
		}
	}
}

// TestPropertyNumber reads properties as the numbers aggregates use.
func TestPropertyNumber(t *testing.T) {
	props := []byte(`{"a": 3, "b": "4.5", "c": "x", "d": true, "e": "1e999", "f": [1]}`)
	for _, tt := range []struct {
		name string
		want float64
		ok   bool
	}{{"a", 3, true}, {"b", 4.5, true}, {"c", 0, false}, {"d", 0, false}, {"e", 0, false}, {"f", 0, false}, {"g", 0, false}} {
		if got, ok := propertyNumber(props, tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("propertyNumber(%s) = %v, %v, want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzPropertyValue checks the scanner against encoding/json: for a valid
// object without repeated keys, a top-level key is found with the same
// value, and an absent one is not found. On anything it must not panic.
func FuzzPropertyValue(f *testing.F) {
	f.Add([]byte(`{"revenue": 12.5, "tags": ["a", "b"], "p": {"q": "r"}}`), "revenue")
	f.Add([]byte(`{"a\"b": "x\\y", "c": [{"]": "}"}]}`), `a"b`)
	f.Add([]byte(`{"k": null, "n": -0.5e-3}`), "n")
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		v, found := propertyValue(data, key)
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(data))
		if d.Decode(&m) != nil || d.More() || m == nil || repeatsKeys(data) || strings.Contains(key, ".") {
			return
		}
		want, ok := m[key]
		if found != ok {
			t.Fatalf("propertyValue(%s, %q) found %v, encoding/json %v", data, key, found, ok)
		}
		if ok && !cmp.Equal(v.Native(), want) {
			t.Fatalf("propertyValue(%s, %q) = %#v, encoding/json %#v", data, key, v.Native(), want)
		}
	})
}

// repeatsKeys reports whether the top-level object has a key twice, where
// encoding/json keeps the last and the scanner the first.
func repeatsKeys(data []byte) bool {
	d := json.NewDecoder(bytes.NewReader(data))
	if _, err := d.Token(); err != nil {
		return true
	}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return true
		}
		k, _ := tok.(string)
		if seen[k] {
			return true
		}
		seen[k] = true
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			return true
		}
	}
	return false
}
