// Package schema learns, from the deduplicated event log, every event name
// and property or trait name each source sends, with the JSON types seen,
// how often and when first and last — the menus of the audience builder and
// the start of a tracking plan (see Draft).
//
// The Stage follows the dedupe stage (engine.Engine) the way the profile
// stage does, and saves what it learned to the store in one transaction
// with the log position it reflects, so a restart resumes from there
// without counting an event twice.
package schema

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
	"github.com/mosaic-cdp/mosaic/store"
)

// JSON types, as bits of store.SchemaField.Types. Never renumber: the bits
// are stored.
const (
	TypeString uint32 = 1 << iota
	TypeInteger
	TypeNumber // a number with a fraction or an exponent
	TypeBoolean
	TypeObject
	TypeArray
	TypeNull
)

var typeNames = []string{"string", "integer", "number", "boolean", "object", "array", "null"}

// TypeNames returns the names of the types in bits, in a fixed order.
func TypeNames(bits uint32) []string {
	names := []string{}
	for i, n := range typeNames {
		if bits&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return names
}

// typeOf returns the type of a raw JSON value.
func typeOf(raw []byte) uint32 {
	if len(raw) == 0 {
		return 0
	}
	switch raw[0] {
	case '"':
		return TypeString
	case '{':
		return TypeObject
	case '[':
		return TypeArray
	case 't', 'f':
		return TypeBoolean
	case 'n':
		return TypeNull
	}
	if bytes.ContainsAny(raw, ".eE") {
		return TypeNumber
	}
	return TypeInteger
}

// Limits on what one event adds: nested objects are followed this deep
// (traits.address.city), as cleaning does, and names longer than
// maxNameLen (rarely names, more often data used as keys) are left out.
const (
	maxDepth   = 2
	maxNameLen = 200
)

// Fields accumulates what events add to the schema, merged by key.
//
// Fields are grouped by source, kind and event, and a group's fields are
// found by name alone, looked up with the name's bytes in place: hashing
// the whole key of every member of every event, and making a string of
// each name, was a third of the stage's time.
type Fields struct {
	groups map[groupKey]map[string]*store.SchemaField
	n      int
}

// groupKey is a store.SchemaKey without the name.
type groupKey struct {
	SourceID, Kind, Event string
}

// Len returns how many distinct fields f holds.
func (f *Fields) Len() int { return f.n }

// List returns the fields, in no particular order.
func (f *Fields) List() []store.SchemaField {
	out := make([]store.SchemaField, 0, f.n)
	for _, g := range f.groups {
		for _, v := range g {
			out = append(out, *v)
		}
	}
	return out
}

// Add adds what one event tells about its source's schema: a track event's
// name and properties, an identify call's traits, a group call's traits.
// Other types, and system records, add nothing.
func (f *Fields) Add(ev *mosaic.Event) {
	var kind string
	switch ev.Type {
	case mosaic.TypeTrack:
		kind = store.SchemaProperty
	case mosaic.TypeIdentify:
		kind = store.SchemaTrait
	case mosaic.TypeGroup:
		kind = store.SchemaGroupTrait
	default:
		return
	}
	if ev.IsSystem() {
		return
	}
	// The members are read in place: decoding every message into maps
	// was most of this stage's time.
	var event string
	var obj []byte
	ok := jsonscan.Object(ev.Message, func(key, val []byte) bool {
		switch string(key) {
		case "event":
			event, _ = jsonscan.String(val)
		case "properties":
			if kind == store.SchemaProperty {
				obj = val
			}
		case "traits":
			if kind != store.SchemaProperty {
				obj = val
			}
		}
		return true
	})
	if !ok {
		return
	}
	at := ev.ReceivedAt
	if kind == store.SchemaProperty {
		f.put(f.group(groupKey{ev.SourceID, store.SchemaEvent, event}), groupKey{ev.SourceID, store.SchemaEvent, event}, nil, 0, at)
	} else {
		event = ""
	}
	gk := groupKey{ev.SourceID, kind, event}
	var path [maxNameLen]byte
	f.object(f.group(gk), gk, path[:0], obj, 0, at)
}

// group returns the fields of a source, kind and event, made if new.
func (f *Fields) group(k groupKey) map[string]*store.SchemaField {
	if f.groups == nil {
		f.groups = make(map[groupKey]map[string]*store.SchemaField)
	}
	g := f.groups[k]
	if g == nil {
		g = make(map[string]*store.SchemaField)
		f.groups[k] = g
	}
	return g
}

// object adds the members of the JSON object obj (nothing if obj is not an
// object) under the path prefix, whose capacity holds any name kept.
func (f *Fields) object(g map[string]*store.SchemaField, gk groupKey, prefix []byte, obj []byte, depth int, at time.Time) {
	jsonscan.Object(obj, func(key, raw []byte) bool {
		name, ok := keyBytes(key)
		if !ok || len(prefix)+len(name) > maxNameLen || len(name) == 0 {
			return true
		}
		path := append(prefix, name...)
		t := typeOf(raw)
		f.put(g, gk, path, t, at)
		if t == TypeObject && depth < maxDepth {
			f.object(g, gk, append(path, '.'), raw, depth+1, at)
		}
		return true
	})
}

// keyBytes returns a key's decoded bytes: the raw bytes themselves when
// decoding would not change them, as for nearly every key.
func keyBytes(raw []byte) ([]byte, bool) {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return raw, true
	}
	name, ok := jsonscan.Key(raw)
	return []byte(name), ok
}

func (f *Fields) put(g map[string]*store.SchemaField, gk groupKey, name []byte, t uint32, at time.Time) {
	if v := g[string(name)]; v != nil {
		v.Types |= t
		v.Count++
		if at.Before(v.FirstSeen) {
			v.FirstSeen = at
		}
		if at.After(v.LastSeen) {
			v.LastSeen = at
		}
		return
	}
	g[string(name)] = &store.SchemaField{SourceID: gk.SourceID, Kind: gk.Kind, Event: gk.Event, Name: string(name),
		Types: t, Count: 1, FirstSeen: at, LastSeen: at}
	f.n++
}

// isNested reports whether a field's name is a path into an object.
func isNested(name string) bool { return strings.Contains(name, ".") }
