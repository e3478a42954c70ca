package store

import (
	"context"
	"time"
)

// SchemaStore keeps what the schema stage (package schema) learned from the
// event log — every event name and property or trait name seen per source,
// with its types, count and first and last time seen — with the log
// position it reflects, and the counts of tracking-plan violations that
// collect found. It is part of Store.
type SchemaStore interface {
	// SchemaPosition returns the log position the saved fields reflect (0
	// if none).
	SchemaPosition(ctx context.Context) (uint64, error)
	// SaveSchema atomically adds c.Fields to the saved fields and sets the
	// position to c.Seq. A field whose key (SourceID, Kind, Event, Name) is
	// saved already is merged: counts add, types are joined (bitwise or),
	// FirstSeen is the earlier and LastSeen the later. Saving a position at
	// or below the stored one is a no-op that returns nil, so a replay after
	// a crash does not count an event twice. Text is cleaned (see
	// CleanText); fields whose keys are equal once cleaned are merged.
	SaveSchema(ctx context.Context, c *SchemaCommit) error
	// SchemaFields lists saved fields matching q in key order (SourceID,
	// Kind, Event, Name, compared byte by byte), strictly after q.After when
	// it is set, at most q.Limit (none if Limit <= 0). The slice is empty,
	// not nil, when there are none.
	SchemaFields(ctx context.Context, q SchemaQuery) ([]SchemaField, error)

	// AddViolations adds violation counts, all or none: a row whose key
	// (SourceID, Event, Property, Keyword) is saved already is merged —
	// counts add, FirstSeen is the earlier and LastSeen the later, Message
	// is the new one and Example the first one saved. ENOTFOUND if a
	// SourceID names no source ever created.
	AddViolations(ctx context.Context, rows []ViolationCount) error
	// Violations returns a source's violation counts in key order (Event,
	// Property, Keyword). An unknown source has none. The slice is empty,
	// not nil, when there are none.
	Violations(ctx context.Context, sourceID string) ([]ViolationCount, error)
}

// Kinds of SchemaField.
const (
	SchemaEvent      = "event"       // a track event name (Event); Name is ""
	SchemaProperty   = "property"    // a property (Name) of track event Event
	SchemaTrait      = "trait"       // an identify trait (Name); Event is ""
	SchemaGroupTrait = "group_trait" // a group trait (Name); Event is ""
)

// SchemaField is one event name, property or trait seen in one source's
// events.
type SchemaField struct {
	SourceID  string
	Kind      string // SchemaEvent, SchemaProperty, ...
	Event     string
	Name      string // a path: "address.city" for a nested member
	Types     uint32 // the set of JSON types seen, as bits package schema defines
	Count     int64  // events it was seen in
	FirstSeen time.Time
	LastSeen  time.Time
}

// SchemaKey is the key of a SchemaField.
type SchemaKey struct {
	SourceID, Kind, Event, Name string
}

// Key returns f's key.
func (f *SchemaField) Key() SchemaKey { return SchemaKey{f.SourceID, f.Kind, f.Event, f.Name} }

// SchemaCommit is what the schema stage saves in one transaction.
type SchemaCommit struct {
	Seq    uint64        // log position processed, inclusive
	Fields []SchemaField // what the events after the stored position added
}

// SchemaQuery selects schema fields. Empty filters match everything.
type SchemaQuery struct {
	SourceID  string
	Kind      string
	Event     string
	SeenSince time.Time  // only fields last seen at or after this, if set
	After     *SchemaKey // only fields after this key, if set
	Limit     int
}

// ViolationCount is how often one source's events broke its tracking plan
// one way: at one property (or the event itself, Property "") by one
// JSON Schema keyword ("required", "type", "unplanned", ...).
type ViolationCount struct {
	SourceID  string
	Event     string
	Property  string
	Keyword   string
	Message   string
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
	Example   []byte // one message that broke the plan this way, stored byte for byte
}
