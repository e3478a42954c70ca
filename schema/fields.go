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
	"encoding/json"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic"
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

// message is the part of a stored message the schema reads.
type message struct {
	Event      string                     `json:"event"`
	Properties map[string]json.RawMessage `json:"properties"`
	Traits     map[string]json.RawMessage `json:"traits"`
}

// Fields accumulates what events add to the schema, merged by key.
type Fields struct {
	m map[store.SchemaKey]*store.SchemaField
}

// Len returns how many distinct fields f holds.
func (f *Fields) Len() int { return len(f.m) }

// List returns the fields, in no particular order.
func (f *Fields) List() []store.SchemaField {
	out := make([]store.SchemaField, 0, len(f.m))
	for _, v := range f.m {
		out = append(out, *v)
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
	var msg message
	if json.Unmarshal(ev.Message, &msg) != nil {
		return
	}
	at := ev.ReceivedAt
	obj := msg.Traits
	if kind == store.SchemaProperty {
		f.put(store.SchemaKey{SourceID: ev.SourceID, Kind: store.SchemaEvent, Event: msg.Event}, 0, at)
		obj = msg.Properties
	} else {
		msg.Event = ""
	}
	f.object(ev.SourceID, kind, msg.Event, "", obj, 0, at)
}

// object adds the members of obj under the path prefix.
func (f *Fields) object(src, kind, event, prefix string, obj map[string]json.RawMessage, depth int, at time.Time) {
	for name, raw := range obj {
		path := prefix + name
		if len(path) > maxNameLen || name == "" {
			continue
		}
		raw = bytes.TrimSpace(raw)
		t := typeOf(raw)
		f.put(store.SchemaKey{SourceID: src, Kind: kind, Event: event, Name: path}, t, at)
		if t == TypeObject && depth < maxDepth {
			var inner map[string]json.RawMessage
			if json.Unmarshal(raw, &inner) == nil {
				f.object(src, kind, event, path+".", inner, depth+1, at)
			}
		}
	}
}

func (f *Fields) put(k store.SchemaKey, t uint32, at time.Time) {
	if f.m == nil {
		f.m = make(map[store.SchemaKey]*store.SchemaField)
	}
	if v := f.m[k]; v != nil {
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
	f.m[k] = &store.SchemaField{SourceID: k.SourceID, Kind: k.Kind, Event: k.Event, Name: k.Name,
		Types: t, Count: 1, FirstSeen: at, LastSeen: at}
}

// isNested reports whether a field's name is a path into an object.
func isNested(name string) bool { return strings.Contains(name, ".") }
