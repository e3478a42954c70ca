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
	// readContext) rather than sent as a trait; same, set while the
	// event is applied, that the profile already had that value.
	derived, same bool
}

// decoder reads events into updates, reusing its buffers.
type decoder struct {
	u       update
	env     Envelope     // of the message u was read from (see Set.Applied)
	esc     []byte       // copies of values that had to be made valid UTF-8
	derived []derivedHit // the context's derived trait values (see readContext)
	refs    [len(derivedTraits)]ref
}

// derivedHit is a derived trait's value: derivedTraits[trait], and the raw
// JSON string.
type derivedHit struct {
	trait int
	value []byte
}

// decode reads ev into d.u. A message that is not a JSON object is an error
// and leaves nothing to apply.
func (d *decoder) decode(ev *mosaic.Event) (*update, error) {
	u := &d.u
	*u = update{traits: u.traits[:0], group: u.group[:0], seq: ev.Seq,
		sourceID: ev.SourceID, messageID: ev.MessageID}
	d.esc = d.esc[:0]
	f, err := d.readFields(ev.Message)
	if err != nil {
		return nil, err
	}
	u.time, d.env.Stamped = readTime(f.timestamp, ev.ReceivedAt)
	d.env.Type, d.env.Event, d.env.Timestamp = f.typ, f.event, f.timestamp
	typ := ev.Type
	if typ == "" {
		typ, _ = stringValue(f.typ)
	}
	u.typ = refString(typ)
	if ev.SourceID != "" {
		u.source = refString(ev.SourceID)
	}
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
			u.group = oneByName(d.appendTraits(u.group, f.traits))
		}
	}
	// Derived traits come first, so a trait of the same name that the
	// client sent wins.
	// In name order, which spares oneByName its sort for the events that
	// set no other traits, most of them.
	slices.SortStableFunc(d.derived, func(a, b derivedHit) int { return derivedRank[a.trait] - derivedRank[b.trait] })
	for _, h := range d.derived {
		u.traits = append(u.traits, kv{name: d.derivedRef(h.trait), value: d.verbatim(h.value), derived: true})
	}
	u.traits = d.appendTraits(u.traits, f.ctxTraits)
	if typ == mosaic.TypeIdentify {
		// The call's own traits win over context.traits: they come after.
		u.traits = d.appendTraits(u.traits, f.traits)
	}
	u.traits = oneByName(u.traits)
	return u, nil
}

// derivedRef returns the name of derivedTraits[i], interned once.
func (d *decoder) derivedRef(i int) ref {
	if d.refs[i] == (ref{}) {
		d.refs[i] = refString(derivedTraits[i].trait)
	}
	return d.refs[i]
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
	ctxTraits []byte // context.traits
}

// readFields finds the members a profile reads in message, and the
// derived traits of its context into d.derived, in one pass that checks
// the grammar of the whole message. Like any JSON reader, it takes the last
// of repeated keys.
func (d *decoder) readFields(message []byte) (fields, error) {
	var f fields
	d.derived = d.derived[:0]
	d.env = Envelope{Plain: true}
	var seen envelopeMembers
	m := members{b: message}
	if !m.open() {
		return f, errSyntax
	}
	for m.nextKey() {
		key := m.key
		if m.esc {
			key = []byte(unescape(key))
			d.env.Plain = false
		}
		if string(key) != "context" && !m.value() {
			break
		}
		switch string(key) {
		case "type":
			f.typ = m.val
			d.env.Plain = seen.first(memberType) && d.env.Plain
		case "event":
			f.event = m.val
			d.env.Plain = seen.first(memberEvent) && d.env.Plain
		case "name":
			f.name = m.val
		case "timestamp":
			f.timestamp = m.val
			d.env.Plain = seen.first(memberTimestamp) && d.env.Plain
		case "groupId":
			f.groupID = m.val
		case "traits":
			f.traits = m.val
		case "context":
			// The last context counts, as in any JSON reader.
			d.derived = d.derived[:0]
			d.env.Timezone = nil
			d.env.Plain = seen.first(memberContext) && d.env.Plain
			end, traits, err := d.readContext(message, m.i)
			if m.endValue(end, err) {
				f.ctx, f.ctxTraits = m.val, traits
				d.env.Plain = d.env.Plain && (m.val[0] == '{' || string(m.val) == "null")
			}
		default:
			d.env.Plain = d.env.Plain && !foldsToEnvelope(key)
		}
	}
	if m.err != nil || ws(message, m.i) != len(message) {
		return f, errSyntax
	}
	return f, nil
}

// appendTraits appends the members of the traits object obj to kvs. obj
// may be nil or not an object, which adds nothing (a "traits": null sets
// no trait).
func (d *decoder) appendTraits(kvs []kv, obj []byte) []kv {
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
	return kvs
}

