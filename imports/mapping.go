package imports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mosaic-cdp/mosaic"
	"github.com/mosaic-cdp/mosaic/clean"
)

// Field is one mapping: the Mosaic field on the left, the file's column on
// the right.
type Field struct {
	Target string `json:"target"`
	Column string `json:"column"`
}

// Mapping says how a file's rows become messages. It can be saved per
// source and reused.
type Mapping struct {
	Fields []Field `json:"fields"`
	// Event makes each row a track call with this name; empty: identify.
	Event string `json:"event,omitempty"`
	// Key is the column that identifies a row (a customer or order
	// number); its value makes the messageId. Empty: the row's content.
	Key string `json:"key,omitempty"`
}

// ParseFields reads "user_id=Klantnummer,email=E-mail,first_name=Voornaam".
// A column name containing a comma is written with a backslash: "a\,b".
func ParseFields(s string) ([]Field, error) {
	var out []Field
	for _, part := range splitUnescaped(s, ',') {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		target, column, ok := strings.Cut(part, "=")
		target, column = strings.TrimSpace(target), strings.TrimSpace(column)
		if !ok || target == "" || column == "" {
			return nil, mosaic.Errorf(mosaic.EINVALID,
				"Mapping %q is not field=column; write e.g. user_id=Klantnummer,email=E-mail.", part)
		}
		out = append(out, Field{Target: target, Column: column})
	}
	return out, nil
}

func splitUnescaped(s string, sep byte) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == sep:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(parts, cur.String())
}

// String writes the fields back in the form ParseFields reads.
func (m *Mapping) String() string {
	parts := make([]string, len(m.Fields))
	for i, f := range m.Fields {
		parts[i] = f.Target + "=" + strings.ReplaceAll(f.Column, ",", `\,`)
	}
	return strings.Join(parts, ",")
}

// target kinds.
const (
	tUserID = iota + 1
	tAnonymousID
	tMessageID
	tTimestamp
	tEvent
	tRevenue
	tIdentifier // email, phone: traits of identify, context.traits of track
	tTrait      // traits.x
	tProperty   // properties.x
	tContext    // context.x
)

type compiledField struct {
	Field
	kind int
	name string // the key inside traits, properties or context
}

// compile checks the mapping and resolves each target.
func (m *Mapping) compile(columns []string) ([]compiledField, error) {
	if len(m.Fields) == 0 {
		return nil, mosaic.Errorf(mosaic.EINVALID,
			"The import has no mapping. Give one, e.g. --map 'user_id=Klantnummer,email=E-mail', or save one for the source.")
	}
	known := map[string]bool{}
	for _, c := range columns {
		known[c] = true
	}
	var out []compiledField
	hasID := false
	for _, f := range m.Fields {
		cf := compiledField{Field: f}
		switch t := f.Target; {
		case t == "user_id" || t == "userId":
			cf.kind, hasID = tUserID, true
		case t == "anonymous_id" || t == "anonymousId":
			cf.kind, hasID = tAnonymousID, true
		case t == "message_id" || t == "messageId":
			cf.kind = tMessageID
		case t == "timestamp":
			cf.kind = tTimestamp
		case t == "event":
			cf.kind = tEvent
		case t == "revenue" && m.Event != "":
			cf.kind, cf.name = tRevenue, "revenue"
		case t == "email" || t == "phone":
			cf.kind, cf.name = tIdentifier, t
		case strings.HasPrefix(t, "traits."):
			cf.kind, cf.name = tTrait, strings.TrimPrefix(t, "traits.")
		case strings.HasPrefix(t, "properties."):
			cf.kind, cf.name = tProperty, strings.TrimPrefix(t, "properties.")
		case strings.HasPrefix(t, "context."):
			cf.kind, cf.name = tContext, strings.TrimPrefix(t, "context.")
		case m.Event != "":
			cf.kind, cf.name = tProperty, t
		default:
			cf.kind, cf.name = tTrait, t
		}
		if columns != nil && !known[f.Column] {
			return nil, mosaic.Errorf(mosaic.EINVALID,
				"The mapping names column %q, which the file's header does not have. The columns are: %s.",
				f.Column, strings.Join(columns, ", "))
		}
		out = append(out, cf)
	}
	if !hasID {
		return nil, mosaic.Errorf(mosaic.EINVALID,
			"The mapping needs user_id or anonymous_id (the column that identifies the customer), e.g. user_id=Klantnummer.")
	}
	if m.Key != "" && columns != nil && !known[m.Key] {
		return nil, mosaic.Errorf(mosaic.EINVALID, "The key column %q is not in the file's header.", m.Key)
	}
	return out, nil
}

