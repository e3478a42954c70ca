package profile

import (
	"bytes"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
)

// update is what one event contributes to a profile, read once from its
// message. Byte slices alias the message or the decoder's buffers and are
// valid until the decoder reads the next event.
type update struct {
	seq       uint64
	time      int64 // event time, µs since the Unix epoch (see micros)
	typ       ref
	source    ref    // zero when the event has no source
	event     ref    // track: the event name; zero otherwise
	name      []byte // page and screen: the name as a JSON string, or nil
	traits    []kv   // user traits, sorted by name, one per name
	groupID   string // group: the account's ID; "" otherwise
	group     []kv   // group: the account traits, sorted by name, one per name
	sourceID  string
	messageID string
}

// kv is one trait as an event sets it.
type kv struct {
	name  ref
	value []byte // the JSON value, verbatim
	// derived marks a trait read from the event's context (see
	// contextDerived) rather than sent as a trait; same, set while the
	// event is applied, that the profile already had that value.
	derived, same bool
}

// decoder reads events into updates, reusing its buffers.
type decoder struct {
	u   update
	esc []byte // copies of values that had to be made valid UTF-8
}

// decode reads ev into d.u. A message that is not a JSON object is an error
// and leaves nothing to apply.
func (d *decoder) decode(ev *mosaic.Event) (*update, error) {
	u := &d.u
	*u = update{traits: u.traits[:0], group: u.group[:0], seq: ev.Seq,
		sourceID: ev.SourceID, messageID: ev.MessageID}
	d.esc = d.esc[:0]
	f, err := readFields(ev.Message)
	if err != nil {
		return nil, err
	}
	typ := ev.Type
	if typ == "" {
		typ, _ = stringValue(f.typ)
	}
	u.typ = refString(typ)
	if ev.SourceID != "" {
		u.source = refString(ev.SourceID)
	}
	u.time = eventTime(f.timestamp, ev.ReceivedAt)
	switch typ {
	case mosaic.TypeTrack:
		if e, ok := stringBytes(f.event); ok && len(e) > 0 {
			u.event = refOf(e)
		}
	case mosaic.TypePage, mosaic.TypeScreen:
		if len(f.name) > 0 && f.name[0] == '"' {
			u.name = f.name
		}
	case mosaic.TypeGroup:
		u.groupID = groupID(f.groupID)
		if u.groupID != "" {
			u.group = d.traitList(u.group, f.traits)
		}
	}
	// Derived traits come first, so a trait of the same name that the
	// client sent wins.
	var ctxTraits []byte
	u.traits, ctxTraits = d.contextDerived(u.traits, f.ctx)
	u.traits = d.traitList(u.traits, ctxTraits)
	if typ == mosaic.TypeIdentify {
		// The call's own traits win over context.traits: they come after.
		u.traits = d.traitList(u.traits, f.traits)
	}
	return u, nil
}

// fields holds the raw spans of the message members a profile reads.
type fields struct {
	typ       []byte
	event     []byte
	name      []byte
	timestamp []byte
	groupID   []byte
	traits    []byte
	ctx       []byte // context
}

// readFields finds the members a profile reads in message. Like any JSON
// reader, it takes the last of repeated keys.
func readFields(message []byte) (fields, error) {
	var f fields
	m := members{b: message}
	if !m.open() {
		return f, errSyntax
	}
	for m.next() {
		switch {
		case m.keyIs("type"):
			f.typ = m.val
		case m.keyIs("event"):
			f.event = m.val
		case m.keyIs("name"):
			f.name = m.val
		case m.keyIs("timestamp"):
			f.timestamp = m.val
		case m.keyIs("groupId"):
			f.groupID = m.val
		case m.keyIs("traits"):
			f.traits = m.val
		case m.keyIs("context"):
			f.ctx = m.val
		}
	}
	if m.err != nil || ws(message, m.i) != len(message) {
		return f, errSyntax
	}
	return f, nil
}

