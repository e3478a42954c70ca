package mosaic

import (
	"errors"
	"fmt"
)

// Error codes form a stable catalogue: clients may switch on them. Each maps to
// exactly one HTTP status in the edge packages (see docs/tracking-api.md).
const (
	ECONFLICT      = "conflict"          // the resource exists already or changed meanwhile
	EINTERNAL      = "internal"          // a bug or an outage; the message is generic
	EINVALID       = "invalid"           // the request is malformed or breaks a rule
	ENOTFOUND      = "not_found"         // no such resource
	EUNAUTHORIZED  = "unauthorized"      // missing or wrong credentials
	EFORBIDDEN     = "forbidden"         // valid credentials whose role may not do this
	ETOOLARGE      = "too_large"         // a body or an event is over its size limit
	ETOOMANY       = "too_many_requests" // back off and retry after the given delay
	EUNAVAILABLE   = "unavailable"       // storage cannot accept writes now; retry later
	EINVALIDJSON   = "invalid_json"      // the body is not JSON, or not valid UTF-8
	EMISSINGID     = "missing_identity"  // neither userId nor anonymousId
	EMISSINGEVENT  = "missing_event"     // track without an event name
	EUNKNOWNTYPE   = "unknown_type"      // the call type is not a Segment call
	ETOODEEP       = "too_deep"          // JSON nesting over the limit
	EINVALIDFIELD  = "invalid_field"     // a field has the wrong type
	EBADENCODING   = "bad_encoding"      // an unsupported or corrupt Content-Encoding
	EEMPTYBATCH    = "empty_batch"       // a batch without events
	EMETHOD        = "method_not_allowed"
	EUNSUPPORTED   = "unsupported_media" // a content type that is not JSON
	EALLREJECTED   = "all_rejected"      // every event of a batch was rejected
	EPARTIALREJECT = "partially_rejected"
)

// Error is the one error type shown to users of the API, the CLI and the UI.
// Message is written for the person reading it: what went wrong and what to
// do. It never carries an internal error's text.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("mosaic error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is or wraps an *Error, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Errors that are not an
// *Error get a generic message, so internal details never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return "Internal error: the server logged the details. Retry later, and report it if it persists."
}
