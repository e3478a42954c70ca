package mosaic

// System records are commands Mosaic writes into its own event log, so that
// changes to derived state that are not events (splitting a profile,
// changing the identity rules) are ordered with the events and a replay of
// the log makes them again at the same place. They come from SystemSourceID,
// which no real source can have (source IDs are UUIDs), have a unique
// messageId like any event, and carry the command as their message.
// Readers of events (the events API, profiles, timelines) skip them.
const (
	// SystemSourceID is the source ID of system records.
	SystemSourceID = "mosaic"
	// TypeSplit is a system record that splits a profile: its message is
	// {"type", "messageId", "receivedAt", "profile", "identifier"|"merge"}.
	TypeSplit = "mosaic.split"
	// TypeRules is a system record that sets the identity rules from its
	// position on: its message is {"type", "messageId", "receivedAt", "rules"}.
	TypeRules = "mosaic.rules"
	// TypeErase is a system record that erases a profile for a data
	// subject's erasure: its message is {"type", "messageId",
	// "receivedAt", "profile"}.
	TypeErase = "mosaic.erase"
)

// IsSystem reports whether e is a system record rather than an event a
// source sent.
func (e *Event) IsSystem() bool { return e.SourceID == SystemSourceID }