// traitList adds the members of the traits object obj to kvs and returns
// kvs sorted by name with one value per name, the last added winning. obj
// may be nil or not an object, which adds nothing (a "traits": null sets
// no trait).
func (d *decoder) traitList(kvs []kv, obj []byte) []kv {
	m := members{b: obj, depth: 1}
	if len(obj) > 0 && obj[0] == '{' && m.open() {
		for m.next() {
			name := m.key
			if m.esc {
				name = []byte(unescape(m.key))
			}
			if !utf8.Valid(name) {
				name = bytes.ToValidUTF8(name, []byte("\uFFFD"))
			}
			kvs = append(kvs, kv{name: refOf(name), value: d.verbatim(m.val)})
		}
	}
	slices.SortStableFunc(kvs, func(a, b kv) int { return compareRef(a.name, b.name) })
	// Keep the last of each run of equal names.
	out := kvs[:0]
	for i := range kvs {
		if i+1 < len(kvs) && compareRef(kvs[i].name, kvs[i+1].name) == 0 {
			continue
		}
		out = append(out, kvs[i])
	}
	return out
}

// Derived traits: where the customer was last seen from, read from the
// context that enrichment (package clean) or a mobile SDK filled in, so
// that audiences can select on them ("last_device_type" = "mobile").
var derivedTraits = []struct{ object, field, trait string }{
	{"browser", "name", "last_browser"},
	{"os", "name", "last_os"},
	{"device", "type", "last_device_type"},
	{"location", "country", "last_country"},
	{"location", "city", "last_city"},
}

// contextDerived appends the derived traits of the context object ctx to
// kvs (string values only, unsorted: traitList sorts) and returns its
// "traits" member too (nil if none), in one pass over the context.
func (d *decoder) contextDerived(kvs []kv, ctx []byte) ([]kv, []byte) {
	var traits []byte
	m := members{b: ctx, depth: 1}
	if len(ctx) == 0 || ctx[0] != '{' || !m.open() {
		return kvs, nil
	}
	for m.next() {
		if m.keyIs("traits") {
			traits = m.val // the last, as any JSON reader takes it
			continue
		}
		if len(m.val) == 0 || m.val[0] != '{' {
			continue
		}
		for _, dt := range derivedTraits {
			if !m.keyIs(dt.object) {
				continue
			}
			inner := members{b: m.val, depth: 2}
			if !inner.open() {
				continue
			}
			for inner.next() {
				if inner.keyIs(dt.field) && len(inner.val) > 2 && inner.val[0] == '"' {
					kvs = append(kvs, kv{name: refString(dt.trait), value: d.verbatim(inner.val), derived: true})
				}
			}
		}
	}
	return kvs, traits
}

// verbatim returns v, made valid UTF-8 if it is not (the collector refuses
// such messages; other writers might not), so a trait value always
// re-encodes.
func (d *decoder) verbatim(v []byte) []byte {
	if utf8.Valid(v) {
		return v
	}
	start := len(d.esc)
	d.esc = append(d.esc, bytes.ToValidUTF8(v, []byte("\uFFFD"))...)
	return d.esc[start:len(d.esc):len(d.esc)]
}

// groupID returns a group call's groupId: a string, or a number's literal
// text (some SDKs send numbers).
func groupID(v []byte) string {
	if s, ok := stringValue(v); ok {
		return s
	}
	if len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
		return string(v)
	}
	return ""
}

// eventTime returns the event time in µs: the message's timestamp, or
// receivedAt when it has none or it does not parse.
func eventTime(ts []byte, receivedAt time.Time) int64 {
	if len(ts) >= 2 && ts[0] == '"' {
		if t, ok := parseTime(ts[1 : len(ts)-1]); ok {
			return micros(t)
		}
	}
	return micros(receivedAt)
}

// timeLayouts are the date-time forms messages carry: the collector writes
// RFC 3339 in UTC; imported messages may use the other ISO-8601 forms SDKs
// send.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

func parseTime(b []byte) (time.Time, bool) {
	s := string(b)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Event times are kept to the microsecond: SDK clocks are coarser,
// PostgreSQL keeps no more, and an int64 of µs covers the years 1 to 9999
// that messages may carry and JSON can show, which nanoseconds do not.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// micros returns t in µs since the Unix epoch, clamped to the years 1 to
// 9999.
func micros(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		t = minTime
	case t.After(maxTime):
		t = maxTime
	}
	return t.Unix()*1e6 + int64(t.Nanosecond()/1e3)
}

// validMicros reports whether us is a time micros can return.
func validMicros(us int64) bool {
	return us >= micros(minTime) && us <= micros(maxTime)
}

// fromMicros is the inverse of micros, in UTC.
func fromMicros(us int64) time.Time {
	sec, rem := us/1e6, us%1e6
	if rem < 0 {
		sec, rem = sec-1, rem+1e6
	}
	return time.Unix(sec, rem*1e3).UTC()
}