// builder turns rows into Segment messages. It writes each row's message
// straight from the row's fields in the order encoding/json writes maps
// (keys sorted), which the map of maps per row it built before wrote:
// messages and content-derived messageIds stay byte for byte as they were
// (a test and FuzzBuild hold it to that reference), without the maps.
type builder struct {
	sourceID string
	mapping  *Mapping
	fields   []compiledField
	importID string
	file     string

	traits, props, ctxTraits, ctx fieldSet
	importPrefix                  []byte // context.import up to the line number
	scratch                       []byte // the content a messageId is derived from
}

// top is a row's top-level fields other than its objects.
type top struct {
	userID, anonymousID, messageID, timestamp, event string
	has                                              [5]bool // in that order
}

const (
	hasUserID = iota
	hasAnonymousID
	hasMessageID
	hasTimestamp
	hasEvent
)

func (t *top) set(i int, v string) {
	t.has[i] = true
	switch i {
	case hasUserID:
		t.userID = v
	case hasAnonymousID:
		t.anonymousID = v
	case hasMessageID:
		t.messageID = v
	case hasTimestamp:
		t.timestamp = v
	case hasEvent:
		t.event = v
	}
}

// fieldSet is a small object built key by key, a later value replacing an
// earlier one of the same key, as in a map.
type fieldSet []keyValue

type keyValue struct {
	key string
	val any
}

func (s *fieldSet) set(key string, v any) {
	for i := range *s {
		if (*s)[i].key == key {
			(*s)[i].val = v
			return
		}
	}
	*s = append(*s, keyValue{key, v})
}

// build appends the message of row rec (line, row number n) to dst. A
// *rowError says which column is wrong; nothing is appended then.
func (b *builder) build(dst []byte, rec record, line, n int) ([]byte, *rowError) {
	var t top
	b.traits, b.props, b.ctxTraits, b.ctx = b.traits[:0], b.props[:0], b.ctxTraits[:0], b.ctx[:0]
	typ := mosaic.TypeIdentify
	if b.mapping.Event != "" {
		typ = mosaic.TypeTrack
		t.set(hasEvent, b.mapping.Event)
	}
	for i := range b.fields {
		f := &b.fields[i]
		v, ok := rec.value(f.Column)
		if !ok {
			return dst, &rowError{line: line, column: f.Column, reason: "the row has no value for this column", raw: rec.text()}
		}
		if isEmpty(v) {
			continue
		}
		if err := b.set(&t, f, v); err != "" {
			return dst, &rowError{line: line, column: f.Column, reason: err, raw: rec.text()}
		}
	}
	if typ == mosaic.TypeIdentify && t.has[hasEvent] {
		typ = mosaic.TypeTrack
	}
	var traits, props fieldSet
	if typ == mosaic.TypeTrack {
		props = b.props
		for _, kv := range b.traits {
			b.ctxTraits.set(kv.key, kv.val)
		}
	} else {
		for _, kv := range b.props {
			b.traits.set(kv.key, kv.val)
		}
		traits = b.traits
	}
	if len(b.ctxTraits) > 0 {
		b.ctx.set("traits", b.ctxTraits)
	}
	b.ctx.set("library", libraryJSON)
	b.ctx.set("import", b.importJSON(line, n))
	if !t.has[hasMessageID] {
		t.set(hasMessageID, b.messageID(rec, &t, typ, traits, props))
	}
	return b.write(dst, &t, typ, traits, props), nil
}

// write appends the message, its members in sorted order as encoding/json
// writes a map: anonymousId, context, event, messageId, properties,
// timestamp, traits, type, userId.
func (b *builder) write(dst []byte, t *top, typ string, traits, props fieldSet) []byte {
	dst = append(dst, '{')
	sep := false
	dst = member(dst, &sep, t.has[hasAnonymousID], "anonymousId", t.anonymousID)
	dst = appendFieldSet(appendKey(dst, &sep, "context"), b.ctx)
	dst = member(dst, &sep, t.has[hasEvent], "event", t.event)
	dst = member(dst, &sep, t.has[hasMessageID], "messageId", t.messageID)
	if len(props) > 0 {
		dst = appendFieldSet(appendKey(dst, &sep, "properties"), props)
	}
	dst = member(dst, &sep, t.has[hasTimestamp], "timestamp", t.timestamp)
	if len(traits) > 0 {
		dst = appendFieldSet(appendKey(dst, &sep, "traits"), traits)
	}
	dst = member(dst, &sep, true, "type", typ)
	dst = member(dst, &sep, t.has[hasUserID], "userId", t.userID)
	return append(dst, '}')
}

// member appends "key":"v" if has.
func member(dst []byte, sep *bool, has bool, key, v string) []byte {
	if !has {
		return dst
	}
	return appendJSONString(appendKey(dst, sep, key), v)
}

