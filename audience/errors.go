package audience

import (
	"errors"
	"fmt"
)

// Error is a condition that cannot be used, with where the problem is: a
// JSON path into the tree ("and[1].within") for the tree form, a line and
// column for the text form. Its message is written for the person who wrote
// the condition, so the API shows it as it is.
type Error struct {
	Path      string // JSON path of the offending node or field; "" for the root or the text form
	Line, Col int    // 1-based position in the text form; 0 for the tree form
	Msg       string

	err error // a sentinel for errors.Is, or nil
}

// Unwrap returns ErrCycle or ErrUnknownAudience for reference errors.
func (e *Error) Unwrap() error { return e.err }

// Error returns "path: message", "line:col: message", or the message alone.
func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
	case e.Path != "":
		return e.Path + ": " + e.Msg
	}
	return e.Msg
}

// ErrCycle is wrapped by the error Validate returns for audiences that refer
// to themselves through others.
var ErrCycle = errors.New("audience cycle")

// ErrUnknownAudience is wrapped by the error Validate returns for a
// reference to an audience its lookup does not know.
var ErrUnknownAudience = errors.New("unknown audience")

// pathError returns an *Error at path.
func pathError(path string, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// join appends a field or index to a JSON path.
func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func index(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
