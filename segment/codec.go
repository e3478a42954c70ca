package segment

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"
)

// Every event dirties its profile's state, and every checkpoint encodes the
// dirty states: the encoding is on the real-time path. It is a compact
// binary form, about ten times cheaper than JSON. States saved before it
// existed are JSON, which starts with '{'; the binary form starts with its
// version byte.
const stateV1 = 1

var errState = errors.New("truncated or malformed state")

// appendState appends p's binary form to b.
func (s *Segments) appendState(b []byte, p *pstate) []byte {
	b = append(b, stateV1)
	b = binary.AppendUvarint(b, uint64(len(p.traits)))
	for _, t := range p.traits {
		b = appendString(b, t.name)
		b = appendString(b, t.raw)
	}
	b = binary.AppendUvarint(b, uint64(len(p.events)))
	for _, l := range p.events {
		b = appendString(b, l.name)
		b = binary.AppendUvarint(b, uint64(len(l.items)))
		for _, it := range l.items {
			b = appendTime(b, it.At)
			b = binary.AppendUvarint(b, it.Seq)
			b = binary.AppendUvarint(b, uint64(len(it.Props)))
			b = append(b, it.Props...)
		}
	}
	if p.Consent == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(p.Consent)))
		for k, v := range p.Consent {
			b = appendString(b, k)
			b = appendBool(b, v)
		}
		b = appendTime(b, p.ConsentAt)
		b = binary.AppendUvarint(b, p.ConsentSeq)
	}
	b = s.appendTimes(b, p.member)
	return s.appendTimes(b, p.next)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendTime keeps the instant (seconds and nanoseconds), not the zone:
// conditions compare instants, and states come back in UTC.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// appendTimes writes memberships or timers by audience ID: slots only
// live in memory.
func (s *Segments) appendTimes(b []byte, m slotTimes) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, e := range m {
		b = append(b, s.slotEnc[e.slot]...)
		if e.sec == zeroSec && e.nsec == 0 {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendVarint(b, e.sec)
		b = binary.AppendUvarint(b, uint64(e.nsec))
	}
	return b
}

// zeroSec is the zero time.Time's Unix seconds.
var zeroSec = time.Time{}.Unix()

// decodeState reads a state in either form. The binary form's strings and
// properties share one copy of data.
func (s *Segments) decodeState(data []byte) (*pstate, error) {
	p := &pstate{}
	if len(data) > 0 && data[0] == '{' {
		js := jsonState{pstate: p}
		if err := json.Unmarshal(data, &js); err != nil {
			return nil, err
		}
		for _, name := range sortedKeys(js.Traits) {
			if t := js.Traits[name]; t != nil {
				p.traits = append(p.traits, newTrait(s.intern(name), t.Raw))
			}
		}
		for _, name := range sortedKeys(js.Events) {
			p.events.set(name, js.Events[name])
		}
		p.member, p.next = s.timesFromID(js.Member), s.timesFromID(js.Next)
		return p, nil
	}
	if len(data) == 0 || data[0] != stateV1 {
		return nil, errState
	}
	d := &decoder{b: append([]byte(nil), data[1:]...)}
	if n := d.count(); n > 0 {
		p.traits = make([]trait, 0, n)
		for range n {
			name := s.intern(d.str())
			p.traits = append(p.traits, newTrait(name, d.str()))
		}
	}
	if n := d.count(); n > 0 {
		p.events = make(eventLists, 0, n)
		for range n {
			name := d.str()
			list := make([]item, d.count())
			for i := range list {
				list[i] = item{At: d.time(), Seq: d.uvarint()}
				if props := d.bytes(); len(props) > 0 {
					list[i].Props = props
				}
			}
			p.events.set(name, list)
		}
	}
	if d.byte() == 1 {
		n := d.count()
		p.Consent = make(map[string]bool, n)
		for range n {
			k := d.str()
			p.Consent[k] = d.byte() == 1
		}
		p.ConsentAt, p.ConsentSeq = d.time(), d.uvarint()
	}
	p.member, p.next = s.decodeTimes(d), s.decodeTimes(d)
	if d.err != nil || len(d.b) > 0 {
		return nil, errState
	}
	return p, nil
}

// decoder reads the binary form; the first error sticks and reads then
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length, bounded by what is left so that a corrupt one
// cannot make a huge allocation.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.count()
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.bytes()) }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) time() time.Time {
	if d.byte() != 1 {
		return time.Time{}
	}
	sec := d.varint()
	return time.Unix(sec, int64(d.uvarint())).UTC()
}

func (s *Segments) decodeTimes(d *decoder) slotTimes {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(slotTimes, 0, n)
	for range n {
		k := d.str()
		if d.err != nil {
			return nil // a corrupt ID must not be given a slot
		}
		m.set(s.slotOf(k), d.time())
	}
	return m
}

// jsonState is the JSON form states were saved in before the binary one,
// with memberships and timers by audience ID.
type jsonState struct {
	*pstate
	Events map[string][]item     `json:"e,omitempty"`
	Traits map[string]*jsonTrait `json:"t,omitempty"`
	Member map[string]time.Time  `json:"m,omitempty"`
	Next   map[string]time.Time  `json:"n,omitempty"`
}

// jsonTrait is a trait value in the JSON form.
type jsonTrait struct {
	Raw string `json:"r"`
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errState
	}
	d.b = nil
}
