package imports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// builder turns rows into Segment messages.
type builder struct {
	sourceID string
	mapping  *Mapping
	fields   []compiledField
	importID string
	file     string

	traits, props, ctxTraits, ctx map[string]any
}

// build appends the message of row rec (line, row number n) to dst. A
// *rowError says which column is wrong; nothing is appended then.
func (b *builder) build(dst []byte, rec record, line, n int) ([]byte, *rowError) {
	msg := map[string]any{}
	clear(b.traits)
	clear(b.props)
	clear(b.ctxTraits)
	clear(b.ctx)
	typ := mosaic.TypeIdentify
	if b.mapping.Event != "" {
		typ = mosaic.TypeTrack
		msg["event"] = b.mapping.Event
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
		if err := b.set(msg, f, v); err != "" {
			return dst, &rowError{line: line, column: f.Column, reason: err, raw: rec.text()}
		}
	}
	if _, ok := msg["event"]; typ == mosaic.TypeIdentify && ok {
		typ = mosaic.TypeTrack
	}
	msg["type"] = typ
	if typ == mosaic.TypeTrack {
		setObj(msg, "properties", b.props)
		for k, v := range b.traits {
			b.ctxTraits[k] = v
		}
	} else {
		for k, v := range b.props {
			b.traits[k] = v
		}
		setObj(msg, "traits", b.traits)
	}
	if len(b.ctxTraits) > 0 {
		b.ctx["traits"] = b.ctxTraits
	}
	b.ctx["library"] = map[string]any{"name": "mosaic-import"}
	b.ctx["import"] = map[string]any{"id": b.importID, "file": b.file, "row": n, "line": line}
	msg["context"] = b.ctx
	if _, ok := msg["messageId"]; !ok {
		msg["messageId"] = b.messageID(rec, msg)
	}
	out, err := json.Marshal(msg)
	if err != nil {
		return dst, &rowError{line: line, reason: "the row cannot be encoded: " + err.Error(), raw: rec.text()}
	}
	return append(dst, out...), nil
}

func setObj(msg map[string]any, key string, m map[string]any) {
	if len(m) > 0 {
		msg[key] = m
	}
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
func (b *builder) set(msg map[string]any, f *compiledField, v any) string {
	switch f.kind {
	case tUserID:
		msg["userId"] = idText(v)
	case tAnonymousID:
		msg["anonymousId"] = idText(v)
	case tMessageID:
		msg["messageId"] = idText(v)
	case tEvent:
		msg["event"] = idText(v)
	case tTimestamp:
		t, _, ok := clean.Time(idText(v))
		if !ok {
			return fmt.Sprintf("%q is not a date or time (write e.g. 2024-05-01T12:00:00Z or 01-05-2024)", idText(v))
		}
		msg["timestamp"] = clean.FormatTime(t, false)
	case tRevenue:
		n, ok := number(v)
		if !ok {
			return fmt.Sprintf("%q is not an amount (write e.g. 12.50 or 12,50)", idText(v))
		}
		b.props["revenue"] = n
	case tIdentifier:
		b.traits[f.name] = v
	case tTrait:
		b.traits[f.name] = v
	case tProperty:
		b.props[f.name] = v
	case tContext:
		b.ctx[f.name] = v
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
// file again makes the same ids and the dedupe stage drops them.
func (b *builder) messageID(rec record, msg map[string]any) string {
	h := sha256.New()
	h.Write([]byte(b.sourceID))
	h.Write([]byte{0})
	if b.mapping.Key != "" {
		v, _ := rec.value(b.mapping.Key)
		h.Write([]byte("key\x00" + b.mapping.Event + "\x00" + idText(v)))
	} else {
		content := map[string]any{}
		for k, v := range msg {
			if k != "context" {
				content[k] = v
			}
		}
		content["ctx"] = b.ctxTraits
		enc, _ := json.Marshal(content) // map keys are sorted: stable
		h.Write(enc)
	}
	return "imp-" + hex.EncodeToString(h.Sum(nil)[:16])
}
