package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
	"github.com/mosaic-cdp/mosaic/respond"
	"github.com/mosaic-cdp/mosaic/schema"
	"github.com/mosaic-cdp/mosaic/store"
)

// Schema is what the schema routes need (*schema.Stage).
type Schema interface {
	// Fields lists the fields seen (see store.SchemaStore.SchemaFields).
	Fields(ctx context.Context, q store.SchemaQuery) ([]store.SchemaField, error)
	// Draft drafts a source's tracking plan from the fields seen since.
	Draft(ctx context.Context, sourceID string, since time.Time) (*clean.Plan, error)
	// Processed is the log position the fields reflect.
	Processed() uint64
}

func (s *Server) schemaRoutes() {
	s.mux.HandleFunc("GET /api/v1/schema", s.getSchema)
	s.mux.HandleFunc("POST /api/v1/sources/{id}/plan/draft", s.draftPlan)
}

var errNoSchema = mosaic.Errorf(mosaic.EUNAVAILABLE, "The schema overview is not available on this server.")

// schemaField is one row of GET /api/v1/schema.
type schemaField struct {
	SourceID  string    `json:"source_id"`
	Kind      string    `json:"kind"`
	Event     string    `json:"event,omitempty"`
	Name      string    `json:"name,omitempty"`
	Types     []string  `json:"types"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

type schemaPage struct {
	Fields []schemaField `json:"fields"`
	// Next is the cursor of the following page; "" on the last one.
	Next string `json:"next"`
	// Position is the event log position the fields reflect.
	Position uint64 `json:"position"`
}

// getSchema serves GET /api/v1/schema?source=&kind=&event=&limit=&cursor=.
func (s *Server) getSchema(w http.ResponseWriter, r *http.Request) {
	if s.opts.Schema == nil {
		s.error(w, r, errNoSchema)
		return
	}
	q, err := s.schemaQuery(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	pos := s.opts.Schema.Processed() // read first: the fields reflect at least this
	limit := q.Limit
	q.Limit++ // one more tells whether a next page exists
	fields, err := s.opts.Schema.Fields(r.Context(), q)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page := schemaPage{Fields: []schemaField{}, Position: pos}
	if len(fields) > limit {
		fields = fields[:limit]
		page.Next = encodeCursor(fields[limit-1].Key())
	}
	for _, f := range fields {
		page.Fields = append(page.Fields, schemaField{SourceID: f.SourceID, Kind: f.Kind, Event: f.Event, Name: f.Name,
			Types: schema.TypeNames(f.Types), Count: f.Count, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen})
	}
	respond.JSON(w, http.StatusOK, page)
}

var schemaKinds = []string{store.SchemaEvent, store.SchemaProperty, store.SchemaTrait, store.SchemaGroupTrait}

func (s *Server) schemaQuery(r *http.Request) (store.SchemaQuery, error) {
	v := r.URL.Query()
	q := store.SchemaQuery{Kind: v.Get("kind"), Event: v.Get("event")}
	if q.Kind != "" && !slices.Contains(schemaKinds, q.Kind) {
		return q, mosaic.Errorf(mosaic.EINVALID, "Query parameter \"kind\" must be one of event, property, trait, group_trait, not %q.", q.Kind)
	}
	if ref := v.Get("source"); ref != "" {
		src, err := s.sourceByRef(r.Context(), ref)
		if err != nil {
			return q, err
		}
		q.SourceID = src.ID
	}
	limit, err := queryInt(r, "limit", 500, 1, 5000)
	if err != nil {
		return q, err
	}
	q.Limit = int(limit)
	if c := v.Get("cursor"); c != "" {
		k, ok := decodeCursor(c)
		if !ok {
			return q, mosaic.Errorf(mosaic.EINVALID, "Query parameter \"cursor\" is not a cursor this API gave out; pass the \"next\" of the previous page unchanged.")
		}
		q.After = &k
	}
	return q, nil
}

// sourceByRef returns a source by ID or name.
func (s *Server) sourceByRef(ctx context.Context, ref string) (*mosaic.Source, error) {
	src, err := s.store.Source(ctx, ref)
	if err == nil || mosaic.ErrorCode(err) != mosaic.ENOTFOUND {
		return src, err
	}
	srcs, lerr := s.store.Sources(ctx)
	if lerr != nil {
		return nil, lerr
	}
	for _, x := range srcs {
		if x.Name == ref {
			return x, nil
		}
	}
	return nil, mosaic.Errorf(mosaic.ENOTFOUND, "No source with ID or name %q. List them with GET /api/v1/sources.", ref)
}

func encodeCursor(k store.SchemaKey) string {
	b, _ := json.Marshal([]string{k.SourceID, k.Kind, k.Event, k.Name})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (store.SchemaKey, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var parts []string
	if err != nil || json.Unmarshal(b, &parts) != nil || len(parts) != 4 {
		return store.SchemaKey{}, false
	}
	return store.SchemaKey{SourceID: parts[0], Kind: parts[1], Event: parts[2], Name: parts[3]}, true
}

// draftPlan serves POST /api/v1/sources/{id}/plan/draft?days=&extend=&save=.
func (s *Server) draftPlan(w http.ResponseWriter, r *http.Request) {
	if s.opts.Schema == nil || s.opts.Quality == nil {
		s.error(w, r, errNoSchema)
		return
	}
	src, err := s.source(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	days, err := queryInt(r, "days", 30, 1, 3650)
	if err != nil {
		s.error(w, r, err)
		return
	}
	extend, save := queryBool(r, "extend"), queryBool(r, "save")
	p, err := s.opts.Schema.Draft(r.Context(), src.ID, s.opts.Now().Add(-time.Duration(days)*24*time.Hour))
	if err == nil && extend {
		p, err = s.extendPlan(r.Context(), src.ID, p)
	}
	if err == nil && save {
		err = s.opts.Quality.SetPlan(r.Context(), src.ID, p)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, p)
}

// extendPlan returns the source's current plan with the drafted schemas of
// the events it lacks (and the drafted traits schema if it has none); the
// draft itself if the source has no plan.
func (s *Server) extendPlan(ctx context.Context, sourceID string, draft *clean.Plan) (*clean.Plan, error) {
	cur, err := s.opts.Quality.Plan(ctx, sourceID)
	if mosaic.ErrorCode(err) == mosaic.ENOTFOUND {
		return draft, nil
	}
	if err != nil {
		return nil, err
	}
	if cur.Events == nil {
		cur.Events = map[string]json.RawMessage{}
	}
	for name, sch := range draft.Events {
		if _, ok := cur.Events[name]; !ok {
			cur.Events[name] = sch
		}
	}
	if len(cur.Traits) == 0 {
		cur.Traits = draft.Traits
	}
	return cur, nil
}

func queryBool(r *http.Request, name string) bool {
	switch r.URL.Query().Get(name) {
	case "true", "1", "yes":
		return true
	}
	return false
}
