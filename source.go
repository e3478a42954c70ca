package mosaic

import "time"

// Source is one origin of data: a website, an app, a server, an import. Calls
// to the Tracking API authenticate with the source's write key, which is not
// a secret in the admin sense (it ships inside web pages) but identifies where
// data came from.
type Source struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	WriteKey  string    `json:"write_key"`
	CreatedAt time.Time `json:"created_at"`
}

// SourceStats counts what a source sent. Received is every event that
// arrived with the source's key: Stored (unique, in the log) + Duplicates
// (same messageId again, kept once) + Rejected (in quarantine).
type SourceStats struct {
	SourceID   string `json:"source_id"`
	Received   int64  `json:"received"`
	Stored     int64  `json:"stored"`
	Duplicates int64  `json:"duplicates"`
	Rejected   int64  `json:"rejected"`
}

// Rejected is an event that failed validation, kept in its source's
// quarantine with the reason so nothing is silently dropped.
type Rejected struct {
	ID         int64     `json:"id"`
	SourceID   string    `json:"source_id"`
	ReceivedAt time.Time `json:"received_at"`
	Index      int       `json:"index"` // position in the batch; 0 for a single call
	Code       string    `json:"code"`
	Reason     string    `json:"reason"`
	Raw        []byte    `json:"-"` // the event as received, possibly not valid JSON or UTF-8
}
