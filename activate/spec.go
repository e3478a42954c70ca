package activate

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
)

// Setting types.
const (
	TypeString   = "string"
	TypeInt      = "int"
	TypeBool     = "bool"
	TypeDuration = "duration" // Go syntax: 500ms, 30s, 1h
	TypeURL      = "url"      // http or https
	TypeEnum     = "enum"
	TypeHeaders  = "headers" // object of header name → value
	TypeList     = "list"    // list of strings
)

// Setting declares one setting of a destination kind. The spec drives
// validation, the API's redaction of secrets, and the docs.
type Setting struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Default     any      `json:"default,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Secret      bool     `json:"secret,omitempty"`
	Enum        []string `json:"enum,omitempty"`
	Min         int      `json:"min,omitempty"`
	Max         int      `json:"max,omitempty"`
	Description string   `json:"description"`
}

// Settings are a destination's validated settings with defaults filled in:
// strings, int, bool, time.Duration, map[string]string or []string, as the
// spec's types say.
type Settings map[string]any

// String returns a string setting.
func (s Settings) String(name string) string { v, _ := s[name].(string); return v }

// Int returns an int setting.
func (s Settings) Int(name string) int { v, _ := s[name].(int); return v }

// Bool returns a bool setting.
func (s Settings) Bool(name string) bool { v, _ := s[name].(bool); return v }

// Duration returns a duration setting.
func (s Settings) Duration(name string) time.Duration { v, _ := s[name].(time.Duration); return v }

// Headers returns a headers setting.
func (s Settings) Headers(name string) map[string]string {
	v, _ := s[name].(map[string]string)
	return v
}

// List returns a list setting.
func (s Settings) List(name string) []string { v, _ := s[name].([]string); return v }

// ParseSettings checks raw (as decoded from JSON) against spec and returns
// the typed settings with defaults. Unknown names and wrong types are
// EINVALID with a message that says which setting and what it takes.
func ParseSettings(kind string, spec []Setting, raw map[string]any) (Settings, error) {
	known := map[string]bool{}
	for _, f := range spec {
		known[f.Name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		if !known[name] {
			return nil, mosaic.Errorf(mosaic.EINVALID, "A %s destination has no setting %q; its settings are: %s.", kind, name, specNames(spec))
		}
	}
	out := Settings{}
	for _, f := range spec {
		v, ok := raw[f.Name]
		if !ok || v == nil {
			if f.Required {
				return nil, mosaic.Errorf(mosaic.EINVALID, "A %s destination needs the setting %q: %s", kind, f.Name, f.Description)
			}
			v = f.Default
			if v == nil {
				continue
			}
		}
		typed, err := parseValue(f, v)
		if err != nil {
			return nil, mosaic.Errorf(mosaic.EINVALID, "Setting %q of a %s destination: %v.", f.Name, kind, err)
		}
		out[f.Name] = typed
	}
	return out, nil
}

func specNames(spec []Setting) string {
	names := make([]string, len(spec))
	for i, f := range spec {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// parseValue converts one JSON value to the setting's Go type.
func parseValue(f Setting, v any) (any, error) {
	switch f.Type {
	case TypeString, TypeURL, TypeEnum:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %T", v)
		}
		return s, checkString(f, s)
	case TypeInt:
		n, ok := v.(float64)
		if i, isInt := v.(int); isInt {
			n, ok = float64(i), true
		}
		if !ok || n != float64(int(n)) {
			return nil, fmt.Errorf("want a whole number, got %v", v)
		}
		if (f.Min != 0 || f.Max != 0) && (int(n) < f.Min || int(n) > f.Max) {
			return nil, fmt.Errorf("want a number from %d to %d, got %d", f.Min, f.Max, int(n))
		}
		return int(n), nil
	case TypeBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want true or false, got %v", v)
		}
		return b, nil
	case TypeDuration:
		return parseDuration(v)
	case TypeHeaders:
		return parseHeaders(v)
	case TypeList:
		return parseList(v)
	}
	return nil, fmt.Errorf("unknown setting type %s", f.Type)
}

func checkString(f Setting, s string) error {
	switch f.Type {
	case TypeEnum:
		if !slices.Contains(f.Enum, s) {
			return fmt.Errorf("want one of %s, got %q", strings.Join(f.Enum, ", "), s)
		}
	case TypeURL:
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("want an http:// or https:// URL, got %q", s)
		}
	}
	if f.Required && strings.TrimSpace(s) == "" {
		return fmt.Errorf("must not be empty")
	}
	return nil
}

func parseDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		d, err := time.ParseDuration(x)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("want a duration such as 500ms, 30s or 1h, got %q", x)
		}
		return d, nil
	}
	return 0, fmt.Errorf("want a duration string such as \"30s\", got %v", v)
}

func parseHeaders(v any) (map[string]string, error) {
	if m, ok := v.(map[string]string); ok {
		return m, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object of header names to values")
	}
	out := map[string]string{}
	for k, x := range obj {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("header %q: want a string value", k)
		}
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "webhook-") || lk == "content-type" || lk == "host" || lk == "content-length" {
			return nil, fmt.Errorf("header %q is set by Mosaic and cannot be overridden", k)
		}
		if strings.ContainsAny(k+s, "\r\n") || k == "" {
			return nil, fmt.Errorf("header %q: names and values cannot contain line breaks", k)
		}
		out[k] = s
	}
	return out, nil
}

func parseList(v any) ([]string, error) {
	if l, ok := v.([]string); ok {
		return l, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of strings")
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("want a list of strings, got %v in it", x)
		}
		out = append(out, s)
	}
	return out, nil
}

// redactedValue replaces secret settings in API answers.
const redactedValue = "********"

// Public returns settings as JSON shows them, with secret values redacted.
func Public(spec []Setting, s Settings) map[string]any {
	out := map[string]any{}
	for _, f := range spec {
		v, ok := s[f.Name]
		if !ok {
			continue
		}
		switch {
		case f.Secret && f.Type == TypeHeaders:
			h := map[string]string{}
			for k := range v.(map[string]string) {
				h[k] = redactedValue
			}
			out[f.Name] = h
		case f.Secret:
			out[f.Name] = redactedValue
		case f.Type == TypeDuration:
			out[f.Name] = v.(time.Duration).String()
		default:
			out[f.Name] = v
		}
	}
	return out
}

// storable returns settings as JSON stores them (durations as text).
func storable(s Settings) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		if d, ok := v.(time.Duration); ok {
			v = d.String()
		}
		out[k] = v
	}
	return out
}
