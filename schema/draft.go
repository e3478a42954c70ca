package schema

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/store"
)

// Draft returns a tracking plan for a source drafted from the fields seen
// since since: every track event last seen then, with its properties and
// their types; a property sent with every one of the event's occurrences
// is required. The traits schema lists the identify traits and their
// types and requires none, since identify calls often send a few traits
// at a time. The plan accepts the (cleaned) events it was drafted from.
// Its mode is allow, so adopting it only records violations.
func Draft(ctx context.Context, st Store, sourceID string, since time.Time) (*clean.Plan, error) {
	fields, err := allFields(ctx, st, store.SchemaQuery{SourceID: sourceID, SeenSince: since})
	if err != nil {
		return nil, err
	}
	events := map[string]*node{}
	traits := &node{}
	for _, f := range fields {
		switch f.Kind {
		case store.SchemaEvent:
			n := events[f.Event]
			if n == nil {
				n = &node{}
				events[f.Event] = n
			}
			n.count = f.Count
		case store.SchemaProperty:
			n := events[f.Event]
			if n == nil {
				n = &node{}
				events[f.Event] = n
			}
			n.add(f)
		case store.SchemaTrait:
			traits.add(f)
		}
	}
	p := &clean.Plan{Mode: clean.ModeAllow, Events: map[string]json.RawMessage{}}
	for name, n := range events {
		if n.count == 0 {
			continue // properties of an event last seen before since
		}
		p.Events[name], _ = json.Marshal(n.schema(true))
	}
	if len(traits.fields) > 0 {
		p.Traits, _ = json.Marshal(traits.schema(false))
	}
	return p, nil
}

// allFields reads every field matching q, page by page.
func allFields(ctx context.Context, st Store, q store.SchemaQuery) ([]store.SchemaField, error) {
	var all []store.SchemaField
	q.Limit = 1000
	for {
		page, err := st.SchemaFields(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < q.Limit {
			return all, nil
		}
		k := page[len(page)-1].Key()
		q.After = &k
	}
}

// node is an object's fields: an event's properties or the traits.
type node struct {
	count  int64 // how many events the object was in (events only)
	fields []store.SchemaField
}

func (n *node) add(f store.SchemaField) { n.fields = append(n.fields, f) }

// schema returns the object's JSON Schema. Nested fields ("address.city")
// go into their parent's schema when the parent was seen as an object, and
// are left to the parent's type otherwise.
func (n *node) schema(required bool) map[string]any {
	byName := map[string]store.SchemaField{}
	for _, f := range n.fields {
		byName[f.Name] = f
	}
	return objectSchema(byName, "", n.count, required)
}

func objectSchema(byName map[string]store.SchemaField, prefix string, count int64, required bool) map[string]any {
	props := map[string]any{}
	var req []string
	for name, f := range byName {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || rest == "" || strings.Contains(rest, ".") && byName[prefix+rest[:strings.Index(rest, ".")]].Types&TypeObject != 0 {
			continue // not directly in this object
		}
		ps := map[string]any{}
		if t := jsonTypes(f.Types); len(t) == 1 {
			ps["type"] = t[0]
		} else if len(t) > 1 {
			ps["type"] = t
		}
		if f.Types&TypeObject != 0 {
			if inner := objectSchema(byName, name+".", 0, false)["properties"]; inner != nil {
				ps["properties"] = inner
			}
		}
		props[rest] = ps
		if required && count > 0 && f.Count >= count && !isNested(rest) && f.Types&TypeNull == 0 {
			req = append(req, rest)
		}
	}
	s := map[string]any{"type": "object"}
	if len(props) > 0 {
		s["properties"] = props
	}
	if len(req) > 0 {
		slices.Sort(req)
		s["required"] = req
	}
	return s
}

// jsonTypes returns the JSON Schema types of a type set: integer is folded
// into number when both were seen.
func jsonTypes(bits uint32) []string {
	if bits&TypeNumber != 0 {
		bits &^= TypeInteger
	}
	return TypeNames(bits)
}
