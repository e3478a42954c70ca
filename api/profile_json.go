package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic/engine"
	"github.com/mosaic-cdp/mosaic/identity"
	"github.com/mosaic-cdp/mosaic/respond"
)

// The profile lookup (GET /api/v1/profiles/{ref}) may run on every page
// view of a website, on cores the processing stages share, so its answer
// is written by hand: encoding/json spent about a fifth of a lookup's CPU
// on reflection, map iteration and allocations. The bytes are exactly
// those of json.NewEncoder(w).Encode(s.withPredicted(v)) (HTML escaping
// on, map keys sorted, a final newline), which profile_json_test.go holds
// it to; whatever this encoder does not know how to write exactly falls
// back to encoding/json.

// errFallback means the value needs encoding/json (an invalid raw value,
// a time outside years 0–9999, a predicted value of an unexpected type).
var errFallback = errors.New("api: profile answer needs encoding/json")

var profileBufs = sync.Pool{New: func() any { return new(profileBuf) }}

// profileBuf is an answer being built, and scratch space for compacting
// raw values.
type profileBuf struct {
	b       []byte
	compact bytes.Buffer
	keys    []string
}

// writeProfile answers v (and its predicted traits, if the server has
// predictions) with status 200.
func (s *Server) writeProfile(w http.ResponseWriter, v *engine.ProfileView) {
	var predicted map[string]any
	if s.opts.Predictions != nil {
		predicted = s.opts.Predictions.Predicted(uint64(v.ID))
	}
	pb := profileBufs.Get().(*profileBuf)
	defer profileBufs.Put(pb)
	b, err := pb.appendProfile(pb.b[:0], v, predicted)
	if err != nil {
		respond.JSON(w, http.StatusOK, s.withPredicted(v))
		return
	}
	b = append(b, '\n')
	pb.b = b
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (pb *profileBuf) appendProfile(b []byte, v *engine.ProfileView, predicted map[string]any) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, v.ID.String())
	b = append(b, `,"identifiers":`...)
	if b, err = appendIdentifiers(b, v.Identifiers); err != nil {
		return b, err
	}
	b = append(b, `,"traits":`...)
	if b, err = pb.appendTraits(b, v.Traits); err != nil {
		return b, err
	}
	b = append(b, `,"first_seen":`...)
	if b, err = appendTimePtr(b, v.FirstSeen); err != nil {
		return b, err
	}
	b = append(b, `,"last_seen":`...)
	if b, err = appendTimePtr(b, v.LastSeen); err != nil {
		return b, err
	}
	b = append(b, `,"sources":`...)
	b = pb.appendCounts(b, v.Sources)
	b = append(b, `,"event_counts":{"total":`...)
	b = strconv.AppendInt(b, v.EventCounts.Total, 10)
	b = append(b, `,"by_type":`...)
	b = pb.appendCounts(b, v.EventCounts.ByType)
	b = append(b, `,"by_event":`...)
	b = pb.appendCounts(b, v.EventCounts.ByEvent)
	b = append(b, `},"groups":`...)
	if b, err = pb.appendGroups(b, v); err != nil {
		return b, err
	}
	if len(predicted) > 0 { // omitempty
		b = append(b, `,"predicted":`...)
		if b, err = pb.appendPredicted(b, predicted); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func appendIdentifiers(b []byte, ids []identity.IdentifierInfo) ([]byte, error) {
	if ids == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range ids {
		id := &ids[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = appendString(b, id.Type)
		b = append(b, `,"value":`...)
		b = appendString(b, id.Value)
		var err error
		if b, err = appendSeen(b, id.FirstSeen, id.LastSeen); err != nil {
			return b, err
		}
		b = append(b, `,"sources":`...)
		if id.Sources == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, '[')
			for j, src := range id.Sources {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendString(b, src)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendSeen appends the first_seen and last_seen members of an
// identifier or a group.
func appendSeen(b []byte, first, last time.Time) ([]byte, error) {
	var err error
	b = append(b, `,"first_seen":`...)
	if b, err = appendTime(b, first); err != nil {
		return b, err
	}
	b = append(b, `,"last_seen":`...)
	return appendTime(b, last)
}

func (pb *profileBuf) appendGroups(b []byte, v *engine.ProfileView) ([]byte, error) {
	if v.Groups == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range v.Groups {
		g := &v.Groups[i]
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		b = append(b, `{"id":`...)
		b = appendString(b, g.ID)
		b = append(b, `,"traits":`...)
		if b, err = pb.appendTraits(b, g.Traits); err != nil {
			return b, err
		}
		if b, err = appendSeen(b, g.FirstSeen, g.LastSeen); err != nil {
			return b, err
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// sortedKeys returns m's keys in the order encoding/json writes them.
func sortedKeys[V any](keys []string, m map[string]V) []string {
	keys = keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (pb *profileBuf) appendTraits(b []byte, traits map[string]json.RawMessage) ([]byte, error) {
	if traits == nil {
		return append(b, "null"...), nil
	}
	pb.keys = sortedKeys(pb.keys, traits)
	b = append(b, '{')
	for i, k := range pb.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = pb.appendRaw(b, traits[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendRaw appends a raw JSON value as encoding/json does: compacted,
// with <, >, &, U+2028 and U+2029 escaped; nil is null.
func (pb *profileBuf) appendRaw(b []byte, raw json.RawMessage) ([]byte, error) {
	if raw == nil {
		return append(b, "null"...), nil
	}
	if !json.Valid(raw) {
		return b, errFallback
	}
	if !needsCompact(raw) {
		return append(b, raw...), nil
	}
	pb.compact.Reset()
	if err := json.Compact(&pb.compact, raw); err != nil {
		return b, errFallback
	}
	var esc bytes.Buffer
	json.HTMLEscape(&esc, pb.compact.Bytes())
	return append(b, esc.Bytes()...), nil
}

// needsCompact reports whether raw may hold whitespace between tokens or
// characters encoding/json escapes; a valid value without them is copied
// as it is.
func needsCompact(raw []byte) bool {
	for _, c := range raw {
		switch {
		case c == ' ', c == '\t', c == '\n', c == '\r', c == '<', c == '>', c == '&', c >= utf8.RuneSelf:
			return true
		}
	}
	return false
}

func (pb *profileBuf) appendCounts(b []byte, m map[string]int64) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	pb.keys = sortedKeys(pb.keys, m)
	b = append(b, '{')
	for i, k := range pb.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = strconv.AppendInt(b, m[k], 10)
	}
	return append(b, '}')
}

func (pb *profileBuf) appendPredicted(b []byte, m map[string]any) ([]byte, error) {
	keys := sortedKeys(nil, m) // not pb.keys: a value may be a map in future
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		switch x := m[k].(type) {
		case float64:
			var err error
			if b, err = appendFloat(b, x); err != nil {
				return b, err
			}
		case int:
			b = strconv.AppendInt(b, int64(x), 10)
		case string:
			b = appendString(b, x)
		case []string:
			if x == nil {
				b = append(b, "null"...)
				break
			}
			b = append(b, '[')
			for j, s := range x {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendString(b, s)
			}
			b = append(b, ']')
		default:
			return b, errFallback
		}
	}
	return append(b, '}'), nil
}

func appendTimePtr(b []byte, t *time.Time) ([]byte, error) {
	if t == nil {
		return append(b, "null"...), nil
	}
	return appendTime(b, *t)
}

// appendTime appends t as time.Time's MarshalJSON does; its error (a year
// outside 0–9999) sends the answer to encoding/json, which fails the same
// way.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return b, errFallback
	}
	return append(b, '"'), nil
}

// appendFloat appends f as encoding/json writes a float64.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, errFallback
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string as encoding/json does with HTML
// escaping on: <, >, & and control characters as \u00XX (but \b, \f, \n,
// \r, \t), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
