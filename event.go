package mosaic

import (
	"encoding/binary"
	"errors"
	"time"
)

// Segment call types, as they appear in a message's "type" field.
const (
	TypeIdentify = "identify"
	TypeTrack    = "track"
	TypePage     = "page"
	TypeScreen   = "screen"
	TypeGroup    = "group"
	TypeAlias    = "alias"
)

// Event is one accepted Segment-spec message as the event log stores it.
//
// Message is the normalised message as JSON: messageId, receivedAt and the
// clock-skew corrected timestamp are set; context, integrations, properties
// and traits are kept verbatim. Seq, SourceID, MessageID, Type and ReceivedAt
// repeat what readers need without decoding Message.
type Event struct {
	Seq        uint64 // position in the log; assigned on append, 0 before
	SourceID   string
	MessageID  string
	Type       string
	ReceivedAt time.Time
	Message    []byte
}

// eventFormat versions the binary form of an Event, so old logs stay readable.
const eventFormat = 1

// ErrCorruptEvent means a log record does not decode as an Event.
var ErrCorruptEvent = errors.New("mosaic: corrupt event record")

// MarshalBinary encodes e without its Seq, which the log keeps in the frame.
func (e *Event) MarshalBinary() ([]byte, error) {
	n := 1 + 3*binary.MaxVarintLen64 + len(e.SourceID) + len(e.MessageID) + len(e.Type) + 8 + len(e.Message)
	return e.AppendBinary(make([]byte, 0, n))
}

// AppendBinary appends the encoding of e (see MarshalBinary) to b.
func (e *Event) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, eventFormat)
	for _, s := range []string{e.SourceID, e.MessageID, e.Type} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(e.ReceivedAt.UnixNano()))
	return append(b, e.Message...), nil
}

// UnmarshalBinary decodes what MarshalBinary wrote. Seq is left as it is.
// Message aliases data.
func (e *Event) UnmarshalBinary(data []byte) error {
	if len(data) < 1 || data[0] != eventFormat {
		return ErrCorruptEvent
	}
	data = data[1:]
	var fields [3]string
	for i := range fields {
		n, k := binary.Uvarint(data)
		if k <= 0 || uint64(len(data)-k) < n {
			return ErrCorruptEvent
		}
		fields[i] = string(data[k : k+int(n)])
		data = data[k+int(n):]
	}
	if len(data) < 8 {
		return ErrCorruptEvent
	}
	e.SourceID, e.MessageID, e.Type = fields[0], fields[1], fields[2]
	e.ReceivedAt = time.Unix(0, int64(binary.BigEndian.Uint64(data))).UTC()
	e.Message = data[8:]
	return nil
}
