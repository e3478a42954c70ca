package profile

import "bytes"

// Envelope locates, in the message of the event Apply read last, the
// members that observers of the profile stage read besides its name and
// time: each the member's raw JSON value, aliasing the message, nil when
// the message has none. Reading them here, in the pass the profile makes
// anyway, spares an observer its own pass over the whole message, which
// cost the predictions more than a twentieth of a replay.
type Envelope struct {
	Type      []byte // "type"
	Event     []byte // "event"
	Timestamp []byte // "timestamp"
	Timezone  []byte // "context": {"timezone"}
	// Plain says the spans are what a reader that matches names as
	// encoding/json does (without regard to case, through escapes, the last
	// of repeated names winning, null leaving a member as it was) reads: no
	// name is escaped, none of these names, nor "context", is repeated or
	// spelled another way, and the context, if any, is an object or null.
	// A message that is not plain must be decoded to be read that way.
	Plain bool
	// Stamped says the event's time (see Set.Applied) is Timestamp read as
	// time.Parse with time.RFC3339Nano reads it, to the microsecond: the
	// timestamp is a string without escapes in that form, in the years a
	// profile keeps. Otherwise the time is when the event was received, or
	// the timestamp read in another form.
	Stamped bool
}

// envelopeMembers is the set of Envelope's top-level members a message
// has named so far.
type envelopeMembers uint8

const (
	memberType envelopeMembers = 1 << iota
	memberEvent
	memberTimestamp
	memberContext
)

// first adds member to the set and reports whether it was not there.
func (s *envelopeMembers) first(member envelopeMembers) bool {
	had := *s&member != 0
	*s |= member
	return !had
}

// foldsToEnvelope reports whether a top-level name that is not exactly
// one of Envelope's names matches one of them without regard to case.
func foldsToEnvelope(key []byte) bool {
	if len(key) == 0 {
		return false
	}
	switch key[0] | 0x20 { // see foldsTo
	case 't':
		return foldsTo(key, "type") || foldsTo(key, "timestamp")
	case 'e':
		return foldsTo(key, "event")
	case 'c':
		return foldsTo(key, "context")
	}
	return false
}

// foldsTo reports whether key equals name (lower case ASCII) without
// regard to case, as encoding/json matches names. The first byte decides
// most keys: no character but an ASCII letter's own capital folds to a t,
// e or c (only k and s have other case forms, the Kelvin and long s
// signs), so a key that matches must start with that letter in either
// case. Names must start with such a letter.
func foldsTo(key []byte, name string) bool {
	return len(key) > 0 && key[0]|0x20 == name[0] && bytes.EqualFold(key, []byte(name))
}

// unclamped reports whether micros kept the time us stands for as it was,
// not clamped to the first or last time it keeps.
func unclamped(us int64) bool {
	return us > minMicros && us < maxMicros
}

var minMicros, maxMicros = micros(minTime), micros(maxTime)
