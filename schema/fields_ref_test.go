package schema

import (
	"cmp"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/internal/jsonscan"
	"github.com/mosaic-cdp/mosaic/store"
)

// refFields is Fields as first written, one map over whole keys and every
// name decoded into a string: the reference the grouped version must agree
// with.
type refFields struct {
	m map[store.SchemaKey]*store.SchemaField
}

func (f *refFields) add(ev *mosaic.Event) {
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
		f.put(store.SchemaKey{SourceID: ev.SourceID, Kind: store.SchemaEvent, Event: event}, 0, at)
	} else {
		event = ""
	}
	f.object(ev.SourceID, kind, event, "", obj, 0, at)
}

func (f *refFields) object(src, kind, event, prefix string, obj []byte, depth int, at time.Time) {
	jsonscan.Object(obj, func(key, raw []byte) bool {
		name, ok := jsonscan.Key(key)
		path := prefix + name
		if !ok || len(path) > maxNameLen || name == "" {
			return true
		}
		t := typeOf(raw)
		f.put(store.SchemaKey{SourceID: src, Kind: kind, Event: event, Name: path}, t, at)
		if t == TypeObject && depth < maxDepth {
			f.object(src, kind, event, path+".", raw, depth+1, at)
		}
		return true
	})
}

func (f *refFields) put(k store.SchemaKey, t uint32, at time.Time) {
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

func sortedFields(fs []store.SchemaField) []store.SchemaField {
	slices.SortFunc(fs, func(a, b store.SchemaField) int {
		return cmp.Or(cmp.Compare(a.SourceID, b.SourceID), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Event, b.Event), cmp.Compare(a.Name, b.Name))
	})
	return fs
}

// FuzzFieldsAdd holds Fields to the reference on any messages: two events
// of the fuzzed types and times, so that merging is compared too.
func FuzzFieldsAdd(f *testing.F) {
	f.Add(uint8(0), []byte(`{"event":"Order Completed","properties":{"total":12,"a":{"b":{"c":{"d":1}}},"x\u0041":null,"":1}}`), uint8(1), []byte(`{"traits":{"email":"a@b.nl","vip":true,"caf\xe9":1}}`), int64(3600))
	f.Add(uint8(0), []byte(`{"event":"e","properties":{"k":1,"k":"s","n.m":[1]}}`), uint8(0), []byte(`{"event":"e","properties":{"k":{"z":true}}}`), int64(-60))
	f.Add(uint8(2), []byte(`{"traits":{"employees":40},"traits":{"plan":"pro"}}`), uint8(3), []byte(`{"properties":{"url":"/"}}`), int64(0))
	types := []string{mosaic.TypeTrack, mosaic.TypeIdentify, mosaic.TypeGroup, mosaic.TypePage}
	f.Fuzz(func(t *testing.T, t1 uint8, m1 []byte, t2 uint8, m2 []byte, dt int64) {
		evs := []*mosaic.Event{
			{SourceID: "src_web", Type: types[int(t1)%len(types)], ReceivedAt: t0, Message: m1},
			{SourceID: "src_web", Type: types[int(t2)%len(types)], ReceivedAt: t0.Add(time.Duration(dt) * time.Second), Message: m2},
		}
		var got Fields
		var want refFields
		for _, ev := range evs {
			got.Add(ev)
			want.add(ev)
		}
		var wantList []store.SchemaField
		for _, v := range want.m {
			wantList = append(wantList, *v)
		}
		if got.Len() != len(wantList) {
			t.Fatalf("Len() = %d, want %d", got.Len(), len(wantList))
		}
		if d := gocmp.Diff(sortedFields(wantList), sortedFields(got.List()), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("fields of %q and %q differ from the reference (-want +got):\n%s", m1, m2, d)
		}
	})
}