// appendKey appends a separator if one is due and "key":.
func appendKey(dst []byte, sep *bool, key string) []byte {
	if *sep {
		dst = append(dst, ',')
	}
	*sep = true
	return append(appendJSONString(dst, key), ':')
}

// appendFieldSet appends s as an object with its keys sorted, as
// appendJSON writes a map. It sorts s.
func appendFieldSet(dst []byte, s fieldSet) []byte {
	slices.SortFunc(s, func(a, b keyValue) int { return strings.Compare(a.key, b.key) })
	dst = append(dst, '{')
	for i, kv := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, kv.key)
		dst = append(dst, ':')
		dst = appendJSON(dst, kv.val)
	}
	return append(dst, '}')
}

// libraryJSON is context.library of every imported message.
var libraryJSON = json.RawMessage(`{"name":"mosaic-import"}`)

// importJSON returns context.import, {"file":…,"id":…,"line":…,"row":…},
// as appendJSON writes such a map, written directly: the two maps per row
// it took were a tenth of reading a file.
func (b *builder) importJSON(line, n int) json.RawMessage {
	if b.importPrefix == nil {
		b.importPrefix = append(appendJSONString(append([]byte(nil), `{"file":`...), b.file), `,"id":`...)
		b.importPrefix = append(appendJSONString(b.importPrefix, b.importID), `,"line":`...)
	}
	out := append(make([]byte, 0, len(b.importPrefix)+32), b.importPrefix...)
	out = strconv.AppendInt(out, int64(line), 10)
	out = append(out, `,"row":`...)
	out = strconv.AppendInt(out, int64(n), 10)
	return append(out, '}')
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(v) == ""
	}
	return false
}

// set puts one column's value where the mapping says; it returns a reason
// when the value cannot be used.
func (b *builder) set(t *top, f *compiledField, v any) string {
	switch f.kind {
	case tUserID:
		t.set(hasUserID, idText(v))
	case tAnonymousID:
		t.set(hasAnonymousID, idText(v))
	case tMessageID:
		t.set(hasMessageID, idText(v))
	case tEvent:
		t.set(hasEvent, idText(v))
	case tTimestamp:
		tm, _, ok := clean.Time(idText(v))
		if !ok {
			return fmt.Sprintf("%q is not a date or time (write e.g. 2024-05-01T12:00:00Z or 01-05-2024)", idText(v))
		}
		t.set(hasTimestamp, clean.FormatTime(tm, false))
	case tRevenue:
		n, ok := number(v)
		if !ok {
			return fmt.Sprintf("%q is not an amount (write e.g. 12.50 or 12,50)", idText(v))
		}
		b.props.set("revenue", n)
	case tIdentifier, tTrait:
		b.traits.set(f.name, v)
	case tProperty:
		b.props.set(f.name, v)
	case tContext:
		b.ctx.set(f.name, v)
	}
	return ""
}

// idText turns a value used as an id or a name into text.
func idText(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(v.String(), 64)
		return f, err == nil
	case string:
		return clean.Number(v)
	}
	return 0, false
}

// messageID derives the row's messageId from the source and the key
// column's value, or from the message's content, so importing the same
// file again makes the same ids and the dedupe stage drops them. The
// content is what encoding/json wrote of the message's map without its
// context and with context.traits as "ctx".
func (b *builder) messageID(rec record, t *top, typ string, traits, props fieldSet) string {
	h := sha256.New()
	h.Write([]byte(b.sourceID))
	h.Write([]byte{0})
	if b.mapping.Key != "" {
		v, _ := rec.value(b.mapping.Key)
		h.Write([]byte("key\x00" + b.mapping.Event + "\x00" + idText(v)))
	} else {
		c := append(b.scratch[:0], '{')
		sep := false
		c = member(c, &sep, t.has[hasAnonymousID], "anonymousId", t.anonymousID)
		c = appendFieldSet(appendKey(c, &sep, "ctx"), b.ctxTraits)
		c = member(c, &sep, t.has[hasEvent], "event", t.event)
		if len(props) > 0 {
			c = appendFieldSet(appendKey(c, &sep, "properties"), props)
		}
		c = member(c, &sep, t.has[hasTimestamp], "timestamp", t.timestamp)
		if len(traits) > 0 {
			c = appendFieldSet(appendKey(c, &sep, "traits"), traits)
		}
		c = member(c, &sep, true, "type", typ)
		c = member(c, &sep, t.has[hasUserID], "userId", t.userID)
		b.scratch = append(c, '}')
		h.Write(b.scratch)
	}
	var sum [sha256.Size]byte
	return "imp-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}
