// Package identity resolves the identifiers events carry (user ids,
// anonymous ids, emails, phones, device ids, custom ids) into one profile per
// person, with explicit rules, a record of every decision, and undo.
//
// It is a pure, in-memory, deterministic library. The engine feeds it the
// log in sequence order: Extract turns each event into typed, normalised
// identifiers; Graph.Resolve stamps the event with its profile and reports
// the merges and refused links it caused. The same events in the same order
// with the same Rules always give the same profiles, profile IDs and
// decisions, so replaying the log rebuilds the graph exactly. Snapshot and
// Restore checkpoint the graph; Split, DryRun and Rebuild undo a link.
//
// docs/identity.md explains the rules and shows examples.
package identity

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Built-in identifier types. Custom types (from context.externalIds or
// configured traits) are any other valid type name.
const (
	TypeUserID        = "user_id"
	TypeAnonymousID   = "anonymous_id"
	TypeEmail         = "email"
	TypePhone         = "phone"
	TypeDeviceID      = "device_id"
	TypeAdvertisingID = "advertising_id"

	// TypePreviousID is what Extract gives an alias call's previousId.
	// Resolve turns it into a user_id if that user id is already in the
	// graph, and into an anonymous_id otherwise: Segment documents
	// previousId as "an anonymousId or an earlier userId", and only the
	// graph knows which. It never reaches a profile under this name.
	TypePreviousID = "previous_id"
)

// Limits on identifiers, so that junk cannot blow up memory.
const (
	MaxValueBytes = 1024 // longer values are dropped
	MaxTypeBytes  = 64   // longer type names are invalid
)

// Identifier is one typed, normalised identifier, such as
// {Type: "email", Value: "jane@mosaic.dev"}.
type Identifier struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// String returns "type:value", the form the API and the scenario files use.
func (id Identifier) String() string { return id.Type + ":" + id.Value }

// ParseIdentifier parses "type:value" (the type ends at the first colon).
func ParseIdentifier(s string) (Identifier, error) {
	t, v, ok := strings.Cut(s, ":")
	if !ok || v == "" {
		return Identifier{}, fmt.Errorf("identity: %q is not an identifier; write type:value, e.g. email:jane@mosaic.dev", s)
	}
	if err := checkTypeName(t); err != nil {
		return Identifier{}, err
	}
	return Identifier{Type: t, Value: v}, nil
}

// ErrInvalidType means an identifier type name is not valid.
var ErrInvalidType = errors.New("identity: invalid identifier type")

// checkTypeName reports whether t can name an identifier type: 1 to 64
// characters from a-z, 0-9, '_', '.', '-' (Segment's types are lower case,
// e.g. "ios.idfa", "shopify_id").
func checkTypeName(t string) error {
	if t == "" || len(t) > MaxTypeBytes {
		return fmt.Errorf("%w %q: use 1 to %d characters from a-z, 0-9, '_', '.' and '-'", ErrInvalidType, t, MaxTypeBytes)
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("%w %q: use only a-z, 0-9, '_', '.' and '-'", ErrInvalidType, t)
		}
	}
	return nil
}

// ProfileID names a profile. It is derived from the event that created the
// profile: the event's log sequence number times 256 plus the index of the
// profile among those the event created (almost always 0), so replaying the
// same log gives the same IDs. Zero means no profile.
type ProfileID uint64

// profileIDOf returns the ID of the k-th profile created by event seq.
func profileIDOf(seq uint64, k int) ProfileID { return ProfileID(seq<<8 | uint64(k)) }

// Seq returns the sequence number of the event that created the profile.
func (p ProfileID) Seq() uint64 { return uint64(p) >> 8 }

// String returns "p" and 16 hex digits, e.g. "p0000000000000100" for the
// profile event 1 created.
func (p ProfileID) String() string {
	var b [17]byte
	b[0] = 'p'
	v := uint64(p)
	for i := 16; i >= 1; i-- {
		b[i] = "0123456789abcdef"[v&15]
		v >>= 4
	}
	return string(b[:])
}

// MarshalText writes the String form, so IDs read well in JSON.
func (p ProfileID) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses the String form.
func (p *ProfileID) UnmarshalText(b []byte) error {
	id, err := ParseProfileID(string(b))
	*p = id
	return err
}

// ErrBadProfileID means a string is not a profile ID.
var ErrBadProfileID = errors.New("identity: not a profile ID")

// ParseProfileID parses what ProfileID.String returns.
func ParseProfileID(s string) (ProfileID, error) {
	if len(s) != 17 || s[0] != 'p' {
		return 0, fmt.Errorf("%w: %q; profile IDs are 'p' and 16 hex digits", ErrBadProfileID, s)
	}
	v, err := strconv.ParseUint(s[1:], 16, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("%w: %q; profile IDs are 'p' and 16 hex digits", ErrBadProfileID, s)
	}
	return ProfileID(v), nil
}