// oneByName returns kvs sorted by name with one value per name, the last
// added winning. Sorting once, after all of an event's traits are added,
// gives what sorting after each source of them would.
func oneByName(kvs []kv) []kv {
	sorted := true
	for i := 1; i < len(kvs) && sorted; i++ {
		sorted = compareRef(kvs[i-1].name, kvs[i].name) < 0
	}
	if sorted {
		return kvs
	}
	slices.SortStableFunc(kvs, func(a, b kv) int { return compareRef(a.name, b.name) })
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
// that audiences can select on them ("last_device_type" = "mobile"). The
// traits of one object are next to each other: readDerived reads them in
// one pass over it.
var derivedTraits = [...]struct{ object, field, trait string }{
	{"browser", "name", "last_browser"},
	{"os", "name", "last_os"},
	{"device", "type", "last_device_type"},
	{"location", "country", "last_country"},
	{"location", "city", "last_city"},
}

// readContext steps over the value at b[i], the message's context, and
// returns its end and, if it is an object, its "traits" member (nil if
// none), with its derived trait values (string values only, in the order
// they come) appended to d.derived: one pass over the context for what
// readFields checks and what the profile reads.
func (d *decoder) readContext(b []byte, i int) (end int, traits []byte, err error) {
	if i >= len(b) || b[i] != '{' {
		end, err = skip(b, i, 1)
		return end, nil, err
	}
	m := members{b: b, i: i, depth: 1}
	if !m.open() {
		return 0, nil, errSyntax
	}
	for m.nextKey() {
		key := m.key
		if m.esc {
			key = []byte(unescape(key))
			d.env.Plain = false
		}
		first := -1 // the first of derivedTraits read from this member
		for k := range derivedTraits {
			if string(key) == derivedTraits[k].object {
				first = k
				break
			}
		}
		if first < 0 {
			if m.value() {
				switch string(key) {
				case "traits":
					traits = m.val // the last, as any JSON reader takes it
				case "timezone":
					d.env.Plain = d.env.Plain && d.env.Timezone == nil
					d.env.Timezone = m.val
				default:
					d.env.Plain = d.env.Plain && !foldsTo(key, "timezone")
				}
			}
			continue
		}
		if m.i < len(b) && b[m.i] == '{' {
			end, err := d.readDerived(b, m.i, first)
			m.endValue(end, err)
		} else {
			m.value()
		}
	}
	if m.err != nil {
		return 0, nil, m.err
	}
	return m.i, traits, nil
}

// readDerived steps over the object at b[i], a context member that holds
// derived traits from derivedTraits[first] on, and appends their values to
// d.derived.
func (d *decoder) readDerived(b []byte, i, first int) (int, error) {
	m := members{b: b, i: i, depth: 2}
	if !m.open() {
		return 0, errSyntax
	}
	object := derivedTraits[first].object
	for m.next() {
		for k := first; k < len(derivedTraits) && derivedTraits[k].object == object; k++ {
			if m.keyIs(derivedTraits[k].field) && len(m.val) > 2 && m.val[0] == '"' {
				d.derived = append(d.derived, derivedHit{trait: k, value: m.val})
			}
		}
	}
	return m.i, m.err
}

// derivedRank is the place of each of derivedTraits in the order of their
// names.
var derivedRank = func() (rank [len(derivedTraits)]int) {
	for i := range derivedTraits {
		for j := range derivedTraits {
			if derivedTraits[j].trait < derivedTraits[i].trait {
				rank[i]++
			}
		}
	}
	return rank
}()

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
	us, _ := readTime(ts, receivedAt)
	return us
}

// readTime is eventTime, also reporting whether the time is the timestamp
// read in RFC 3339 form, as time.Parse with time.RFC3339Nano reads it,
// within the years micros keeps (so not clamped): what observers that
// parse timestamps that way may take instead.
func readTime(ts []byte, receivedAt time.Time) (us int64, rfc3339 bool) {
	if len(ts) >= 2 && ts[0] == '"' {
		if us, ok := parseUTC(ts[1 : len(ts)-1]); ok {
			return us, unclamped(us)
		}
		if t, layout, ok := parseTime(ts[1 : len(ts)-1]); ok {
			us := micros(t)
			return us, layout == 0 && unclamped(us)
		}
	}
	return micros(receivedAt), false
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

// parseTime returns the time b holds and the index in timeLayouts of the
// layout that read it.
func parseTime(b []byte) (time.Time, int, bool) {
	s := string(b)
	for i, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, i, true
		}
	}
	return time.Time{}, 0, false
}

// parseUTC returns in µs the time b holds in the form the collector writes,
// RFC 3339 in UTC ("2006-01-02T15:04:05.999999999Z"), as time.Parse with
// time.RFC3339Nano reads it, and false for any other form, which parseTime
// then reads. It spares every event parseTime's string copy and layout
// dispatch.
func parseUTC(b []byte) (int64, bool) {
	if len(b) < len("2006-01-02T15:04:05Z") || b[len(b)-1] != 'Z' ||
		b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := decimal(b[0:4])
	month, ok2 := decimal(b[5:7])
	day, ok3 := decimal(b[8:10])
	hour, ok4 := decimal(b[11:13])
	minute, ok5 := decimal(b[14:16])
	sec, ok6 := decimal(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 ||
		day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if len(frac) < 2 || frac[0] != '.' {
			return 0, false
		}
		// time.Parse reads any number of digits and keeps the first 9.
		for i, c := range frac[1:] {
			if c < '0' || c > '9' {
				return 0, false
			}
			if i < 9 {
				nsec = nsec*10 + int(c-'0')
			}
		}
		for range 9 - min(len(frac)-1, 9) {
			nsec *= 10
		}
	}
	return micros(time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)), true
}

// decimal reads b, all digits, as a number.
func decimal(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn returns the number of days of a month of the proleptic Gregorian
// calendar, as time does.
func daysIn(month, year int) int {
	if month == 2 {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + (month+month/8)%2
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
