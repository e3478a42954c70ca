package profile

// The scanner and decoder as they were before the single-pass decoder, kept
// as the reference the differential tests hold the fast path to.

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unicode/utf8"

	"github.com/mosaic-cdp/mosaic"
)

const (
	oldOnes  = 0x0101010101010101
	oldHighs = 0x8080808080808080
)

// oldDecoder is decoder as it was.
type oldDecoder struct {
	u   update
	esc []byte
}

// ws returns the index of the first non-space byte of b at or after i.
func oldWs(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i // the common case, inlined
	}
	return oldWsSlow(b, i)
}

func oldWsSlow(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skip returns the index just past the JSON value that starts at b[i].
func oldSkip(b []byte, i, depth int) (int, error) {
	if i >= len(b) || depth > maxDepth {
		return 0, errSyntax
	}
	switch c := b[i]; {
	case c == '"':
		end, _, err := oldSkipString(b, i)
		return end, err
	case c == '{':
		return oldSkipObject(b, i, depth)
	case c == '[':
		return oldSkipArray(b, i, depth)
	case c == 't':
		return oldLiteral(b, i, "true")
	case c == 'f':
		return oldLiteral(b, i, "false")
	case c == 'n':
		return oldLiteral(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return oldSkipNumber(b, i)
	}
	return 0, errSyntax
}

func oldLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

// skipString returns the index past the string starting at b[i] == '"' and
// whether it contains escapes.
func oldSkipString(b []byte, i int) (end int, esc bool, err error) {
	for i++; i < len(b); i++ {
		// Step over 8 plain bytes at a time: most strings are plain ASCII
		// or UTF-8 with no quote, backslash or control character.
		for i+8 <= len(b) && !oldSpecial(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c < 0x20:
			return 0, false, errSyntax
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, false, errSyntax
			}
			i++
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 || !oldHex4(b[i+1:i+5]) {
					return 0, false, errSyntax
				}
				i += 4
			default:
				return 0, false, errSyntax
			}
		}
	}
	return 0, false, errSyntax
}

// special reports whether any of the 8 bytes in x is a control character,
// '"' or '\\' (the classic "has a byte less than n" and "has a zero byte"
// bit tricks; exact as to whether there is one).
func oldSpecial(x uint64) bool {
	quote, backslash := x^(oldOnes*'"'), x^(oldOnes*'\\')
	less := (x - oldOnes*0x20) & ^x
	return (less|(quote-oldOnes)&^quote|(backslash-oldOnes)&^backslash)&oldHighs != 0
}

func oldHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// skipNumber checks the RFC 8259 number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func oldSkipNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = oldDigits(b, i)
	default:
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		j := oldDigits(b, i+1)
		if j == i+1 {
			return 0, errSyntax
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := oldDigits(b, i)
		if j == i {
			return 0, errSyntax
		}
		i = j
	}
	return i, nil
}

func oldDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func oldSkipArray(b []byte, i, depth int) (int, error) {
	i = oldWs(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		end, err := oldSkip(b, i, depth+1)
		if err != nil {
			return 0, err
		}
		i = oldWs(b, end)
		if i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ',':
			i = oldWs(b, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, errSyntax
		}
	}
}

func oldSkipObject(b []byte, i, depth int) (int, error) {
	it := oldMembers{b: b, i: i, depth: depth}
	if !it.open() {
		return 0, errSyntax
	}
	for it.next() {
	}
	return it.i, it.err
}

// oldMembers reads a JSON object member by member.
type oldMembers struct {
	b     []byte
	i     int // next byte to read
	depth int
	n     int // oldMembers read
	err   error
	done  bool

	key []byte // the current member's key, raw (between the quotes)
	esc bool   // key has escapes: unescape before comparing
	val []byte // the current member's value, raw
}

// open starts reading the object at b[i], after any space.
func (m *oldMembers) open() bool {
	m.i = oldWs(m.b, m.i)
	if m.i >= len(m.b) || m.b[m.i] != '{' || m.depth > maxDepth {
		m.err = errSyntax
		return false
	}
	m.i = oldWs(m.b, m.i+1)
	if m.i < len(m.b) && m.b[m.i] == '}' {
		m.i++
		m.done = true
	}
	return true
}

// next reads the next member into key, esc and val. It returns false at the
// end of the object or on an error, which err then holds.
func (m *oldMembers) next() bool {
	if m.done || m.err != nil {
		return false
	}
	if m.n > 0 {
		if m.i >= len(m.b) || m.b[m.i] != ',' {
			return m.fail()
		}
		m.i = oldWs(m.b, m.i+1)
	}
	if m.i >= len(m.b) || m.b[m.i] != '"' {
		return m.fail()
	}
	kend, esc, err := oldSkipString(m.b, m.i)
	if err != nil {
		return m.fail()
	}
	m.key, m.esc = m.b[m.i+1:kend-1], esc
	m.i = oldWs(m.b, kend)
	if m.i >= len(m.b) || m.b[m.i] != ':' {
		return m.fail()
	}
	start := oldWs(m.b, m.i+1)
	end, err := oldSkip(m.b, start, m.depth+1)
	if err != nil {
		return m.fail()
	}
	m.val = m.b[start:end]
	m.n++
	m.i = oldWs(m.b, end)
	if m.i < len(m.b) && m.b[m.i] == '}' {
		m.i++
		m.done = true
	}
	return true
}

func (m *oldMembers) fail() bool {
	m.err = errSyntax
	return false
}

// keyIs reports whether the current key is name, unescaping if needed.
func (m *oldMembers) keyIs(name string) bool {
	if !m.esc {
		return string(m.key) == name
	}
	return unescape(m.key) == name
}

// decode reads ev into d.u. A message that is not a JSON object is an error
// and leaves nothing to apply.
func (d *oldDecoder) decode(ev *mosaic.Event) (*update, error) {
	u := &d.u
	*u = update{traits: u.traits[:0], group: u.group[:0], seq: ev.Seq,
		sourceID: ev.SourceID, messageID: ev.MessageID}
	d.esc = d.esc[:0]
	f, err := oldReadFields(ev.Message)
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

// readFields finds the oldMembers a profile reads in message. Like any JSON
// reader, it takes the last of repeated keys.
func oldReadFields(message []byte) (fields, error) {
	var f fields
	m := oldMembers{b: message}
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
	if m.err != nil || oldWs(message, m.i) != len(message) {
		return f, errSyntax
	}
	return f, nil
}

// traitList adds the oldMembers of the traits object obj to kvs and returns
// kvs sorted by name with one value per name, the last added winning. obj
// may be nil or not an object, which adds nothing (a "traits": null sets
// no trait).
func (d *oldDecoder) traitList(kvs []kv, obj []byte) []kv {
	m := oldMembers{b: obj, depth: 1}
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

// contextDerived appends the derived traits of the context object ctx to
// kvs (string values only, unsorted: traitList sorts) and returns its
// "traits" member too (nil if none), in one pass over the context.
func (d *oldDecoder) contextDerived(kvs []kv, ctx []byte) ([]kv, []byte) {
	var traits []byte
	m := oldMembers{b: ctx, depth: 1}
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
			inner := oldMembers{b: m.val, depth: 2}
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
func (d *oldDecoder) verbatim(v []byte) []byte {
	if utf8.Valid(v) {
		return v
	}
	start := len(d.esc)
	d.esc = append(d.esc, bytes.ToValidUTF8(v, []byte("\uFFFD"))...)
	return d.esc[start:len(d.esc):len(d.esc)]
}
